"""The customer health score (CHS): a 0-100 weighted composite, Gainsight-scorecard style.

Each **component** is a 0-100 score built from account features (higher is
healthier).  Inputs that are relative (counts, hours) are turned into
percentile ranks among the scored accounts; inputs on a known scale (CSAT,
NPS, CES, shares, churn probability) are mapped linearly:

============  =====================================================================
usage         account columns that look like product usage (``usage``, ``active``,
              ``login``, ``seat``, ``session``, ``feature`` in the name), percentile
satisfaction  CSAT (1-5), NPS answer (0-10) and effort (CES 1-7, inverted), mapped to 0-100
support       unresolved tickets, reopened share, SLA breaches, resolution time (inverse percentiles)
sentiment     negative-ticket share (inverted), first-response time (inverse percentile)
financial     tenure and MRR (percentiles), MRR change columns when present
churn_risk    ``100 * (1 - churn probability)``
============  =====================================================================

The score is ``sum(w_c * component_c) / sum(w_c)`` over the components the
account has data for (missing components do not count as zero).  Weights come
from configuration (:data:`DEFAULT_WEIGHTS`, a dict or a TOML file with a
``[weights]`` table and optional ``[bands]``) or are fitted on past outcomes
(:func:`fit_weights`: a logistic regression of churn on the components,
negative coefficients clipped and normalised).  Bands: ``good`` at or above
``bands.good`` (70), ``poor`` below ``bands.poor`` (40), ``average`` between.
Each account's reasons are its weakest components, in words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cxlens.config import read_toml
from cxlens.errors import ConfigError, DataError

__all__ = ["COMPONENTS", "DEFAULT_WEIGHTS", "HealthConfig", "component_scores", "fit_weights",
           "health_scores", "load_health_config"]

COMPONENTS = ("usage", "satisfaction", "support", "sentiment", "financial", "churn_risk")
DEFAULT_WEIGHTS = {"usage": 0.15, "satisfaction": 0.2, "support": 0.15, "sentiment": 0.1,
                   "financial": 0.1, "churn_risk": 0.3}
USAGE_PATTERN = re.compile(r"usage|active|login|seat|session|feature|adoption", re.IGNORECASE)
MRR_CHANGE_PATTERN = re.compile(r"mrr_?(change|delta|growth|diff)|expansion", re.IGNORECASE)


@dataclass(frozen=True)
class HealthConfig:
    """Weights per component (any subset of :data:`COMPONENTS`) and band cut-offs."""

    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    good: float = 70.0
    poor: float = 40.0

    def __post_init__(self) -> None:
        unknown = sorted(set(self.weights) - set(COMPONENTS))
        if unknown:
            raise ConfigError(f"health weights: unknown component(s) {unknown}; use {', '.join(COMPONENTS)}.")
        if any(w < 0 for w in self.weights.values()) or sum(self.weights.values()) <= 0:
            raise ConfigError("health weights must be >= 0 and not all zero.")
        if not 0 <= self.poor <= self.good <= 100:
            raise ConfigError(f"health bands: need 0 <= poor ({self.poor}) <= good ({self.good}) <= 100.")


def load_health_config(source: str | Path | dict | None = None) -> HealthConfig:
    """From a dict ``{"weights": {...}, "bands": {"good": 70, "poor": 40}}`` or a TOML file of that shape."""
    if source is None:
        return HealthConfig()
    if isinstance(source, dict):
        data, where = source, "health config"
    else:
        where = str(source)
        data = read_toml(source, what="Health config")
    unknown = sorted(set(data) - {"weights", "bands"})
    if unknown:
        raise ConfigError(f"{where}: unknown section(s) {unknown}; use [weights] and [bands].")
    bands = dict(data.get("bands", {}))
    bad = sorted(set(bands) - {"good", "poor"})
    if bad:
        raise ConfigError(f"{where}: unknown key(s) in [bands]: {bad}; use good, poor.")
    weights = {str(k): float(v) for k, v in data.get("weights", DEFAULT_WEIGHTS).items()}
    return HealthConfig(weights=weights, **{k: float(v) for k, v in bands.items()})


# ---------------------------------------------------------------- components


def _percentile(values: pd.Series, *, higher_is_better: bool = True) -> pd.Series:
    """0-100 rank among the accounts with a value (ties share the average rank)."""
    ranks = values.rank(pct=True, method="average")
    score = ranks if higher_is_better else 1.0 - ranks + 1.0 / values.notna().sum()
    return (100.0 * score).clip(0, 100)


def _scaled(values: pd.Series, lo: float, hi: float, *, invert: bool = False) -> pd.Series:
    score = (values.astype(float) - lo) / (hi - lo)
    return (100.0 * ((1.0 - score) if invert else score)).clip(0, 100)


def _mean(parts: list[pd.Series], index: pd.Index) -> pd.Series:
    if not parts:
        return pd.Series(np.nan, index=index)
    return pd.concat(parts, axis=1).mean(axis=1, skipna=True)


def _numeric(features: pd.DataFrame, col: str) -> pd.Series | None:
    if col in features and pd.api.types.is_numeric_dtype(features[col]):
        return features[col].astype(float)
    return None


def component_scores(features: pd.DataFrame, churn_probability: pd.Series | None = None) -> pd.DataFrame:
    """Each component 0-100 per account (NaN where the account has no data for it)."""
    idx = features.index
    out: dict[str, pd.Series] = {}

    usage_cols = [c for c in features.columns if USAGE_PATTERN.search(str(c)) and _numeric(features, c) is not None]
    out["usage"] = _mean([_percentile(features[c].astype(float)) for c in usage_cols], idx)

    parts = []
    for col, lo, hi, invert in (("csat_mean_180d", 1, 5, False), ("nps_mean_180d", 0, 10, False),
                                ("ces_mean_180d", 1, 7, True)):
        values = _numeric(features, col)
        if values is not None:
            parts.append(_scaled(values, lo, hi, invert=invert))
    out["satisfaction"] = _mean(parts, idx)

    parts = []
    for col in ("unresolved_tickets", "sla_breaches_90d", "resolution_hours_median_90d"):
        values = _numeric(features, col)
        if values is not None and values.notna().any():
            parts.append(_percentile(values, higher_is_better=False))
    reopened = _numeric(features, "reopened_share_90d")
    if reopened is not None:
        parts.append(_scaled(reopened, 0, 1, invert=True))
    out["support"] = _mean(parts, idx)

    parts = []
    negative = _numeric(features, "negative_sentiment_share_90d")
    if negative is not None:
        parts.append(_scaled(negative, 0, 1, invert=True))
    score = _numeric(features, "sentiment_score_mean_90d")
    if score is not None:
        parts.append(_scaled(score, -1, 1))
    frt = _numeric(features, "first_response_hours_median_90d")
    if frt is not None and frt.notna().any():
        parts.append(_percentile(frt, higher_is_better=False))
    out["sentiment"] = _mean(parts, idx)

    parts = []
    for col in ("tenure_days", "mrr"):
        values = _numeric(features, col)
        if values is not None and values.notna().any():
            parts.append(_percentile(values))
    for col in features.columns:
        if MRR_CHANGE_PATTERN.search(str(col)) and _numeric(features, col) is not None:
            parts.append(_percentile(features[col].astype(float)))
    out["financial"] = _mean(parts, idx)

    if churn_probability is not None:
        out["churn_risk"] = 100.0 * (1.0 - churn_probability.reindex(idx).astype(float))
    else:
        out["churn_risk"] = pd.Series(np.nan, index=idx)
    return pd.DataFrame(out, index=idx)[list(COMPONENTS)]


def fit_weights(components: pd.DataFrame, churned: pd.Series | np.ndarray, *,
                exclude: tuple[str, ...] = ("churn_risk",)) -> dict[str, float]:
    """Weights fitted on past outcomes: logistic regression of churn on the components.

    Components are centred and missing values filled with 50 (neutral);
    a component whose higher score goes with *less* churn gets weight
    ``-coef`` (clipped at 0), then the weights are normalised to sum to 1.
    ``churn_risk`` is excluded by default (it is itself a fitted churn model).
    """
    from sklearn.linear_model import LogisticRegression

    y = np.asarray(churned).astype(int)
    if len(np.unique(y)) < 2:
        raise DataError("Cannot fit health weights: the past outcomes need both churned and retained accounts.")
    cols = [c for c in components.columns if c not in exclude and components[c].notna().any()]
    if not cols:
        raise DataError("Cannot fit health weights: no component has data.")
    X = (components[cols].fillna(50.0) - 50.0) / 50.0
    model = LogisticRegression(C=1.0, max_iter=2000).fit(X.to_numpy(), y)
    raw = np.clip(-model.coef_[0], 0, None)
    if raw.sum() <= 0:
        raise DataError("Cannot fit health weights: no component goes with lower churn on this history.")
    weights = {c: float(w / raw.sum()) for c, w in zip(cols, raw)}
    return {c: weights.get(c, 0.0) for c in COMPONENTS if c in weights}


# ---------------------------------------------------------------- the score


_COMPONENT_WORDS = {
    "usage": "low product usage",
    "satisfaction": "low satisfaction (CSAT/NPS/effort)",
    "support": "poor support experience (open, reopened or late tickets)",
    "sentiment": "negative sentiment or slow replies",
    "financial": "weak financial signals (short tenure, low or falling MRR)",
    "churn_risk": "high predicted churn risk",
}


def health_scores(features: pd.DataFrame, *, churn_probability: pd.Series | None = None,
                  config: HealthConfig | None = None, n_reasons: int = 2) -> pd.DataFrame:
    """``health_score`` (0-100), ``health_band`` and ``health_reasons`` per account, plus the components.

    Raises :class:`~cxlens.errors.DataError` when no weighted component has any data.
    """
    config = config or HealthConfig()
    components = component_scores(features, churn_probability)
    weights = pd.Series({c: config.weights.get(c, 0.0) for c in COMPONENTS})
    present = components.notna()
    active = present & (weights > 0)
    if not active.to_numpy().any():
        raise DataError("No health component can be computed: give tickets, surveys, account usage/MRR "
                        "columns or a churn model.")
    weight_matrix = active.astype(float) * weights
    total = (components.fillna(0.0) * weight_matrix).sum(axis=1)
    norm = weight_matrix.sum(axis=1)
    score = (total / norm.replace(0, np.nan)).round(1)
    band = pd.Series(np.where(score >= config.good, "good", np.where(score < config.poor, "poor", "average")),
                     index=components.index).where(score.notna(), None)
    # the weakest active components per account: one argsort over the matrix, not a sort per account
    names = list(components.columns)
    values = components.where(active).to_numpy(dtype=float)
    weakest = np.argsort(np.where(np.isnan(values), np.inf, values), axis=1, kind="stable")[:, :n_reasons]
    reasons = []
    for row, order in zip(values, weakest):
        words = [f"{_COMPONENT_WORDS[names[j]]} ({row[j]:.0f}/100)" for j in order if row[j] < 60]
        reasons.append("; ".join(words) if words else "no weak component")
    out = components.add_prefix("health_")
    out.insert(0, "health_reasons", reasons)
    out.insert(0, "health_band", band)
    out.insert(0, "health_score", score)
    return out
