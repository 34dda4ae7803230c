"""Volume KPIs: how many tickets, and over which channels."""

from __future__ import annotations

import pandas as pd

from cxlens.config import KPIConfig
from cxlens.metrics._registry import Measure, Tables, register_kpi

__all__ = ["channel_share", "ticket_volume", "volume_by_channel"]


def _channel_counts(tables: Tables) -> pd.Series:
    """Tickets per channel, largest first; a missing channel counts as ``unknown``."""
    counts = tables.tickets["channel"].value_counts(dropna=False)
    if counts.index.hasnans:
        counts = counts.groupby(counts.index.fillna("unknown"), sort=False).sum().sort_values(
            ascending=False, kind="mergesort")
    return counts


@register_kpi(name="ticket_volume", unit="count", direction="neutral",
              formula="count(tickets created in the period)", requires=("tickets.ticket_id",),
              category="volume")
def ticket_volume(tables: Tables, config: KPIConfig) -> Measure:
    """Ticket volume: tickets received (created) in the period."""
    tickets = tables.tickets
    return Measure(value=len(tickets), n=len(tickets), ids=tickets["ticket_id"])


@register_kpi(name="volume_by_channel", unit="table", direction="neutral",
              formula="count(tickets) per channel", requires=("tickets.channel",), category="volume")
def volume_by_channel(tables: Tables, config: KPIConfig) -> Measure:
    """Tickets per channel (email, chat, phone, social, web, ...), largest first."""
    counts = _channel_counts(tables)
    return Measure(value={str(k): int(v) for k, v in counts.items()}, n=int(counts.sum()),
                   ids=tables.tickets["ticket_id"])


@register_kpi(name="channel_share", unit="table", direction="neutral",
              formula="count(tickets in channel) / count(tickets) x 100; preferred = most used",
              requires=("tickets.channel",), category="volume")
def channel_share(tables: Tables, config: KPIConfig) -> Measure:
    """Share of tickets per channel in %, with the preferred (most used) channel."""
    counts = _channel_counts(tables)
    total = int(counts.sum())
    if not total:
        return Measure(value=None, n=0)
    shares = {str(k): 100.0 * int(v) / total for k, v in counts.items()}
    return Measure(value={"shares": shares, "preferred": str(counts.index[0])}, n=total,
                   ids=tables.tickets["ticket_id"])
