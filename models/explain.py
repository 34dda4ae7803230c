"""Why an account's churn risk is what it is: per-feature contributions and plain words.

* **Linear model** (exact): the model sees standardised columns ``z``, so the
  calibrated log-odds are ``a * (w . z + w0) + b``.  The contribution of an
  input feature is ``a * sum(w_j * z_j)`` over the columns it produced (one for
  a number plus its missing flag, one per level for a category); the baseline
  ``a * w0 + b`` is the log-odds of an average account.  Contributions plus
  baseline equal :meth:`ChurnModel.decision_function` exactly.
* **Gradient-boosted trees**: TreeSHAP (the ``shap`` package) on the fitted
  trees, in log-odds, scaled by the same calibration map, so the sum property
  holds too.  Without ``shap`` installed, no per-account contributions are
  given; the model's global permutation importance (scikit-learn) is reported
  instead and :attr:`Explanation.method` says so.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

__all__ = ["Explanation", "Reason", "describe", "explain", "feature_label", "top_reasons"]

log = logging.getLogger(__name__)


@dataclass
class Explanation:
    """Contributions to the calibrated log-odds (rows = accounts, columns = input features)."""

    contributions: pd.DataFrame | None
    baseline: np.ndarray
    values: pd.DataFrame
    method: str                       # "exact-linear", "tree-shap" or "permutation-global"
    global_importance: pd.Series

    def total(self) -> np.ndarray:
        """Baseline + contributions: equals the model's calibrated log-odds."""
        if self.contributions is None:
            raise ValueError(f"No per-account contributions with method {self.method!r}.")
        return self.baseline + self.contributions.to_numpy().sum(axis=1)


@dataclass(frozen=True)
class Reason:
    """One reason: the feature, its value, its contribution (log-odds), the sentence and the tickets behind it."""

    feature: str
    value: object
    contribution: float
    text: str
    tickets: tuple[str, ...] = ()


def _group_columns(matrix: np.ndarray, sources: list[str], features: list[str]) -> np.ndarray:
    out = np.zeros((matrix.shape[0], len(features)))
    position = {f: i for i, f in enumerate(features)}
    for j, source in enumerate(sources):
        out[:, position[source]] += matrix[:, j]
    return out


def explain(model, X, *, background=None) -> Explanation:
    """Per-row contributions of each input feature of a fitted :class:`ChurnModel`."""
    check_is_fitted(model, "pipeline_")
    prepared = model._prepare(X)
    features = list(model.features_used_)
    index = prepared.index
    transformed = model.pipeline_.named_steps["features"].transform(prepared)
    sources = model.transformed_columns()
    estimator = model.pipeline_.named_steps["model"]
    a, b = model.calibration_
    if model.model_kind_ == "logistic":
        raw = transformed * estimator.coef_[0]
        contributions = a * _group_columns(raw, sources, features)
        baseline = np.full(len(prepared), a * float(estimator.intercept_[0]) + b)
        method = "exact-linear"
    else:
        try:
            import shap
        except ImportError:
            log.warning("shap is not installed: per-account reasons for the boosted model are not available; "
                        "reporting global permutation importance instead (pip install shap)")
            importance = getattr(model, "permutation_importance_", pd.Series(dtype=float))
            return Explanation(contributions=None, baseline=np.full(len(prepared), np.nan), values=prepared,
                               method="permutation-global", global_importance=importance)
        explainer = shap.TreeExplainer(estimator)
        values = np.asarray(explainer.shap_values(transformed))
        if values.ndim == 3:  # some shap versions return one slice per class
            values = values[..., -1]
        expected = float(np.ravel(explainer.expected_value)[-1])
        contributions = a * _group_columns(values, sources, features)
        baseline = np.full(len(prepared), a * expected + b)
        method = "tree-shap"
    frame = pd.DataFrame(contributions, index=index, columns=features)
    importance = frame.abs().mean().sort_values(ascending=False)
    return Explanation(contributions=frame, baseline=baseline, values=prepared, method=method,
                       global_importance=importance)


# ---------------------------------------------------------------- plain words


def _num(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _hours(h: float) -> str:
    return f"{h / 24:.1f} days" if h >= 48 else f"{h:.1f} hours"


# feature -> (label for a missing value, sentence for a value)
_PHRASES = {
    "ticket_volume_90d": ("no tickets", lambda v: f"{v:.0f} ticket{'' if v == 1 else 's'} in the last 90 days"),
    "ticket_trend_30d": ("no recent tickets",
                         lambda v: f"contact volume {'up' if v > 0 else 'down'} "
                                   f"{abs(math.exp(v) - 1):.0%} in the last 30 days"),
    "days_since_last_ticket": ("never contacted support", lambda v: f"last ticket {v:.0f} days ago"),
    "negative_sentiment_share_90d": ("no scored tickets", lambda v: f"{v:.0%} of recent tickets negative"),
    "sentiment_score_mean_90d": ("no scored tickets", lambda v: f"average ticket sentiment {v:+.2f}"),
    "unresolved_tickets": ("no open tickets", lambda v: f"{v:.0f} unresolved ticket{'' if v == 1 else 's'}"),
    "reopened_share_90d": ("no solved tickets", lambda v: f"{v:.0%} of solved tickets reopened"),
    "first_response_hours_median_90d": ("no answered tickets", lambda v: f"first replies took {_hours(v)} (median)"),
    "resolution_hours_median_90d": ("no solved tickets", lambda v: f"tickets took {_hours(v)} to resolve (median)"),
    "sla_breaches_90d": ("no SLA data", lambda v: f"{v:.0f} first-response SLA breaches in 90 days"),
    "script_adherence_mean_90d": ("no QA scores", lambda v: f"agents followed the script {v:.0f}/100"),
    "csat_mean_180d": ("no CSAT answers", lambda v: f"CSAT {v:.1f} of 5"),
    "nps_mean_180d": ("no NPS answers", lambda v: f"NPS answer {v:.1f} of 10"),
    "ces_mean_180d": ("no effort answers", lambda v: f"customer effort {v:.1f} of 7"),
    "customer_messages_90d": ("no messages", lambda v: f"{v:.0f} customer messages in 90 days"),
    "tenure_days": ("unknown tenure", lambda v: f"customer for {v / 30.4:.0f} months"),
    "mrr": ("unknown MRR", lambda v: f"MRR {v:,.0f}"),
}


def feature_label(feature: str) -> str:
    """A feature name in words (``ticket_volume_90d`` -> ``ticket volume 90d``)."""
    return feature.replace("_", " ")


def describe(feature: str, value: object, contribution: float) -> str:
    """One reason in plain words, e.g. ``3 unresolved tickets (raises risk)``."""
    effect = "raises risk" if contribution > 0 else "lowers risk"
    number = _num(value)
    if feature in _PHRASES:
        missing, sentence = _PHRASES[feature]
        text = missing if number is None else sentence(number)
    elif number is not None:
        text = f"{feature_label(feature)} {number:,.4g}"
    elif value is None or value == "missing":
        text = f"no {feature_label(feature)}"
    else:
        text = f"{feature_label(feature)}: {value}"
    return f"{text} ({effect})"


def top_reasons(explanation: Explanation, *, k: int = 3, direction: str = "risk") -> list[list[Reason]]:
    """Per row, the ``k`` features that push churn risk up most (``direction="risk"``) or matter most (``"any"``).

    Rows with fewer than ``k`` risk-raising features are topped up with the largest
    absolute contributions.  With no per-account contributions (``permutation-global``),
    every row gets the globally most important features, with contribution 0.
    """
    values = explanation.values
    if explanation.contributions is None:
        top = list(explanation.global_importance.index[:k])
        cells = values[top].to_numpy(dtype=object)
        return [[Reason(f, v, 0.0, f"{describe(f, v, 0.0).rsplit(' (', 1)[0]} (globally important)")
                 for f, v in zip(top, row)] for row in cells]
    # one argsort per matrix, not a pandas sort per account (10,000s of accounts in a nightly run)
    features = list(explanation.contributions.columns)
    contributions = explanation.contributions.to_numpy(dtype=float)
    cells = values[features].to_numpy(dtype=object)
    by_size = np.argsort(-np.abs(contributions), axis=1, kind="stable")[:, :k]
    by_risk = np.argsort(-contributions, axis=1, kind="stable")[:, :k] if direction == "risk" else by_size
    rows = []
    for i, row in enumerate(contributions):
        chosen = [j for j in by_risk[i] if direction != "risk" or row[j] > 0]
        if len(chosen) < k:
            chosen += [j for j in by_size[i] if j not in chosen][:k - len(chosen)]
        rows.append([Reason(features[j], cells[i, j], float(row[j]),
                            describe(features[j], cells[i, j], float(row[j]))) for j in chosen])
    return rows
