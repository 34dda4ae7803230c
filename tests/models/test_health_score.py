"""Customer health score: weights, bands, missing components, fitted weights, config errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlens.errors import ConfigError, DataError
from cxlens.models.health import HealthConfig, component_scores, fit_weights, health_scores, load_health_config


def _features() -> pd.DataFrame:
    return pd.DataFrame({
        "csat_mean_180d": [5.0, 1.0, np.nan],
        "unresolved_tickets": [0.0, 4.0, 1.0],
        "negative_sentiment_share_90d": [0.0, 1.0, 0.5],
        "logins_30d": [100.0, 2.0, 50.0],
        "tenure_days": [800.0, 20.0, 300.0],
    }, index=pd.Index(["happy", "unhappy", "middle"], name="account_id"))


def test_health_score_ranks_and_bands_accounts():
    churn = pd.Series([0.05, 0.9, 0.4], index=_features().index)
    out = health_scores(_features(), churn_probability=churn)
    assert out["health_score"].between(0, 100).all()
    assert out.loc["happy", "health_score"] > out.loc["middle", "health_score"] > out.loc["unhappy", "health_score"]
    assert out.loc["happy", "health_band"] == "good"
    assert out.loc["unhappy", "health_band"] == "poor"
    assert "satisfaction" in out.loc["unhappy", "health_reasons"]


def test_health_score_missing_component_is_not_a_zero():
    """``middle`` has no CSAT: its score uses the other components' weights only."""
    config = HealthConfig(weights={"satisfaction": 0.5, "support": 0.5})
    out = health_scores(_features(), config=config)
    components = component_scores(_features())
    assert out.loc["middle", "health_score"] == pytest.approx(components.loc["middle", "support"], abs=0.05)


def test_health_score_weights_from_toml(tmp_path):
    path = tmp_path / "health.toml"
    path.write_text("[weights]\nsatisfaction = 1\nsupport = 3\n[bands]\ngood = 80\npoor = 30\n", encoding="utf-8")
    config = load_health_config(path)
    assert config.weights == {"satisfaction": 1.0, "support": 3.0} and config.good == 80
    with pytest.raises(ConfigError, match="unknown component"):
        load_health_config({"weights": {"happiness": 1.0}})
    with pytest.raises(ConfigError, match="bands"):
        load_health_config({"bands": {"great": 90}})


def test_health_fit_weights_are_normalised_and_favour_predictive_components():
    rng = np.random.default_rng(0)
    n = 600
    components = pd.DataFrame({"satisfaction": rng.uniform(0, 100, n), "support": rng.uniform(0, 100, n),
                               "usage": rng.uniform(0, 100, n)})
    p = 1 / (1 + np.exp(-(2.0 - 0.05 * components["satisfaction"])))
    churned = (rng.random(n) < p).astype(int)
    weights = fit_weights(components, churned)
    assert sum(weights.values()) == pytest.approx(1.0)
    assert all(w >= 0 for w in weights.values())
    assert weights["satisfaction"] > 0.6
    with pytest.raises(DataError):
        fit_weights(components, np.zeros(n))


def test_health_score_without_any_component_raises():
    empty = pd.DataFrame({"region": ["a", "b"]}, index=["x", "y"])
    with pytest.raises(DataError, match="No health component"):
        health_scores(empty)
