"""Resolution KPIs: handle time, first contact resolution, resolution rate, backlog, replies, cost.

"Resolved" means the ticket has a ``resolved_at``.  Rates over the tickets
*created* in the period use ``tables.tickets``; flows and stocks measured in
the period (resolutions in it, the backlog at its end) use ``tables.tickets_all``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxlens.config import KPIConfig
from cxlens.metrics._measures import flags, mean_measure, numbers, share_measure, share_rows, tickets_all
from cxlens.metrics._partials import Groups, Rows, group_counts
from cxlens.metrics._registry import Measure, Tables, register_grouped, register_kpi, register_rows
from cxlens.metrics._split import PERIODS
from cxlens.metrics.durations import utc_naive, wall_seconds

__all__ = [
    "average_handle_time_s", "backlog", "backlog_aged", "cost_per_resolution", "fcr_flags",
    "first_contact_resolution_rate", "open_at_period_end", "replies_per_resolution", "resolution_rate",
    "resolved_in_period", "self_service_rate",
]

CLOSED_STATUSES = ("solved", "closed")


def fcr_flags(tickets: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per ticket: (eligible, first-contact-resolved) masks.

    Eligible: resolved, and the number of contacts is known (``contacts``, else
    ``agent_replies``).  Hit: eligible, one contact (``contacts == 1``; where
    ``contacts`` is missing, exactly one agent reply) and not reopened.
    """
    resolved = tickets["resolved_at"].notna().to_numpy()
    contacts = numbers(tickets, "contacts").to_numpy()
    replies = numbers(tickets, "agent_replies").to_numpy()
    by_contacts = ~np.isnan(contacts)
    known = by_contacts | ~np.isnan(replies)
    one = np.where(by_contacts, contacts == 1, replies == 1)
    _, reopened = flags(tickets, "reopened")
    eligible = resolved & known
    return eligible, eligible & one & ~reopened


def resolved_in_period(tables: Tables) -> pd.Series:
    """Ids of the group's tickets (any creation date) resolved within [period_start, period_end]."""
    tickets = tickets_all(tables)
    resolved = tickets["resolved_at"]
    mask = resolved.notna()
    if tables.period_start is not None:
        mask &= resolved >= tables.period_start
    if tables.period_end is not None:
        mask &= resolved <= tables.period_end
    return tickets["ticket_id"][mask.to_numpy()]


def open_at_period_end(tables: Tables) -> tuple[pd.DataFrame, pd.Series, pd.Timestamp | None]:
    """(tickets, open mask, period end): created by ``period_end`` and not resolved by then.

    A ticket with no ``resolved_at`` but a solved/closed ``status`` is taken as
    resolved at an unknown time, so it is not open.  Without a period end, the
    latest timestamp in the data stands in for it.
    """
    tickets = tickets_all(tables)
    created, resolved = tickets["created_at"], tickets["resolved_at"]
    end = tables.period_end
    if end is None:
        stamps = pd.concat([created, resolved]).dropna()
        end = stamps.max() if len(stamps) else None
    if end is None:
        return tickets, pd.Series(False, index=tickets.index), None
    unresolved = resolved.isna().to_numpy()
    mask = (created <= end).to_numpy() & (unresolved | (resolved > end).to_numpy())
    if "status" in tickets:  # closed without a date: resolved at an unknown time
        mask[unresolved] &= ~tickets["status"][unresolved].isin(CLOSED_STATUSES).to_numpy()
    return tickets, pd.Series(mask, index=tickets.index), end


@register_kpi(name="average_handle_time_s", unit="s", direction="lower",
              formula="mean(handle_time_s) over handled tickets (handle_time_s > 0)",
              requires=("tickets.handle_time_s",), category="efficiency")
def average_handle_time_s(tables: Tables, config: KPIConfig) -> Measure:
    """Average handle time (talk + hold + after-contact work) per handled ticket, in seconds.

    Tickets with no recorded agent work (``handle_time_s`` missing or 0) are not handled.
    """
    tickets = tables.tickets
    seconds = numbers(tickets, "handle_time_s")
    return mean_measure(seconds.where(seconds > 0), tickets["ticket_id"])


@register_kpi(name="first_contact_resolution_rate", unit="%", direction="higher",
              formula="resolved with one contact (contacts == 1, else agent_replies == 1) and not reopened "
                      "/ resolved tickets x 100",
              requires=("tickets.resolved_at", "tickets.contacts|tickets.agent_replies"), category="resolution")
def first_contact_resolution_rate(tables: Tables, config: KPIConfig) -> Measure:
    """First contact resolution: resolved tickets that needed one contact and stayed solved, in %.

    Resolved tickets whose number of contacts is unknown (no ``contacts`` nor
    ``agent_replies`` value) are left out of both counts.
    """
    tickets = tables.tickets
    eligible, hit = fcr_flags(tickets)
    return share_measure(hit, eligible, tickets["ticket_id"])


@register_kpi(name="resolution_rate", unit="%", direction="higher",
              formula="tickets resolved in the period / tickets created in the period x 100",
              requires=("tickets.resolved_at",), category="resolution")
def resolution_rate(tables: Tables, config: KPIConfig) -> Measure:
    """Resolution rate: tickets resolved in the period over tickets received in it, in %.

    Resolutions count whatever the ticket's creation date, so the rate can exceed 100
    when old tickets are cleared.  ``ids`` are the resolved tickets.
    """
    received = len(tables.tickets)
    if not received:
        return Measure(value=None, n=0)
    resolved = resolved_in_period(tables)
    return Measure(value=100.0 * len(resolved) / received, n=received, ids=resolved)


@register_kpi(name="backlog", unit="count", direction="lower",
              formula="count(tickets created by period_end and not resolved by period_end)",
              requires=("tickets.resolved_at",), category="resolution")
def backlog(tables: Tables, config: KPIConfig) -> Measure:
    """Backlog: tickets still open (unresolved) at the end of the period."""
    tickets, open_mask, _ = open_at_period_end(tables)
    ids = tickets.loc[open_mask.to_numpy(), "ticket_id"]
    return Measure(value=len(ids), n=len(ids), ids=ids)


@register_kpi(name="backlog_aged", unit="count", direction="lower",
              formula="count(backlog tickets with period_end - created_at > backlog_age_s)",
              requires=("tickets.resolved_at",), category="resolution")
def backlog_aged(tables: Tables, config: KPIConfig) -> Measure:
    """Aged backlog: open tickets older than backlog_age_s (default 7 days) at the period end.

    Age is wall-clock time since ``created_at``.
    """
    tickets, open_mask, end = open_at_period_end(tables)
    if end is None:
        return Measure(value=0, n=0, ids=tickets["ticket_id"].iloc[0:0])
    age_s = wall_seconds(tickets["created_at"], pd.Series(end, index=tickets.index)).to_numpy()
    aged = open_mask.to_numpy() & (age_s > config.backlog_age_s)
    ids = tickets.loc[aged, "ticket_id"]
    return Measure(value=len(ids), n=len(ids), ids=ids)


@register_kpi(name="replies_per_resolution", unit="ratio", direction="lower",
              formula="mean(agent_replies) over resolved tickets",
              requires=("tickets.agent_replies", "tickets.resolved_at"), category="efficiency")
def replies_per_resolution(tables: Tables, config: KPIConfig) -> Measure:
    """Agent replies per resolution: mean public agent replies over resolved tickets."""
    tickets = tables.tickets
    replies = numbers(tickets, "agent_replies").where(tickets["resolved_at"].notna())
    return mean_measure(replies, tickets["ticket_id"])


@register_kpi(name="cost_per_resolution", unit="currency", direction="lower",
              formula="operating_cost / tickets resolved in the period",
              requires=("tickets.resolved_at",), category="efficiency")
def cost_per_resolution(tables: Tables, config: KPIConfig) -> Measure:
    """Cost per resolution: the period's operating cost over tickets resolved in it.

    ``None`` unless ``operating_cost`` is configured.  The cost is the whole
    scope's: in grouped reports each group divides the same cost.
    """
    if config.operating_cost is None:
        return Measure(value=None, n=0)
    resolved = resolved_in_period(tables)
    if not len(resolved):
        return Measure(value=None, n=0)
    return Measure(value=float(config.operating_cost) / len(resolved), n=len(resolved),
                   ids=resolved)


@register_kpi(name="self_service_rate", unit="%", direction="higher",
              formula="self_service tickets / tickets with self_service known x 100",
              requires=("tickets.self_service",), category="efficiency")
def self_service_rate(tables: Tables, config: KPIConfig) -> Measure:
    """Self-service rate: tickets solved without an agent (help centre, bot), in %."""
    tickets = tables.tickets
    known, hit = flags(tickets, "self_service")
    return share_measure(hit, known, tickets["ticket_id"])


# --- the same KPIs for every group at once (grouped reports; see cxlens.metrics._partials) ---

@register_rows("average_handle_time_s")
def _handle_time_rows(tables: Tables, config: KPIConfig) -> Rows:
    seconds = numbers(tables.tickets, "handle_time_s").to_numpy()
    with np.errstate(invalid="ignore"):
        return Rows("tickets", np.where(seconds > 0, seconds, np.nan))


@register_rows("first_contact_resolution_rate")
def _fcr_rows(tables: Tables, config: KPIConfig) -> Rows:
    eligible, hit = fcr_flags(tables.tickets)
    return share_rows("tickets", hit, eligible)


@register_rows("replies_per_resolution")
def _replies_rows(tables: Tables, config: KPIConfig) -> Rows:
    tickets = tables.tickets
    replies = numbers(tickets, "agent_replies").to_numpy()
    return Rows("tickets", np.where(tickets["resolved_at"].notna().to_numpy(), replies, np.nan))


@register_rows("self_service_rate")
def _self_service_rows(tables: Tables, config: KPIConfig) -> Rows:
    known, hit = flags(tables.tickets, "self_service")
    return share_rows("tickets", hit, known)


def _ordinals(stamps: pd.Series, period: str) -> np.ndarray:
    """The period ordinal of each timestamp (as ``compute`` labels groups); NaT -> int64 min."""
    return stamps.dt.tz_convert(None).dt.to_period(PERIODS[period]).array.asi8


def _per_group_of_sets(groups: Groups, mask: np.ndarray, ordinals: np.ndarray | None) -> np.ndarray:
    """Per group: the tickets of its ticket set (any creation date) where ``mask``, in its period
    (``ordinals``: each ticket's period) or overall without a period."""
    sets = groups.ticket_sets
    keep = mask & (sets >= 0)
    if ordinals is None:
        per_set = np.bincount(sets[keep], minlength=groups.n_sets)
        found = per_set[np.maximum(groups.set_of_group, 0)]
        return np.where(groups.set_of_group >= 0, found, 0)
    counted = pd.Series(1, index=pd.MultiIndex.from_arrays([sets[keep], ordinals[keep]])).groupby(level=[0, 1]).sum()
    wanted = pd.MultiIndex.from_arrays([groups.set_of_group, groups.period_ordinals])
    return counted.reindex(wanted, fill_value=0).to_numpy()


def _resolved_per_group(groups: Groups) -> np.ndarray:
    """Per group: its tickets (any creation date) resolved within its period (cf. resolved_in_period)."""
    resolved = groups.tables.tickets["resolved_at"]
    if groups.period is None:
        mask = resolved.notna()
        start, end = groups.starts[0], groups.ends[0]
        if start is not None:
            mask &= resolved >= start
        if end is not None:
            mask &= resolved <= end
        return _per_group_of_sets(groups, mask.to_numpy(dtype=bool), None)
    return _per_group_of_sets(groups, resolved.notna().to_numpy(), _ordinals(resolved, groups.period))


@register_grouped("resolution_rate")
def _resolution_rate_groups(groups: Groups, config: KPIConfig):
    received = group_counts(groups.codes["tickets"], None, groups.size)
    resolved = _resolved_per_group(groups)
    values = [None if not r else 100.0 * int(s) / int(r) for s, r in zip(resolved, received)]
    return values, received


@register_grouped("cost_per_resolution")
def _cost_groups(groups: Groups, config: KPIConfig):
    if config.operating_cost is None:
        return [None] * groups.size, np.zeros(groups.size, dtype=np.int64)
    resolved = _resolved_per_group(groups)
    values = [float(config.operating_cost) / int(r) if r else None for r in resolved]
    return values, resolved


def _open_spans(groups: Groups, aged: bool, config: KPIConfig):
    """Per ticket: the first and the end (exclusive) period ordinal in which it is in the backlog
    (aged: and older than backlog_age_s) at the period end; closed tickets with no date never are."""
    tickets = groups.tables.tickets
    created, resolved = tickets["created_at"], tickets["resolved_at"]
    unresolved = resolved.isna().to_numpy()
    counted = created.notna().to_numpy(dtype=bool, copy=True)  # created_at is required: a missing one never counts
    if "status" in tickets:
        counted[unresolved] &= ~tickets["status"][unresolved].isin(CLOSED_STATUSES).to_numpy()
    first = _ordinals(created, groups.period)
    stop = np.where(unresolved, np.iinfo(np.int64).max, _ordinals(resolved, groups.period))
    if aged:
        freq = PERIODS[groups.period]
        age = pd.to_timedelta(config.backlog_age_s, unit="s")
        candidate = _ordinals(created + age, groups.period)
        created_ns = utc_naive(created)

        def old_enough(ordinals: np.ndarray) -> np.ndarray:
            ends = pd.PeriodIndex.from_ordinals(ordinals, freq=freq).end_time.to_numpy()
            with np.errstate(invalid="ignore"):
                return (ends - created_ns) / np.timedelta64(1, "s") > config.backlog_age_s

        aged_from = np.where(old_enough(candidate), candidate, candidate + 1)
        first = np.maximum(first, aged_from)
    return first, stop, counted & (stop > first)


def _backlog_groups(groups: Groups, config: KPIConfig, aged: bool):
    tickets = groups.tables.tickets
    if groups.period is None:
        end = groups.ends[0]
        if end is None:
            return None  # the end comes from each group's own data: the per-group loop decides
        created, resolved = tickets["created_at"], tickets["resolved_at"]
        unresolved = resolved.isna().to_numpy()
        mask = (created <= end).to_numpy() & (unresolved | (resolved > end).to_numpy())
        if "status" in tickets:
            mask[unresolved] &= ~tickets["status"][unresolved].isin(CLOSED_STATUSES).to_numpy()
        if aged:
            age_s = wall_seconds(created, pd.Series(end, index=tickets.index)).to_numpy()
            mask &= age_s > config.backlog_age_s
        counts = _per_group_of_sets(groups, mask, None)
    else:
        first, stop, counted = _open_spans(groups, aged, config)
        counts = _open_counts(groups, first, stop, counted)
    return [int(c) for c in counts], counts


def _open_counts(groups: Groups, first: np.ndarray, stop: np.ndarray, counted: np.ndarray) -> np.ndarray:
    """Per group (ticket set s, period P): tickets of s with first <= P < stop (a running sum of +1/-1)."""
    sets = groups.ticket_sets
    keep = counted & (sets >= 0)
    wanted = groups.period_ordinals
    low = min(int(wanted.min()), int(first[keep].min())) if keep.any() else int(wanted.min())
    span = int(wanted.max()) - low + 2
    starts_at = np.clip(first[keep], low, low + span - 1) - low
    stops_at = np.clip(stop[keep], low, low + span - 1) - low
    base = sets[keep].astype(np.int64) * span
    keys = np.concatenate([base + starts_at, base + stops_at])
    steps = np.concatenate([np.ones(int(keep.sum()), dtype=np.int64), -np.ones(int(keep.sum()), dtype=np.int64)])
    order = np.argsort(keys, kind="stable")
    keys, running = keys[order], np.cumsum(steps[order])
    set_base = groups.set_of_group.astype(np.int64) * span
    query = set_base + (wanted - low)
    at = np.searchsorted(keys, query, side="right") - 1
    before = np.searchsorted(keys, set_base, side="left") - 1
    upto = np.where(at >= 0, running[np.maximum(at, 0)], 0)
    prior = np.where(before >= 0, running[np.maximum(before, 0)], 0)
    return np.where(groups.set_of_group >= 0, upto - prior, 0)


@register_grouped("backlog")
def _backlog_all(groups: Groups, config: KPIConfig):
    return _backlog_groups(groups, config, aged=False)


@register_grouped("backlog_aged")
def _backlog_aged_all(groups: Groups, config: KPIConfig):
    return _backlog_groups(groups, config, aged=True)
