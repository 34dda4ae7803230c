"""Resolution KPIs: handle time, first contact resolution, resolution rate, backlog, replies, cost.

"Resolved" means the ticket has a ``resolved_at``.  Rates over the tickets
*created* in the period use ``tables.tickets``; flows and stocks measured in
the period (resolutions in it, the backlog at its end) use ``tables.tickets_all``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxlens.config import KPIConfig
from cxlens.metrics._measures import flags, mean_measure, numbers, share_measure, tickets_all
from cxlens.metrics._registry import Measure, Tables, register_kpi
from cxlens.metrics.durations import wall_seconds

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
