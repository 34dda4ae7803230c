"""Speed KPIs: first response time and resolution time (mean, median, p90)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxlens.config import KPIConfig
from cxlens.metrics._partials import Rows
from cxlens.metrics._registry import Measure, Tables, register_kpi, register_rows
from cxlens.metrics.durations import elapsed_seconds

__all__ = ["first_response_seconds", "resolution_seconds"]


def first_response_seconds(tickets: pd.DataFrame, config: KPIConfig) -> pd.Series:
    """Per ticket: first human agent reply minus creation, in (business) seconds; NaN if none."""
    return elapsed_seconds(tickets["created_at"], tickets["first_response_at"], config)


def resolution_seconds(tickets: pd.DataFrame, config: KPIConfig) -> pd.Series:
    """Per resolved ticket: ``resolved_at - created_at`` in (business) seconds; NaN if unresolved."""
    return elapsed_seconds(tickets["created_at"], tickets["resolved_at"], config)


def _stat(seconds: pd.Series, ids: pd.Series, how: str) -> Measure:
    values = seconds.to_numpy(dtype=np.float64)
    used = ~np.isnan(values)
    if not used.any():
        return Measure(value=None, n=0)
    kept = values[used]
    value = {"mean": np.mean, "median": np.median, "p90": lambda v: np.quantile(v, 0.9)}[how](kept)
    return Measure(value=float(value), n=len(kept), ids=ids[used])


def _register_duration_family(prefix: str, label: str, column: str, per_ticket) -> None:
    """Register ``{prefix}_mean_s``, ``_median_s`` and ``_p90_s`` for one per-ticket duration."""
    for how, words in (("mean", "Mean"), ("median", "Median"), ("p90", "90th percentile of")):
        def kpi(tables: Tables, config: KPIConfig, _how: str = how) -> Measure:
            tickets = tables.tickets
            return _stat(per_ticket(tickets, config), tickets["ticket_id"], _how)

        kpi.__doc__ = f"{words} {label}, in seconds (business seconds when configured)."
        kpi.__name__ = f"{prefix}_{how}_s"
        register_kpi(name=f"{prefix}_{how}_s", unit="s", direction="lower",
                     formula=f"{how}({column} - created_at) over tickets that have {column}",
                     requires=(f"tickets.{column}",), category="speed")(kpi)

        def rows(tables: Tables, config: KPIConfig, _how: str = how) -> Rows:
            return Rows("tickets", per_ticket(tables.tickets, config).to_numpy(dtype=np.float64), reduce=_how)

        register_rows(f"{prefix}_{how}_s")(rows)


_register_duration_family("first_response_time", "time to the first human agent reply", "first_response_at",
                          first_response_seconds)
_register_duration_family("resolution_time", "time to resolution over resolved tickets", "resolved_at",
                          resolution_seconds)
