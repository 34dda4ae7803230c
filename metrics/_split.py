"""Where each row of each table falls when KPIs are grouped by ticket columns and/or a period.

Both grouped engines (the per-group loop and the partial aggregates of
:mod:`cxlens.metrics._grouped`) start from the same :class:`Split`, so they
see the same groups, labels and period bounds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cxlens.config import KPIConfig
from cxlens.dataset import ticket_positions
from cxlens.errors import ConfigError
from cxlens.metrics._registry import KPI, PlainRows, Tables

__all__ = ["PERIODS", "SPLIT_TABLES", "TIME_COLUMNS", "Split", "plain", "run_kpis", "slice_frame", "split_tables"]

PERIODS = {"day": "D", "week": "W-SUN", "month": "M", "quarter": "Q", "year": "Y"}
# Where each table's rows fall in time, for period grouping.
TIME_COLUMNS = {"tickets": "created_at", "surveys": "responded_at", "mentions": "posted_at"}
SPLIT_TABLES = ("tickets", "messages", "surveys", "mentions", "accounts")


def run_kpis(kpis: Sequence[KPI], tables: Tables, config: KPIConfig) -> tuple[dict[str, Any], dict[str, int]]:
    """Each KPI's plain value and ``n`` on one set of tables."""
    values, counts = {}, {}
    for kpi in kpis:
        measure = kpi(tables, config)
        values[kpi.name] = plain(measure.value)
        counts[kpi.name] = int(measure.n)
    return values, counts


def plain(value: Any) -> Any:
    """numpy scalars and NaN -> JSON-ready Python values."""
    if isinstance(value, (np.floating, float)):
        return None if np.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, PlainRows):
        return value
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def period_bounds(label: pd.Period) -> tuple[pd.Timestamp, pd.Timestamp]:
    return (label.start_time.tz_localize("UTC"), label.end_time.tz_localize("UTC"))


def slice_frame(frame: pd.DataFrame | None, positions: np.ndarray | None) -> pd.DataFrame | None:
    if frame is None:
        return None
    if positions is None:
        return frame.iloc[0:0]
    return frame.iloc[positions]


def group_positions(frame: pd.DataFrame, keys: list[str]) -> dict[tuple, np.ndarray]:
    grouped = frame.groupby(keys, dropna=False, sort=True, observed=True).indices
    return {(k if isinstance(k, tuple) else (k,)): v for k, v in grouped.items()}


def _keyed(frame: pd.DataFrame | None, by: list[str], period: str | None, time_col: str | None,
           tickets_keys: pd.DataFrame | None) -> tuple[pd.DataFrame | None, list[str]]:
    """The grouping keys of ``frame``'s rows (a narrow frame, row-aligned) and which ones it has.

    Keys a table lacks are taken from its ticket (``ticket_id``) through an
    Arrow hash join, so no wide table is copied or joined.
    """
    if frame is None or not len(frame):
        return frame, []
    keys: dict[str, pd.Series] = {}
    via_ticket = tickets_keys is not None and "ticket_id" in frame.columns
    positions: list[np.ndarray] = []

    def from_ticket(col: str) -> pd.Series:
        if not positions:
            positions.append(ticket_positions(pd.Series(tickets_keys.index), frame["ticket_id"]))
        values = pd.api.extensions.take(tickets_keys[col].array, positions[0], allow_fill=True)
        return pd.Series(values, index=frame.index)

    for col in by:
        if col in frame.columns:
            keys[col] = frame[col]
        elif via_ticket:
            keys[col] = from_ticket(col)
    usable = [c for c in by if c in keys]
    if period is not None and time_col is not None and time_col in frame.columns:
        keys["_period"] = frame[time_col].dt.tz_convert(None).dt.to_period(PERIODS[period])
        usable.append("_period")
    elif period is not None and via_ticket:
        keys["_period"] = from_ticket("_period")
        usable.append("_period")
    return pd.DataFrame(keys, index=frame.index), usable


@dataclass
class Split:
    """The groups of a grouped computation and where each table's rows fall among them.

    ``positions[table]`` maps a group key to the table's row positions (``None``:
    the table cannot be split this way); ``ticket_groups`` maps the ``by`` part of
    a key to the rows of every ticket of that group whatever its creation date.
    """

    by: list[str]
    period: str | None
    frames: dict[str, pd.DataFrame | None]
    positions: dict[str, dict[tuple, np.ndarray] | None]
    keys: list[tuple]
    ticket_groups: dict[tuple, np.ndarray] | None

    def labels(self, key: tuple) -> tuple[dict[str, Any], pd.Timestamp | None, pd.Timestamp | None]:
        """The group's column values and its period bounds (``None`` without a period)."""
        labels = dict(zip(self.by + (["_period"] if self.period else []), key))
        start = end = None
        if self.period:
            start, end = period_bounds(labels.pop("_period"))
        return labels, start, end

    def entry(self, key: tuple) -> dict[str, Any]:
        """The group's labels as they appear in the report (``period``: its first day)."""
        labels, start, _ = self.labels(key)
        entry: dict[str, Any] = {c: (None if pd.isna(v) else v) for c, v in labels.items()}
        if self.period:
            entry["period"] = str(start.date())
        return entry

    def part(self, name: str) -> str:
        """How the group tables hold ``name``: ``"none"``, ``"whole"`` (every group sees it all) or ``"split"``."""
        if self.frames[name] is None:
            return "none"
        if self.positions[name] is None:
            # Not splittable this way. Accounts are a stock: every period sees all of them
            # (KPIs use period_start/end). Anything else would be wrongly attributed to
            # every group, so it is left out of the group's figures.
            return "whole" if name == "accounts" and not self.by else "none"
        return "split"

    def group_tables(self, key: tuple, tables: Tables, *, needed: set[str] | None = None,
                     ticket_slices: dict[tuple, pd.DataFrame | None] | None = None) -> Tables:
        """The tables of one group: each table's slice (``needed``: only those, the rest ``None``).

        ``tickets_all`` holds every ticket of the group's ``by`` values whatever its creation
        date; ``ticket_slices`` caches those slices across the periods of a group.
        """
        labels, start, end = self.labels(key)
        parts: dict[str, Any] = {}
        for name in SPLIT_TABLES:
            how = self.part(name) if needed is None or name in needed else "none"
            frame = self.frames[name]
            parts[name] = (None if how == "none" else frame if how == "whole"
                           else slice_frame(frame, self.positions[name].get(key)))
        tickets = tables.tickets
        if needed is not None and "tickets_all" not in needed:
            parts["tickets_all"] = None
        elif tickets is not None and self.by:
            ticket_key = tuple(labels[c] for c in self.by)
            cache = {} if ticket_slices is None else ticket_slices
            if ticket_key not in cache:
                found = self.ticket_groups.get(ticket_key) if self.ticket_groups else None
                cache[ticket_key] = slice_frame(tickets, found)
            parts["tickets_all"] = cache[ticket_key]
        else:
            parts["tickets_all"] = tickets
        return Tables(**parts, period_start=start or tables.period_start, period_end=end or tables.period_end)


def split_tables(tables: Tables, by: list[str], period: str | None) -> Split:
    """The groups of ``tables`` by ticket columns ``by`` and ``period`` (sorted as in the report)."""
    tickets = tables.tickets
    if tickets is not None and by and not all(c in tickets.columns for c in by):
        missing = [c for c in by if c not in tickets.columns]
        raise ConfigError(f"Cannot group by {missing}: the tickets table has no such column(s).")
    keys_frame = None
    if tickets is not None:
        keys_frame = tickets[["ticket_id", *by]].copy()
        if period is not None:
            keys_frame["_period"] = tickets["created_at"].dt.tz_convert(None).dt.to_period(PERIODS[period])
        keys_frame = keys_frame.drop_duplicates("ticket_id").set_index("ticket_id")

    frames, positions = {}, {}
    for name in SPLIT_TABLES:
        frame = getattr(tables, name)
        keyed, usable = _keyed(frame, by, period, TIME_COLUMNS.get(name),
                               keys_frame if name != "tickets" else None)
        full = usable == by + (["_period"] if period else [])
        frames[name] = frame
        positions[name] = (group_positions(keyed, usable) if (frame is not None and full and len(frame))
                           else None)
    # tickets of the group regardless of creation period, for stock KPIs (backlog)
    ticket_groups = (group_positions(tickets, by) if tickets is not None and by and len(tickets) else None)
    group_keys: set[tuple] = set()
    for found in positions.values():
        if found:
            group_keys.update(found)
    keys = sorted(group_keys, key=lambda k: tuple(str(x) for x in k))
    return Split(by=by, period=period, frames=frames, positions=positions, keys=keys, ticket_groups=ticket_groups)
