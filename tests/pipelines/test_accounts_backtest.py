"""The at-risk review's flag fits the base rate, and its back-test has no look-ahead."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cxlens
from cxlens.config import KPIConfig
from cxlens.models.features import FeatureTables, default_as_of

ARCHIVE = Path(cxlens.__file__).parent / "data" / "example_archive"


@pytest.fixture(scope="module")
def tables():
    from cxlens.dataset import load_dataset
    from cxlens.pipelines.accounts import feature_tables

    data = load_dataset(**{t: ARCHIVE / f"{t}.csv" for t in ("accounts", "tickets", "messages", "surveys")})
    return feature_tables(data)


@pytest.fixture(scope="module")
def review(tables):
    from cxlens.pipelines.accounts import at_risk_review

    return at_risk_review(tables, model_kind="logistic")


def test_accounts_review_default_flag_fits_the_base_rate(review):
    table, s = review.table, review.summary
    p = table["churn_probability"].to_numpy()
    assert p.max() < 0.5  # a fixed 0.5 would flag nobody on this archive
    assert s["risk_rule_kind"] == "top" and s["at_risk_accounts"] == round(0.1 * len(table)) > 0
    assert table["at_risk"].sum() == s["at_risk_accounts"] and table.loc[table["at_risk"], "rank"].max() == \
        s["at_risk_accounts"]
    flagged = table.loc[table["at_risk"]]
    assert s["revenue_at_risk"] == pytest.approx(float(np.nansum(flagged["mrr"] * flagged["churn_probability"])),
                                                 rel=1e-3)
    assert "10% of accounts" in s["risk_rule"] and s["base_rate"] == pytest.approx(p.mean())
    assert review.retention["at_risk_accounts"] == s["at_risk_accounts"]  # the KPI reads the review's flag


def test_accounts_review_risk_threshold_is_absolute(tables):
    from cxlens.pipelines.accounts import at_risk_review

    fixed = at_risk_review(tables, model=_model(tables), config=KPIConfig(risk_threshold=0.15))
    assert fixed.summary["risk_rule_kind"] == "absolute" and fixed.summary["risk_threshold"] == 0.15
    assert fixed.summary["at_risk_accounts"] == int((fixed.table["churn_probability"] >= 0.15).sum())


def _model(tables):
    from cxlens.pipelines.accounts import train_churn

    return train_churn(tables, horizon_days=90, model="logistic").model


def _before(tables: FeatureTables, date: pd.Timestamp, end: pd.Timestamp) -> FeatureTables:
    """Everything known at ``date``; of what came after, only churn dates inside ``[date, end)`` (the truth)."""
    t = tables.tickets.loc[tables.tickets["created_at"] < date].copy()
    for col in ("resolved_at", "first_response_at"):
        t[col] = t[col].where(t[col] < date)
    t.loc[t["resolved_at"].isna(), ["csat", "nps", "ces", "reopened"]] = np.nan
    a = tables.accounts.loc[tables.accounts["signup_at"] < date].copy()
    a["churned_at"] = a["churned_at"].where(a["churned_at"] < end)
    m = tables.messages.loc[tables.messages["sent_at"] < date]
    s = tables.surveys.loc[tables.surveys["responded_at"] < date]
    return FeatureTables(accounts=a, tickets=t, messages=m, surveys=s)


def test_accounts_backtest_has_no_look_ahead(tables):
    from cxlens.pipelines.accounts import risk_backtest

    as_of = default_as_of(tables)
    full = risk_backtest(tables, as_of=as_of, n_dates=1, model_kind="logistic")
    assert len(full) == 1
    row = full.iloc[0]
    date = pd.Timestamp(row["date"], tz="UTC")
    assert date == as_of - pd.Timedelta(days=90)
    for col in ("precision_at_10", "precision_at_20", "lift_at_20", "top_0.1_precision", "relative_2_flagged"):
        assert col in full
    assert row["base_rate"] == pytest.approx(row["churned"] / row["accounts"])
    assert row["lift_at_20"] == pytest.approx(row["precision_at_20"] / row["base_rate"])
    cut = risk_backtest(_before(tables, date, date + pd.Timedelta(days=90)), as_of=as_of, n_dates=1,
                        model_kind="logistic")
    pd.testing.assert_frame_equal(full, cut)


def test_accounts_backtest_leaves_out_todays_usage_counters(tables):
    from cxlens.pipelines.accounts import risk_backtest

    as_of = default_as_of(tables)
    full = risk_backtest(tables, as_of=as_of, n_dates=1, model_kind="logistic")
    # a usage counter as of the export that gives away who churned since the past date
    churned = tables.accounts["churned_at"].notna().to_numpy()
    told = tables.accounts.assign(logins_30d=np.where(churned, 0, 100))
    leaked = risk_backtest(FeatureTables(accounts=told, tickets=tables.tickets, messages=tables.messages,
                                         surveys=tables.surveys), as_of=as_of, n_dates=1, model_kind="logistic")
    pd.testing.assert_frame_equal(full, leaked)


def test_accounts_review_page_shows_the_rule_and_the_backtest(tables, tmp_path):
    from cxlens.pipelines.accounts import at_risk_review, write_at_risk_review

    review = at_risk_review(tables, model=_model(tables), backtest_dates=1, model_kind="logistic")
    assert len(review.summary["backtest"]) == 1
    assert review.summary["risk_rule_why"].startswith("chosen by the back-test over 1 past dates")
    page = write_at_risk_review(review, tmp_path)["html"].read_text(encoding="utf-8")
    for words in ("At risk</b> =", "revenue at risk", "Back-test", "precision@20", "Lift = precision / base rate"):
        assert words in page


def test_accounts_review_reads_only_its_ticket_columns(tables, review):
    """``cxlens score`` gives the accounts stage only REVIEW_TICKET_COLUMNS: the review must be the same as
    with every column, including the scored ones features and reasons read (sentiment, script adherence)."""
    import dataclasses

    from cxlens.pipelines.accounts import REVIEW_TICKET_COLUMNS, at_risk_review

    t = tables.tickets.copy()
    rng = np.random.default_rng(3)
    t["sentiment"] = rng.choice(["negative", "neutral", "positive"], len(t))
    t["sentiment_score"] = rng.uniform(-1, 1, len(t))
    t["script_adherence"] = rng.uniform(0, 100, len(t))
    t["request_type"] = "refund"  # a scored column the review does not read
    whole = dataclasses.replace(tables, tickets=t)
    narrow = dataclasses.replace(tables, tickets=t[[c for c in t.columns if c in REVIEW_TICKET_COLUMNS]])
    assert "request_type" not in narrow.tickets and "sentiment" in narrow.tickets
    model = _model(whole)  # trained on every column once; training reads the features, as scoring does
    a = at_risk_review(whole, model=model)
    b = at_risk_review(narrow, model=model)
    pd.testing.assert_frame_equal(_features(narrow), _features(whole))  # what training and scoring read
    pd.testing.assert_frame_equal(a.table, b.table)
    pd.testing.assert_frame_equal(a.tickets, b.tickets)
    assert a.summary == b.summary
    # and the scored columns matter: without them the reasons differ
    assert not a.table.equals(review.table)


def _features(tables):
    from cxlens.models.features import build_features

    return build_features(tables, as_of=default_as_of(tables))
