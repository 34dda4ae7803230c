"""The at-risk back-test: of the accounts flagged on past dates, how many churned (no look-ahead).

For each past date ``d`` (``as_of - horizon``, then every ``step_days`` back) a fresh churn model is
trained with :func:`cxlens.pipelines.accounts.train_churn` at ``as_of=d``: its features only see what
happened before ``d`` and its labels come from windows that closed before ``d``. The accounts that were
customers at ``d`` are then scored with features at ``d``, and the truth is whether ``churned_at`` falls in
``[d, d + horizon)``. Reported per date: the base rate, precision at 10/20/50 and its lift over the base
rate, and each candidate at-risk rule's flagged count, precision and lift.

The accounts table's usage counters (``logins_30d``, ``active_users``... :func:`cxlens.models.signals.signal_for`)
count a window that ends at the export, so at a past date they are look-ahead (an account that churned
since shows its fall in them): the back-test leaves them out. Limitation: the other account columns (plan,
MRR, seats) are one row per account ("now"), not replayed in time (docs/models/churn.md).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from cxlens.errors import DataError
from cxlens.models.features import FeatureTables, as_utc, build_features, default_as_of
from cxlens.models.risk import DEFAULT_RISK_RULE, RiskRule, precision_at, rule_precision
from cxlens.models.signals import BEHAVIOUR, SIGNALS, signal_for

__all__ = ["CANDIDATE_RULES", "backtest_records", "backtest_rule", "risk_backtest", "usage_columns"]

log = logging.getLogger(__name__)
#: the rules the back-test compares (the default first)
CANDIDATE_RULES = (DEFAULT_RISK_RULE, RiskRule("relative", 2.0))


def _rule_key(rule: RiskRule) -> str:
    return f"{rule.kind}_{rule.value:g}"


def usage_columns(accounts: pd.DataFrame) -> list[str]:
    """The accounts table's usage counters: windowed values as of the export, unknown at a past date."""
    return [c for c in accounts.columns
            if c not in SIGNALS and c not in BEHAVIOUR and signal_for(str(c)) is not None]


def risk_backtest(tables: FeatureTables, *, train, as_of: str | pd.Timestamp | None = None,
                  horizon_days: float = 90.0,
                  n_dates: int = 3, step_days: float = 30.0, ks: tuple[int, ...] = (10, 20, 50),
                  rules: tuple[RiskRule, ...] = CANDIDATE_RULES, model_kind: str = "auto",
                  random_state: int = 0) -> pd.DataFrame:
    """One row per past date (newest first); see the module docstring. Empty without ``churned_at`` or
    without enough history (a date the model cannot be trained for is skipped, with a log line).
    ``train``: :func:`cxlens.pipelines.accounts.train_churn` (passed in: that module calls this one)."""
    accounts = tables.accounts
    if "churned_at" not in accounts or not accounts["churned_at"].notna().any():
        log.info("back-test skipped: the accounts have no churned_at dates")
        return pd.DataFrame()
    as_of = default_as_of(tables) if as_of is None else as_utc(as_of)
    churned = accounts.drop_duplicates("account_id").set_index("account_id")["churned_at"]
    dropped = usage_columns(accounts)
    if dropped:  # today's usage counters would tell the past dates who churned since
        log.info("back-test: usage columns left out (values as of the export): %s", ", ".join(map(str, dropped)))
        tables = FeatureTables(accounts=accounts.drop(columns=dropped), tickets=tables.tickets,
                               messages=tables.messages, surveys=tables.surveys)
    rows = []
    for i in range(n_dates):
        date = as_of - pd.Timedelta(days=horizon_days + step_days * i)
        try:
            model = train(tables, horizon_days=horizon_days, as_of=date, model=model_kind,
                                random_state=random_state).model
            features = build_features(tables, as_of=date)
        except DataError as exc:
            log.info("back-test: no model for %s (%s)", f"{date:%Y-%m-%d}", exc)
            continue
        p = model.predict_proba(features)[:, 1]
        when = churned.reindex(features.index)
        y = ((when >= date) & (when < date + pd.Timedelta(days=horizon_days))).fillna(False).to_numpy(dtype=float)
        base = float(y.mean())
        row: dict[str, object] = {"date": f"{date:%Y-%m-%d}", "accounts": len(y), "churned": int(y.sum()),
                                  "base_rate": base}
        for k in ks:
            precision = precision_at(y, p, k)
            row[f"precision_at_{k}"] = precision
            row[f"lift_at_{k}"] = precision / base if precision is not None and base > 0 else None
        for rule in rules:
            n, precision = rule_precision(y, p, rule)
            key = _rule_key(rule)
            row[f"{key}_flagged"] = n
            row[f"{key}_precision"] = precision
            row[f"{key}_lift"] = precision / base if precision is not None and base > 0 else None
        rows.append(row)
    return pd.DataFrame(rows)


def backtest_rule(backtest: pd.DataFrame, rules: tuple[RiskRule, ...] = CANDIDATE_RULES) -> tuple[RiskRule, str]:
    """The candidate rule with the highest mean precision over the back-test's dates (the first rule, the
    default, on a tie or without a back-test), and why, in words."""
    if backtest is None or not len(backtest):
        return rules[0], "no back-test (no churn history before the review date): the default rule"
    means = {}
    for rule in rules:
        column = f"{_rule_key(rule)}_precision"
        values = pd.to_numeric(backtest.get(column), errors="coerce") if column in backtest else pd.Series([])
        # a date on which the rule flagged nobody counts as precision 0: a flag must flag someone
        means[rule] = float(values.fillna(0.0).mean()) if len(values) else -1.0
    best = max(rules, key=lambda r: (means[r], r == rules[0]))
    words = ", ".join(f"{r.describe()}: {means[r]:.0%}" if means[r] >= 0 else f"{r.describe()}: n/a" for r in rules)
    return best, f"chosen by the back-test over {len(backtest)} past dates (mean precision {words})"


def backtest_records(backtest: pd.DataFrame) -> list[dict[str, object]]:
    """The back-test as JSON-ready rows (NaN -> None)."""
    if backtest is None or not len(backtest):
        return []
    clean = backtest.astype(object).where(backtest.notna(), None)
    return [{k: (float(v) if isinstance(v, (np.floating,)) else int(v) if isinstance(v, np.integer) else v)
             for k, v in row.items()} for row in clean.to_dict(orient="records")]
