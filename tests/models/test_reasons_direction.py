"""Reasons cite only signals on their risk-raising side, never plan / MRR / seats, and name the tickets."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cxlens
from cxlens.models.explain import Explanation
from cxlens.models.reasons import account_reasons, peer_references, reason_evidence
from cxlens.models.signals import signal_for

ARCHIVE = Path(cxlens.__file__).parent / "data" / "example_archive"
#: reasons that would cite a signal in the risk-lowering direction
WRONG_WAY = [re.compile(p) for p in (
    r"NPS answer (9|10)(\.\d+)? of 10", r"CSAT (4|5)(\.\d+)? of 5", r"customer effort ([1-3](\.\d+)?|4(\.0+)?) of 7",
    r"\b0 tickets? open", r"\b0 first repl", r"\b0% of solved tickets reopened", r"raises risk", r"lowers risk",
)]
NEVER = {"plan", "mrr", "seats", "industry", "region", "tenure_days", "days_since_last_ticket"}


def _assert_risk_side(reason, peer_median: dict[str, float]) -> None:
    """The independent check: the value lies where the signal raises churn risk."""
    f, v = reason.feature, reason.value
    assert f not in NEVER, reason
    assert not any(p.search(reason.text) for p in WRONG_WAY), reason.text
    if f == "profile":
        assert "no warning sign" in reason.text and not re.search(r"\b(plan|mrr|seats)\b", str(v)), reason
        return
    assert signal_for(f) is not None, reason
    assert reason.contribution > 0, reason
    rules = {"csat_mean_180d": v < 4, "nps_mean_180d": v < 7, "ces_mean_180d": v > 4,
             "unresolved_tickets": v >= 1, "sla_breaches_90d": v >= 1, "reopened_share_90d": v > 0,
             "negative_sentiment_share_90d": v > 0, "sentiment_score_mean_90d": v < 0, "ticket_trend_30d": v > 0}
    if f in rules:
        assert rules[f], reason
    elif signal_for(f).direction < 0:  # usage: below the peers
        assert v < peer_median[f], reason
    else:
        assert v > peer_median[f], reason


def test_reasons_never_cite_a_good_value_even_when_the_model_says_so():
    features = pd.DataFrame({
        "nps_mean_180d": [10.0, 3.0, 9.0], "csat_mean_180d": [5.0, 1.0, 4.5], "ces_mean_180d": [1.0, 6.0, 2.0],
        "unresolved_tickets": [0.0, 2.0, 0.0], "logins_30d": [90.0, 2.0, 40.0],
        "plan": ["pro", "pro", "pro"], "mrr": [900.0, 30.0, 50.0], "seats": [40.0, 2.0, 5.0],
    }, index=pd.Index(["good", "bad", "fine"], name="account_id"))
    # a model gone wrong: every feature pushes every account's risk up
    contributions = pd.DataFrame(1.0, index=features.index, columns=features.columns)
    explanation = Explanation(contributions=contributions, baseline=np.zeros(3), values=features,
                              method="exact-linear", global_importance=pd.Series(dtype=float))
    good, bad, fine = account_reasons(explanation, features, k=10)
    assert good == [] and fine == []
    cited = {r.feature: r.text for r in bad}
    assert set(cited) == {"nps_mean_180d", "csat_mean_180d", "ces_mean_180d", "unresolved_tickets", "logins_30d"}
    assert cited["logins_30d"].startswith("logins 30d 2, 95% below peers") and "plan" not in cited
    for reason in bad:
        _assert_risk_side(reason, peer_references(features).iloc[1].to_dict())


def test_reasons_a_value_just_past_the_line_never_prints_on_the_good_side():
    features = pd.DataFrame({"csat_mean_180d": [3.96, 5.0], "nps_mean_180d": [6.97, 10.0],
                             "ces_mean_180d": [4.04, 1.0]}, index=pd.Index(["near", "good"], name="account_id"))
    contributions = pd.DataFrame(1.0, index=features.index, columns=features.columns)
    explanation = Explanation(contributions=contributions, baseline=np.zeros(2), values=features,
                              method="exact-linear", global_importance=pd.Series(dtype=float))
    near, good = account_reasons(explanation, features, k=3)
    assert good == [] and len(near) == 3
    for reason in near:
        _assert_risk_side(reason, peer_references(features).iloc[0].to_dict())


@pytest.fixture(scope="module")
def scored_example():
    from cxlens.dataset import load_dataset
    from cxlens.models.features import build_features, default_as_of
    from cxlens.pipelines.accounts import feature_tables, train_churn

    data = load_dataset(**{t: ARCHIVE / f"{t}.csv" for t in ("accounts", "tickets", "messages", "surveys")})
    tables = feature_tables(data)
    as_of = default_as_of(tables)
    model = train_churn(tables, horizon_days=90, as_of=as_of).model
    features = build_features(tables, as_of=as_of)
    evidence = reason_evidence(tables.tickets, as_of=as_of)
    return features, account_reasons(model.explain(features), features, k=3, evidence=evidence), tables


def test_reasons_on_the_example_archive_only_cite_the_risk_raising_side(scored_example):
    features, reasons, _ = scored_example
    peers = peer_references(features)
    cited = 0
    for i, row in enumerate(reasons):
        for reason in row:
            _assert_risk_side(reason, peers.iloc[i].to_dict())
            cited += reason.feature != "profile"
    assert cited >= len(features)  # reasons are there, not filtered away


def test_reasons_name_the_tickets_behind_them(scored_example):
    features, reasons, tables = scored_example
    tickets = tables.tickets.set_index("ticket_id")
    with_tickets = [(features.index[i], r) for i, row in enumerate(reasons) for r in row if r.tickets]
    assert with_tickets
    for account, reason in with_tickets:
        assert (tickets.loc[list(reason.tickets), "account_id"] == account).all()
        if reason.feature == "unresolved_tickets":
            assert re.match(r"\d+ tickets? open, the oldest for \d+ days", reason.text)
        if reason.feature in ("unresolved_tickets", "sla_breaches_90d"):  # every one of them, up to 5
            assert len(reason.tickets) == min(5, int(reason.value)), reason
    assert {"sla_breaches_90d", "unresolved_tickets"} <= {r.feature for _, r in with_tickets}
