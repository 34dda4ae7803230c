"""CsatModel: estimator contract, it learns how a conversation went, reasons, features point-in-time."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from cxlens.errors import DataError
from cxlens.models.csat import CsatModel, ticket_features


def _tickets(n: int = 600, seed: int = 0) -> pd.DataFrame:
    """Tickets whose rating falls with slow resolution and reopening (known truth)."""
    rng = np.random.default_rng(seed)
    created = pd.Timestamp("2025-01-01", tz="UTC") + pd.to_timedelta(rng.uniform(0, 300, n), unit="D")
    hours = rng.exponential(20, n)
    reopened = rng.random(n) < 0.2
    logit = 2.0 - 0.06 * hours - 1.5 * reopened
    good = rng.random(n) < 1 / (1 + np.exp(-logit))
    csat = np.where(good, rng.choice([4.0, 5.0], n), rng.choice([1.0, 2.0, 3.0], n))
    return pd.DataFrame({
        "ticket_id": [f"T{i}" for i in range(n)], "account_id": [f"A{i % 50}" for i in range(n)],
        "created_at": created, "resolved_at": created + pd.to_timedelta(hours, unit="h"),
        "first_response_at": created + pd.to_timedelta(rng.exponential(2, n), unit="h"),
        "channel": rng.choice(["email", "chat"], n), "reopened": pd.array(reopened, dtype="boolean"),
        "agent_replies": rng.poisson(2, n).astype(float), "csat": csat, "nps": csat * 2, "ces": 8 - csat,
        "true_sentiment": np.where(good, "positive", "negative"),
    })


def test_csat_model_follows_the_estimator_contract():
    model = CsatModel(C=0.3)
    assert clone(model).get_params() == {"C": 0.3, "good_threshold": 4.0}
    with pytest.raises(NotFittedError):
        model.predict_proba(pd.DataFrame({"x": [1.0]}))
    tickets = _tickets()
    X = ticket_features(tickets)
    assert model.fit(X, tickets["csat"]) is model
    assert list(model.classes_) == [0, 1] and model.good_model_.coef_.shape[0] == 1
    with pytest.raises(DataError, match="same side"):
        CsatModel().fit(X, np.full(len(X), 5.0))


def test_csat_features_never_read_the_answers_and_history_is_point_in_time():
    tickets = _tickets()
    X = ticket_features(tickets)
    assert not {"csat", "nps", "ces", "true_sentiment"} & set(X.columns)
    assert {"resolution_hours", "first_response_hours", "reopened", "account_csat_before"} <= set(X.columns)
    later = tickets.copy()
    newest = later["created_at"] == later["created_at"].max()
    later.loc[newest, "csat"] = 1.0 if later.loc[newest, "csat"].iloc[0] > 1 else 5.0
    again = ticket_features(later)
    pd.testing.assert_series_equal(X["account_csat_before"], again["account_csat_before"])  # the newest is after all
    first = tickets.sort_values("created_at").groupby("account_id").head(1).index
    assert X.loc[first, "account_csat_before"].isna().all()


def test_csat_model_learns_slow_and_reopened_conversations_rate_lower(tmp_path):
    tickets = _tickets(seed=1)
    X = ticket_features(tickets)
    model = CsatModel().fit(X, tickets["csat"])
    slow = X.iloc[[0] * 5].assign(resolution_hours=[1.0, 10.0, 30.0, 60.0, 100.0], reopened=0.0)
    p = model.predict_proba(slow)[:, 1]
    assert (np.diff(p) < 0).all() and p[0] - p[-1] > 0.3
    score = model.estimated_score(slow)
    assert ((score >= 1) & (score <= 5)).all() and score[0] > score[-1]
    worst = slow.iloc[[-1]].assign(reopened=1.0)
    assert {"reopened", "resolved after 100.0 h"} <= set(model.reasons(worst)[0])
    assert model.reasons(slow.iloc[[0]]) == [[]]  # a quick, clean conversation has nothing against it
    model.save(tmp_path)
    assert np.array_equal(CsatModel.load(tmp_path).predict_proba(X), model.predict_proba(X))
