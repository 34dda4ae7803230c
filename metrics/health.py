"""Account risk KPIs from the churn model and the health score.

The models pipeline adds ``churn_probability`` (0-1), ``health_score`` (0-100)
and ``health_band`` (good/average/poor) to accounts.  Only current customers
count: accounts without ``churned_at``, or churned after ``period_end``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxlens.config import KPIConfig
from cxlens.metrics._measures import numbers
from cxlens.metrics._registry import Measure, Tables, register_kpi

__all__ = ["at_risk", "at_risk_accounts", "customer_health_score", "predicted_churn_rate", "revenue_at_risk"]

BANDS = ("good", "average", "poor")


def _current(tables: Tables) -> np.ndarray:
    """Accounts still customers at the period end (all when churn dates are unknown)."""
    accounts = tables.accounts
    if "churned_at" not in accounts:
        return np.ones(len(accounts), dtype=bool)
    churned = accounts["churned_at"]
    if tables.period_end is None:
        return churned.isna().to_numpy()
    return (churned.isna() | (churned > tables.period_end)).to_numpy(dtype=bool)


def at_risk(tables: Tables, config: KPIConfig) -> tuple[np.ndarray, np.ndarray]:
    """(scored, at risk) masks over current accounts: ``churn_probability >= risk_threshold``; without a
    ``risk_threshold`` (None), the accounts' ``at_risk`` flag from the at-risk review, else 0.5."""
    probability = numbers(tables.accounts, "churn_probability").to_numpy()
    scored = _current(tables) & ~np.isnan(probability)
    if config.risk_threshold is None and "at_risk" in tables.accounts:
        flag = tables.accounts["at_risk"].astype("boolean").fillna(False).to_numpy(dtype=bool)
        return scored, scored & flag
    threshold = 0.5 if config.risk_threshold is None else config.risk_threshold
    with np.errstate(invalid="ignore"):
        risky = scored & (probability >= threshold)
    return scored, risky


@register_kpi(name="predicted_churn_rate", unit="%", direction="lower",
              formula="current accounts at risk (the at-risk review's flag, or churn_probability >= risk_threshold when one is "
                      "set) / scored current accounts x 100",
              requires=("accounts.churn_probability",), category="risk")
def predicted_churn_rate(tables: Tables, config: KPIConfig) -> Measure:
    """Predicted churn rate: current accounts the churn model puts at risk, in %.

    ``ids`` are the at-risk accounts (the drill-down list), ``n`` the scored ones.
    """
    scored, risky = at_risk(tables, config)
    n = int(scored.sum())
    if not n:
        return Measure(value=None, n=0, id_kind="account_id")
    return Measure(value=100.0 * int(risky.sum()) / n, n=n, ids=tables.accounts["account_id"][risky],
                   id_kind="account_id")


@register_kpi(name="at_risk_accounts", unit="count", direction="lower",
              formula="count(current accounts at risk, flagged as in predicted_churn_rate)",
              requires=("accounts.churn_probability",), category="risk")
def at_risk_accounts(tables: Tables, config: KPIConfig) -> Measure:
    """At-risk accounts: how many current accounts the at-risk review flags (or reach ``risk_threshold``)."""
    _, risky = at_risk(tables, config)
    ids = tables.accounts["account_id"][risky]
    return Measure(value=len(ids), n=len(ids), ids=ids, id_kind="account_id")


@register_kpi(name="revenue_at_risk", unit="currency", direction="lower",
              formula="sum(mrr) of the current accounts at risk (flagged as in predicted_churn_rate); the at-risk review "
                      "also shows the expected loss, sum(mrr x churn_probability)",
              requires=("accounts.churn_probability", "accounts.mrr"), category="risk")
def revenue_at_risk(tables: Tables, config: KPIConfig) -> Measure:
    """Revenue at risk: monthly recurring revenue of the at-risk accounts."""
    _, risky = at_risk(tables, config)
    mrr = numbers(tables.accounts, "mrr").to_numpy()
    return Measure(value=float(np.nansum(mrr[risky])), n=int(risky.sum()),
                   ids=tables.accounts["account_id"][risky], id_kind="account_id")


@register_kpi(name="customer_health_score", unit="table", direction="higher",
              formula="mean and median of health_score (0-100) over current accounts; count per health_band",
              requires=("accounts.health_score",), category="risk")
def customer_health_score(tables: Tables, config: KPIConfig) -> Measure:
    """Customer health score distribution: mean, median and accounts per band (good/average/poor).

    Value: ``{"mean", "median", "bands": {"good": n, "average": n, "poor": n}}``;
    ``bands`` is ``None`` when accounts carry no ``health_band``.
    """
    accounts = tables.accounts
    score = numbers(accounts, "health_score").to_numpy()
    scored = _current(tables) & ~np.isnan(score)
    n = int(scored.sum())
    if not n:
        return Measure(value=None, n=0, id_kind="account_id")
    bands = None
    if "health_band" in accounts:
        counts = pd.Series(accounts["health_band"].to_numpy()[scored]).value_counts()
        bands = {band: int(counts.get(band, 0)) for band in BANDS}
        bands.update({str(k): int(v) for k, v in counts.items() if k not in BANDS})
    values = score[scored]
    return Measure(value={"mean": float(values.mean()), "median": float(np.median(values)), "bands": bands},
                   n=n, ids=accounts["account_id"][scored], id_kind="account_id")
