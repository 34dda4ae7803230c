"""ChurnModel: estimator contract, calibration against known probabilities, exact linear explanations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from cxlens.errors import ConfigError, DataError
from cxlens.models.churn import ChurnModel
from cxlens.models.explain import describe, top_reasons


def _known(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Features, labels drawn from known probabilities, and those probabilities."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "noise": rng.normal(size=n)})
    logit = -1.0 + 1.5 * X["a"] - 1.0 * X["b"]
    p = 1.0 / (1.0 + np.exp(-logit.to_numpy()))
    y = (rng.random(n) < p).astype(int)
    return X, y, p


def _mixed(n: int = 400, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({
        "tickets": rng.poisson(3, n).astype(float),
        "csat": np.where(rng.random(n) < 0.3, np.nan, rng.uniform(1, 5, n)),
        "plan": rng.choice(["starter", "pro", "enterprise"], n).astype(object),
        "tenure": rng.uniform(10, 900, n),
    })
    logit = 0.4 * X["tickets"] - 0.6 * X["csat"].fillna(3) + (X["plan"] == "starter") * 0.8 - 0.001 * X["tenure"]
    y = (rng.random(n) < 1 / (1 + np.exp(-logit.to_numpy()))).astype(int)
    return X, y


def test_churn_model_follows_the_estimator_contract():
    model = ChurnModel(model="logistic", C=0.3)
    assert model.get_params()["C"] == 0.3
    assert not [k for k in vars(model) if k.endswith("_")]
    twin = clone(model)
    assert twin.get_params() == model.get_params()
    with pytest.raises(NotFittedError):
        model.predict_proba(pd.DataFrame({"a": [1.0]}))
    X, y = _mixed()
    assert model.fit(X, y) is model
    assert list(model.classes_) == [0, 1]
    assert model.predict_proba(X).shape == (len(X), 2)
    assert set(model.predict(X)) <= {0, 1}
    with pytest.raises(ConfigError):
        ChurnModel(model="forest").fit(X, y)


def test_churn_model_calibration_matches_known_probabilities():
    X, y, _ = _known(6000, seed=1)
    model = ChurnModel(model="logistic", spline_knots=0, C=10.0).fit(X, y)
    X_new, _, p_true = _known(4000, seed=2)
    p_hat = model.predict_proba(X_new)[:, 1]
    assert np.abs(p_hat - p_true).mean() < 0.03
    # reliability: in each decile of predicted risk the true mean probability matches the prediction
    order = np.argsort(p_hat)
    for chunk in np.array_split(order, 10):
        assert abs(p_hat[chunk].mean() - p_true[chunk].mean()) < 0.04
    assert model.validation_ == "kfold"


def test_churn_model_linear_explanations_sum_to_the_logit():
    X, y = _mixed()
    model = ChurnModel(model="logistic").fit(X, y)
    explanation = model.explain(X.iloc[:50])
    assert explanation.method == "exact-linear"
    assert list(explanation.contributions.columns) == model.features_used_
    np.testing.assert_allclose(explanation.total(), model.decision_function(X.iloc[:50]), atol=1e-9)
    p = 1 / (1 + np.exp(-explanation.total()))
    np.testing.assert_allclose(p, model.predict_proba(X.iloc[:50])[:, 1], atol=1e-9)
    reasons = top_reasons(explanation, k=3)
    assert len(reasons) == 50 and all(len(r) == 3 for r in reasons)
    first = reasons[0][0]
    assert first.contribution == max(r.contribution for r in reasons[0])


def test_churn_model_scores_rows_with_unseen_levels_and_missing_columns():
    X, y = _mixed()
    model = ChurnModel(model="logistic").fit(X, y)
    odd = X.iloc[:3].copy()
    odd["plan"] = ["platinum", None, "pro"]
    assert np.isfinite(model.predict_proba(odd)).all()
    assert np.isfinite(model.predict_proba(odd.drop(columns=["csat"]))).all()


def test_churn_model_groups_keep_an_account_in_one_fold():
    X, y = _mixed(300)
    groups = np.repeat(np.arange(100), 3)
    model = ChurnModel(model="logistic", cv=3).fit(X, y, groups=groups)
    assert model.validation_ == "grouped-kfold"


def test_churn_model_never_inverts_the_ranking_when_time_folds_disagree():
    """A validation fold whose labels run against the model must not flip the calibration slope."""
    rng = np.random.default_rng(3)
    X = pd.DataFrame({"a": rng.normal(size=600), "b": rng.normal(size=600)})
    y = (X["a"] + 0.3 * rng.normal(size=600) > 0.8).astype(int).to_numpy().copy()
    val = np.arange(500, 600)
    y[val] = (X["a"].to_numpy()[val] < -0.8).astype(int)  # the "later" snapshot says the opposite
    model = ChurnModel(model="logistic").fit(X, y, splits=[(np.arange(500), val)])
    assert model.calibration_[0] > 0
    assert model.validation_ == "time (calibrated on kfold)"
    p = model.predict_proba(X)[:, 1]
    assert np.corrcoef(p, X["a"])[0, 1] > 0.5


def test_churn_model_rejects_single_class_and_constant_features():
    X, y = _mixed(50)
    with pytest.raises(DataError):
        ChurnModel(model="logistic").fit(X, np.zeros(len(X), dtype=int))
    with pytest.raises(DataError, match="No usable feature"):
        ChurnModel(model="logistic").fit(pd.DataFrame({"c": np.ones(len(X))}), y)


def test_describe_says_direction_in_words():
    assert describe("unresolved_tickets", 3.0, 0.4) == "3 unresolved tickets (raises risk)"
    assert describe("csat_mean_180d", 4.6, -0.2) == "CSAT 4.6 of 5 (lowers risk)"
    assert describe("csat_mean_180d", np.nan, 0.1) == "no CSAT answers (raises risk)"
    assert describe("region", "emea", 0.1) == "region: emea (raises risk)"


@pytest.mark.slow
def test_churn_model_tree_explanations_sum_to_the_logit():
    pytest.importorskip("shap")
    X, y = _mixed(600)
    model = ChurnModel(model="hgb", max_iter=30).fit(X, y)
    explanation = model.explain(X.iloc[:20])
    assert explanation.method == "tree-shap"
    np.testing.assert_allclose(explanation.total(), model.decision_function(X.iloc[:20]), atol=1e-6)
