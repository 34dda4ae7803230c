"""Signals of known direction: the churn model is constrained to them (logistic and boosted), and the
sign-constrained logistic regression behaves like scikit-learn's when nothing binds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression

from cxlens.models.churn import ChurnModel
from cxlens.models.constrained import SignedLogisticRegression
from cxlens.models.signals import feature_direction, is_descriptor, on_risk_side


def _spurious(n: int = 800, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Data in which a *higher* CSAT and more logins go with *more* churn (a spurious pattern)."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({
        "csat_mean_180d": rng.uniform(1, 5, n),
        "logins_30d": rng.poisson(30, n).astype(float),
        "unresolved_tickets": rng.poisson(1, n).astype(float),
        "plan": rng.choice(["starter", "pro"], n).astype(object),
    })
    logit = -2.0 + 0.9 * (X["csat_mean_180d"] - 3) + 0.05 * (X["logins_30d"] - 30) + 0.5 * X["unresolved_tickets"]
    y = (rng.random(n) < 1 / (1 + np.exp(-logit.to_numpy()))).astype(int)
    return X, y


def _curve(model: ChurnModel, X: pd.DataFrame, column: str) -> np.ndarray:
    grid = np.linspace(X[column].min(), X[column].max(), 25)
    rows = pd.concat([X.iloc[[0]]] * len(grid), ignore_index=True).assign(**{column: grid})
    return model.predict_proba(rows)[:, 1]


@pytest.mark.parametrize("kind", ["logistic", "hgb"])
@pytest.mark.parametrize("column", ["csat_mean_180d", "logins_30d"])
def test_churn_monotonic_signals_never_raise_risk_in_the_good_direction(kind, column):
    X, y = _spurious()
    free = ChurnModel(model=kind, monotonic=False, min_rows_for_trees=0).fit(X, y)
    assert np.diff(_curve(free, X, column)).max() > 1e-3  # the data pull the wrong way: the test can fail
    constrained = ChurnModel(model=kind, min_rows_for_trees=0).fit(X, y)
    assert constrained.directions_ == {"csat_mean_180d": -1, "logins_30d": -1, "unresolved_tickets": 1}
    assert np.diff(_curve(constrained, X, column)).max() <= 1e-9


def test_churn_monotonic_explanations_of_a_good_value_never_raise_risk():
    X, y = _spurious(seed=1)
    model = ChurnModel(model="logistic").fit(X, y)
    explanation = model.explain(X)
    csat = explanation.contributions["csat_mean_180d"].to_numpy()
    above_mean = X["csat_mean_180d"].to_numpy() > X["csat_mean_180d"].mean()
    assert (csat[above_mean] <= 1e-12).all()
    assert np.allclose(explanation.total(), model.decision_function(X))


def test_churn_monotonic_model_round_trips_without_pickle(tmp_path):
    X, y = _spurious(seed=2)
    model = ChurnModel(model="logistic").fit(X, y)
    assert isinstance(model.pipeline_.named_steps["model"], SignedLogisticRegression)
    model.save(tmp_path)
    again = ChurnModel.load(tmp_path)
    assert np.array_equal(again.predict_proba(X), model.predict_proba(X))
    assert clone(model).get_params()["monotonic"] is True


def test_signed_logistic_matches_sklearn_when_free_and_keeps_its_signs():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(500, 3))
    y = (rng.random(500) < 1 / (1 + np.exp(-(X @ [1.5, -1.0, 0.5])))).astype(int)
    ours = SignedLogisticRegression(C=0.5).fit(X, y)
    theirs = LogisticRegression(C=0.5, max_iter=5000).fit(X, y)
    assert np.allclose(ours.coef_, theirs.coef_, atol=1e-3)
    assert np.allclose(ours.intercept_, theirs.intercept_, atol=1e-3)
    signed = SignedLogisticRegression(C=0.5, signs=[-1, 1, 0]).fit(X, y)
    assert signed.coef_[0, 0] <= 0 and signed.coef_[0, 1] >= 0
    assert signed.coef_[0, 0] == pytest.approx(0, abs=1e-8) and signed.coef_[0, 1] == pytest.approx(0, abs=1e-8)
    assert np.allclose(signed.predict_proba(X).sum(axis=1), 1)


@pytest.mark.parametrize("feature, good, bad", [
    ("nps_mean_180d", 9.0, 5.0), ("nps_mean_180d", 10.0, 6.0), ("csat_mean_180d", 5.0, 2.0),
    ("csat_mean_180d", 4.0, 3.5), ("ces_mean_180d", 1.0, 6.0), ("ces_mean_180d", 2.0, 5.0),
    ("unresolved_tickets", 0.0, 2.0), ("sla_breaches_90d", 0.0, 1.0), ("reopened_share_90d", 0.0, 0.5),
])
def test_signals_risk_side_by_their_own_scale(feature, good, bad):
    assert not on_risk_side(feature, good, None) and not on_risk_side(feature, good, good)
    assert on_risk_side(feature, bad, None)


def test_signals_usage_against_peers_and_descriptors_never_signals():
    assert feature_direction("logins_30d") == -1 and feature_direction("active_users") == -1
    assert on_risk_side("logins_30d", 5.0, 30.0) and not on_risk_side("logins_30d", 28.0, 30.0)
    assert not on_risk_side("logins_30d", 500.0, 30.0)
    for column in ("plan", "mrr", "seats", "industry", "Contract"):
        assert is_descriptor(column) and feature_direction(column) == 0
    # a usage word in a name whose count runs the other way is no usage signal: never constrained to -1
    for column in ("days_since_last_login", "last_login_days_ago", "failed_logins", "usage_drop_pct"):
        assert feature_direction(column) == 0, column
    assert feature_direction("login_days_30d") == -1
