"""Volume KPIs: how many tickets, and over which channels."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxlens.config import KPIConfig
from cxlens.metrics._partials import Groups, Rows
from cxlens.metrics._registry import Measure, Tables, register_grouped, register_kpi, register_rows

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


# --- the same KPIs for every group at once (grouped reports; see cxlens.metrics._partials) ---

@register_rows("ticket_volume")
def _volume_rows(tables: Tables, config: KPIConfig) -> Rows:
    return Rows("tickets", np.zeros(len(tables.tickets)), reduce="count")


def _channel_counts_per_group(groups: Groups) -> tuple[list[list[tuple[str, int]]], np.ndarray]:
    """Per group, what _channel_counts gives on its slice: (channel, tickets) largest first, as
    value_counts orders ties (a categorical's category order, else first appearance), missing -> unknown."""
    channel = groups.tables.tickets["channel"]
    codes = groups.codes["tickets"]
    size = groups.size
    categorical = isinstance(channel.dtype, pd.CategoricalDtype)
    if categorical:
        label_codes = channel.cat.codes.to_numpy().astype(np.int64)
        labels = list(channel.cat.categories)
    else:
        label_codes, uniques = pd.factorize(channel)
        labels = list(uniques)
    label_codes = np.where(label_codes < 0, len(labels), label_codes)  # the missing channel last
    width = len(labels) + 1
    inside = codes >= 0
    cells = codes[inside] * width + label_codes[inside]
    counts = np.bincount(cells, minlength=size * width).reshape(size, width)
    first_seen = np.full(size * width, np.iinfo(np.int64).max)
    np.minimum.at(first_seen, cells, np.flatnonzero(inside))
    first_seen = first_seen.reshape(size, width)
    out = []
    for g in range(size):
        row = counts[g]
        present = [i for i in range(width) if row[i] or (categorical and i < len(labels))]
        if not categorical:
            present.sort(key=lambda i: first_seen[g, i])
        present.sort(key=lambda i: -row[i])
        pairs = [(labels[i] if i < len(labels) else None, int(row[i])) for i in present]
        if row[len(labels)]:  # a missing channel counts as "unknown", merged in order of appearance
            merged: dict[str, int] = {}
            for label, count in pairs:
                key = "unknown" if label is None else label
                merged[key] = merged.get(key, 0) + count
            pairs = sorted(merged.items(), key=lambda item: -item[1])
        out.append([(str(k), v) for k, v in pairs])
    return out, counts.sum(axis=1)


@register_grouped("volume_by_channel")
def _volume_by_channel_groups(groups: Groups, config: KPIConfig):
    per_group, n = _channel_counts_per_group(groups)
    return [dict(pairs) for pairs in per_group], n


@register_grouped("channel_share")
def _channel_share_groups(groups: Groups, config: KPIConfig):
    per_group, n = _channel_counts_per_group(groups)
    values = []
    for pairs, total in zip(per_group, n):
        values.append(None if not total else {"shares": {k: 100.0 * v / int(total) for k, v in pairs},
                                              "preferred": pairs[0][0]})
    return values, np.where(n > 0, n, 0)
