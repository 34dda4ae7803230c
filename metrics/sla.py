"""SLA KPIs: did each ticket meet its first-response and resolution targets?

Targets come from :class:`~cxlens.config.SLAPolicy`, looked up per ticket as
``channel.priority``, then ``channel``, then ``*`` (keys are case-insensitive).
A check is decided per ticket:

* first response: **met** when the first agent reply came within the target;
  **breached** when it came later, or when none came and more than the target
  elapsed before the ticket was resolved (or before ``period_end`` if still
  open); a ticket resolved without any reply inside the target has nothing to
  judge (as in Zendesk, the target is dropped); an open ticket still inside the
  target is **pending**.
* resolution (only where a resolution target is set): elapsed time minus
  ``paused_s`` (time in paused statuses) against the target; open tickets are
  breached once past the target at ``period_end``, pending before.

A ticket is breached when any check is breached, met when every check that
applies is met; pending tickets and tickets without a target are not counted.
Durations are business seconds when ``config.use_business_hours`` is set.
"""

from __future__ import annotations

import weakref

import numpy as np
import pandas as pd

from cxlens.config import KPIConfig
from cxlens.metrics._measures import numbers
from cxlens.metrics._partials import Groups, Rows, reduce_rows
from cxlens.metrics._registry import Measure, Tables, register_grouped, register_kpi
from cxlens.metrics.durations import elapsed_seconds

__all__ = ["sla_breaches", "sla_compliance_rate", "sla_outcomes", "sla_targets"]

NA, MET, PENDING, BREACHED = 0, 1, 2, 3


def _lookup(table: dict[str, float], channel: object, priority: object) -> float:
    keys = []
    if channel is not None and priority is not None:
        keys.append(f"{channel}.{priority}")
    if channel is not None:
        keys.append(str(channel))
    keys.append("*")
    for key in keys:
        if key in table:
            return table[key]
    return np.nan


def _codes(frame: pd.DataFrame, column: str) -> tuple[np.ndarray, list]:
    if column not in frame:
        return np.full(len(frame), -1, dtype=np.int64), []
    codes, uniques = pd.factorize(frame[column], use_na_sentinel=True)
    return codes.astype(np.int64), [str(u).lower() for u in uniques]


def sla_targets(tickets: pd.DataFrame, pairs: tuple[tuple[str, float], ...]) -> np.ndarray:
    """Per ticket: the target in seconds for its channel/priority (NaN: no target).

    Vectorised: the lookup runs once per (distinct channel x distinct priority), not per ticket.
    """
    if not pairs or not len(tickets):
        return np.full(len(tickets), np.nan)
    table = {str(k).lower(): float(v) for k, v in pairs}
    channel_codes, channels = _codes(tickets, "channel")
    priority_codes, priorities = _codes(tickets, "priority")
    width = len(priorities) + 1
    per_combo = np.array([
        _lookup(table, channels[c] if c >= 0 else None, priorities[p] if p >= 0 else None)
        for c in range(-1, len(channels)) for p in range(-1, len(priorities))
    ], dtype=np.float64)
    return per_combo[(channel_codes + 1) * width + (priority_codes + 1)]


def _period_end_series(tickets: pd.DataFrame, end: pd.Timestamp | None) -> pd.Series:
    return pd.Series(end if end is not None else pd.NaT, index=tickets.index,
                     dtype=tickets["created_at"].dtype)


def _first_response_state(tickets: pd.DataFrame, config: KPIConfig, end: pd.Series) -> np.ndarray:
    target = sla_targets(tickets, config.sla.first_response_s)
    state = np.full(len(tickets), NA, dtype=np.int8)
    if "first_response_at" not in tickets or np.isnan(target).all():
        return state
    first = tickets["first_response_at"]
    resolved = tickets["resolved_at"] if "resolved_at" in tickets else _period_end_series(tickets, None)
    responded = first.notna().to_numpy()
    stop = first.where(first.notna(), resolved).fillna(end)
    seconds = elapsed_seconds(tickets["created_at"], stop, config).to_numpy()
    has_target = ~np.isnan(target)
    with np.errstate(invalid="ignore"):
        late = has_target & (seconds > target)
        on_time = has_target & responded & (seconds <= target)
    unanswered_resolved = ~responded & resolved.notna().to_numpy()
    state[has_target & ~late & ~on_time & ~unanswered_resolved] = PENDING
    state[on_time] = MET
    state[late] = BREACHED
    return state


def _resolution_state(tickets: pd.DataFrame, config: KPIConfig, end: pd.Series) -> np.ndarray:
    target = sla_targets(tickets, config.sla.resolution_s)
    state = np.full(len(tickets), NA, dtype=np.int8)
    if "resolved_at" not in tickets or np.isnan(target).all():
        return state
    resolved_at = tickets["resolved_at"]
    resolved = resolved_at.notna().to_numpy()
    seconds = elapsed_seconds(tickets["created_at"], resolved_at.fillna(end), config).to_numpy()
    seconds = seconds - np.nan_to_num(numbers(tickets, "paused_s").to_numpy(), nan=0.0)
    has_target = ~np.isnan(target)
    with np.errstate(invalid="ignore"):
        late = has_target & (seconds > target)
        on_time = has_target & resolved & (seconds <= target)
    state[has_target & ~late & ~on_time] = PENDING
    state[on_time] = MET
    state[late] = BREACHED
    return state


# The last outcome computed, so sla_compliance_rate and sla_breaches on the same tables work once:
# (weak reference to the tickets frame, config, period_end, outcomes).
_LAST: list[tuple[weakref.ref, KPIConfig, pd.Timestamp | None, np.ndarray]] = []


def sla_outcomes(tables: Tables, config: KPIConfig) -> np.ndarray:
    """Per ticket of ``tables.tickets``: 0 no target, 1 met, 2 pending, 3 breached (read-only array)."""
    tickets = tables.tickets
    if _LAST:
        ref, last_config, last_end, outcome = _LAST[0]
        if ref() is tickets and last_config is config and last_end is tables.period_end:
            return outcome
    end = _period_end_series(tickets, tables.period_end)
    outcome = np.maximum(_first_response_state(tickets, config, end), _resolution_state(tickets, config, end))
    outcome.flags.writeable = False
    _LAST[:] = [(weakref.ref(tickets), config, tables.period_end, outcome)]
    return outcome


@register_kpi(name="sla_compliance_rate", unit="%", direction="higher",
              formula="tickets meeting every SLA target that applies / tickets with a decided SLA x 100",
              requires=("tickets.first_response_at|tickets.resolved_at",), category="sla")
def sla_compliance_rate(tables: Tables, config: KPIConfig) -> Measure:
    """SLA compliance: tickets whose first response (and resolution, where targeted) met the policy, in %.

    Pending tickets (open, still inside their target) and tickets with no target are not counted.
    """
    outcome = sla_outcomes(tables, config)
    decided = (outcome == MET) | (outcome == BREACHED)
    n = int(decided.sum())
    if not n:
        return Measure(value=None, n=0)
    met = int((outcome == MET).sum())
    return Measure(value=100.0 * met / n, n=n, ids=tables.tickets["ticket_id"][decided])


@register_kpi(name="sla_breaches", unit="count", direction="lower",
              formula="count(tickets that breached a first-response or resolution target)",
              requires=("tickets.first_response_at|tickets.resolved_at",), category="sla")
def sla_breaches(tables: Tables, config: KPIConfig) -> Measure:
    """SLA breaches: tickets that missed a first-response or resolution target (ids for drill-down)."""
    breached = sla_outcomes(tables, config) == BREACHED
    ids = tables.tickets["ticket_id"][breached]
    return Measure(value=len(ids), n=len(ids), ids=ids)


# --- the same KPIs for every group at once: each ticket judged at its own group's period end ---

def _grouped_outcomes(groups: Groups, config: KPIConfig) -> np.ndarray:
    """Per ticket: its outcome at the end of its group's period (shared by the two SLA KPIs)."""
    key = ("sla_outcomes", id(config))
    if key not in groups.shared:
        tickets = groups.tables.tickets
        end = groups.row_ends("tickets")
        groups.shared[key] = (config, np.maximum(_first_response_state(tickets, config, end),
                                                 _resolution_state(tickets, config, end)))
    return groups.shared[key][1]


@register_grouped("sla_compliance_rate")
def _compliance_groups(groups: Groups, config: KPIConfig):
    outcome = _grouped_outcomes(groups, config)
    decided = (outcome == MET) | (outcome == BREACHED)
    return reduce_rows(Rows("tickets", np.where(decided, outcome == MET, np.nan), scale=100.0), groups)


@register_grouped("sla_breaches")
def _breaches_groups(groups: Groups, config: KPIConfig):
    breached = _grouped_outcomes(groups, config) == BREACHED
    return reduce_rows(Rows("tickets", np.where(breached, 0.0, np.nan), reduce="count"), groups)
