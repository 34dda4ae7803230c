"""Retention and revenue KPIs from the accounts table, over [period_start, period_end].

An account is a customer at time t when it signed up before t (or ``signup_at``
is unknown) and has not churned by t.  Over a period [S, E]:

* at start (CS): ``signup_at < S`` (or unknown) and not churned before S;
* at end (CE): ``signup_at <= E`` (or unknown) and ``churned_at`` empty or after E;
* new (CN): ``S <= signup_at <= E``;
* lost: customers at start with ``S <= churned_at <= E``.

The accounts table carries one ``mrr`` per account: MRR now, or at churn.
Expansion, contraction, net revenue retention and upsell need MRR at two
points, so they require an extra column ``mrr_start`` (MRR at the period
start; empty for accounts that were not customers then).  Without a period
(no tickets, surveys or mentions to span, and no ``period_start/end`` given)
these KPIs are ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cxlens.config import KPIConfig
from cxlens.metrics._measures import numbers
from cxlens.metrics._registry import Measure, Tables, register_kpi

__all__ = [
    "AccountStates", "account_states", "churn_rate", "customer_lifetime_value", "mrr_churned",
    "mrr_contraction", "mrr_expansion", "mrr_new", "net_revenue_retention", "repurchase_rate",
    "retention_rate", "upsell_rate",
]

MRR_START = "mrr_start"
ORDERS = "orders"
DAYS_PER_MONTH = 365.25 / 12


@dataclass(frozen=True)
class AccountStates:
    """Boolean masks over ``accounts`` for one period (see the module docstring)."""

    accounts: pd.DataFrame
    at_start: np.ndarray
    at_end: np.ndarray
    new: np.ndarray
    lost: np.ndarray
    churned_in_period: np.ndarray
    days: float

    def ids(self, mask: np.ndarray) -> pd.Series:
        return self.accounts["account_id"][mask]


def account_states(tables: Tables) -> AccountStates | None:
    """The period's account masks; ``None`` without accounts or without period bounds."""
    accounts, start, end = tables.accounts, tables.period_start, tables.period_end
    if accounts is None or start is None or end is None:
        return None
    never = pd.Series(pd.NaT, index=accounts.index, dtype="datetime64[ns, UTC]")
    churned = accounts["churned_at"] if "churned_at" in accounts else never
    signup = accounts["signup_at"] if "signup_at" in accounts else never
    no_signup, no_churn = signup.isna(), churned.isna()
    at_start = ((no_signup | (signup < start)) & (no_churn | (churned >= start))).to_numpy(dtype=bool)
    at_end = ((no_signup | (signup <= end)) & (no_churn | (churned > end))).to_numpy(dtype=bool)
    new = (~no_signup & (signup >= start) & (signup <= end)).to_numpy(dtype=bool)
    in_period = (~no_churn & (churned >= start) & (churned <= end)).to_numpy(dtype=bool)
    days = (end - start).total_seconds() / 86400.0
    return AccountStates(accounts=accounts, at_start=at_start, at_end=at_end, new=new,
                         lost=at_start & in_period, churned_in_period=in_period, days=days)


def _none() -> Measure:
    return Measure(value=None, n=0, id_kind="account_id")


@register_kpi(name="churn_rate", unit="%", direction="lower",
              formula="customers at the period start who churned in the period / customers at its start x 100",
              requires=("accounts.churned_at",), category="retention")
def churn_rate(tables: Tables, config: KPIConfig) -> Measure:
    """Customer churn rate: accounts lost in the period over accounts at its start, in %.

    Accounts that sign up and churn inside the same period are not in the start
    count, so they are not counted as lost either.
    """
    states = account_states(tables)
    if states is None or not states.at_start.any():
        return _none()
    n = int(states.at_start.sum())
    return Measure(value=100.0 * int(states.lost.sum()) / n, n=n, ids=states.ids(states.at_start),
                   id_kind="account_id")


@register_kpi(name="retention_rate", unit="%", direction="higher",
              formula="(CE - CN) / CS x 100: CE customers at end, CN new in the period, CS at start",
              requires=("accounts.churned_at",), category="retention")
def retention_rate(tables: Tables, config: KPIConfig) -> Measure:
    """Customer retention rate: ((customers at end - new customers) / customers at start) x 100."""
    states = account_states(tables)
    if states is None or not states.at_start.any():
        return _none()
    cs, ce, cn = int(states.at_start.sum()), int(states.at_end.sum()), int(states.new.sum())
    return Measure(value=100.0 * (ce - cn) / cs, n=cs, ids=states.ids(states.at_start), id_kind="account_id")


def _mrr_sum(tables: Tables, which: str) -> Measure:
    states = account_states(tables)
    if states is None:
        return _none()
    mask = getattr(states, which)
    mrr = numbers(states.accounts, "mrr").to_numpy()
    return Measure(value=float(np.nansum(mrr[mask])), n=int(mask.sum()), ids=states.ids(mask),
                   id_kind="account_id")


@register_kpi(name="mrr_new", unit="currency", direction="higher",
              formula="sum(mrr) of accounts that signed up in the period",
              requires=("accounts.signup_at", "accounts.mrr"), category="revenue")
def mrr_new(tables: Tables, config: KPIConfig) -> Measure:
    """New MRR: monthly recurring revenue of the accounts that signed up in the period."""
    return _mrr_sum(tables, "new")


@register_kpi(name="mrr_churned", unit="currency", direction="lower",
              formula="sum(mrr at churn) of accounts that churned in the period",
              requires=("accounts.churned_at", "accounts.mrr"), category="revenue")
def mrr_churned(tables: Tables, config: KPIConfig) -> Measure:
    """Churned MRR: monthly recurring revenue lost with the accounts that churned in the period."""
    return _mrr_sum(tables, "churned_in_period")


def _kept_mrr(tables: Tables):
    """Accounts kept through the period with both MRRs known: (states, before, after, kept) or None."""
    states = account_states(tables)
    if states is None:
        return None
    before = numbers(states.accounts, MRR_START).to_numpy()
    after = numbers(states.accounts, "mrr").to_numpy()
    kept = states.at_start & states.at_end & ~np.isnan(before) & ~np.isnan(after)
    return states, before, after, kept


def _mrr_change(tables: Tables, sign: float) -> Measure:
    found = _kept_mrr(tables)
    if found is None:
        return _none()
    states, before, after, kept = found
    change = np.clip(sign * (after[kept] - before[kept]), 0, None)
    return Measure(value=float(change.sum()), n=int(kept.sum()), ids=states.ids(kept), id_kind="account_id")


@register_kpi(name="mrr_expansion", unit="currency", direction="higher",
              formula="sum(max(mrr - mrr_start, 0)) over accounts kept through the period",
              requires=("accounts.mrr_start", "accounts.mrr"), category="revenue")
def mrr_expansion(tables: Tables, config: KPIConfig) -> Measure:
    """Expansion MRR: MRR gained from upgrades of accounts kept through the period.

    Needs ``mrr_start`` (MRR at the period start) beside ``mrr`` (MRR at its end).
    """
    return _mrr_change(tables, 1.0)


@register_kpi(name="mrr_contraction", unit="currency", direction="lower",
              formula="sum(max(mrr_start - mrr, 0)) over accounts kept through the period",
              requires=("accounts.mrr_start", "accounts.mrr"), category="revenue")
def mrr_contraction(tables: Tables, config: KPIConfig) -> Measure:
    """Contraction MRR: MRR lost to downgrades of accounts kept through the period."""
    return _mrr_change(tables, -1.0)


@register_kpi(name="net_revenue_retention", unit="%", direction="higher",
              formula="sum(mrr at end of start customers, 0 if churned) / sum(mrr_start of start customers) x 100",
              requires=("accounts.mrr_start", "accounts.mrr"), category="revenue")
def net_revenue_retention(tables: Tables, config: KPIConfig) -> Measure:
    """Net revenue retention: this period's MRR from the customers at its start over their starting MRR, in %.

    Expansion raises it, contraction and churn lower it; new customers do not count.
    """
    states = account_states(tables)
    if states is None:
        return _none()
    before = numbers(states.accounts, MRR_START).to_numpy()
    after = np.nan_to_num(numbers(states.accounts, "mrr").to_numpy(), nan=0.0)
    cohort = states.at_start & ~np.isnan(before)
    base = float(before[cohort].sum())
    if not cohort.any() or base <= 0:
        return _none()
    kept_mrr = float(after[cohort & states.at_end].sum())
    return Measure(value=100.0 * kept_mrr / base, n=int(cohort.sum()), ids=states.ids(cohort),
                   id_kind="account_id")


@register_kpi(name="customer_lifetime_value", unit="currency", direction="higher",
              formula="ARPA / monthly churn; ARPA = mean monthly revenue of start customers, "
                      "monthly churn = 1 - (1 - period churn)^(30.44 days / period days)",
              requires=("accounts.churned_at", "accounts.mrr"), category="revenue")
def customer_lifetime_value(tables: Tables, config: KPIConfig) -> Measure:
    """Customer lifetime value: average revenue per account per month over the monthly churn rate.

    ARPA uses ``mrr_start`` when present, else ``mrr``, over the customers at the
    period start.  ``None`` when nobody churned (an unbounded lifetime).
    """
    states = account_states(tables)
    if states is None or not states.at_start.any() or states.days <= 0:
        return _none()
    column = MRR_START if MRR_START in states.accounts else "mrr"
    mrr = numbers(states.accounts, column).to_numpy()[states.at_start]
    mrr = mrr[~np.isnan(mrr)]
    churn = float(states.lost.sum()) / float(states.at_start.sum())
    if not len(mrr) or churn <= 0:
        return _none()
    monthly = 1.0 - (1.0 - churn) ** (DAYS_PER_MONTH / states.days)
    return Measure(value=float(mrr.mean()) / monthly, n=int(states.at_start.sum()),
                   ids=states.ids(states.at_start), id_kind="account_id")


@register_kpi(name="upsell_rate", unit="%", direction="higher",
              formula="accounts kept through the period with mrr > mrr_start / accounts kept x 100",
              requires=("accounts.mrr_start", "accounts.mrr"), category="revenue")
def upsell_rate(tables: Tables, config: KPIConfig) -> Measure:
    """Upsell rate: share of accounts kept through the period whose MRR went up, in %."""
    found = _kept_mrr(tables)
    if found is None:
        return _none()
    states, before, after, kept = found
    n = int(kept.sum())
    if not n:
        return _none()
    return Measure(value=100.0 * int((after[kept] > before[kept]).sum()) / n, n=n, ids=states.ids(kept),
                   id_kind="account_id")


@register_kpi(name="repurchase_rate", unit="%", direction="higher",
              formula="accounts with orders >= 2 / accounts with orders >= 1 x 100",
              requires=("accounts.orders",), category="revenue")
def repurchase_rate(tables: Tables, config: KPIConfig) -> Measure:
    """Repurchase rate: share of buying accounts that bought more than once, in %.

    Needs an ``orders`` column in accounts (purchases per account, for
    transactional rather than subscription businesses).
    """
    accounts = tables.accounts
    orders = numbers(accounts, ORDERS).to_numpy()
    with np.errstate(invalid="ignore"):
        buyers = orders >= 1
        repeat = orders >= 2
    n = int(buyers.sum())
    if not n:
        return _none()
    return Measure(value=100.0 * int(repeat.sum()) / n, n=n, ids=accounts["account_id"][buyers],
                   id_kind="account_id")
