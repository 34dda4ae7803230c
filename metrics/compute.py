"""Wiring: compute registered KPIs over tables, overall and per group / period.

Grouping splits the tables once (``groupby(...).indices``), so the cost is
linear in the rows whatever the number of groups.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from cxlens.config import KPIConfig
from cxlens.errors import ConfigError
from cxlens.dataset import ticket_positions
from cxlens.metrics._registry import KPI, Measure, Tables, get_kpi, get_kpi_names

__all__ = ["KPIReport", "available_kpis", "compute_kpis", "explain_kpi", "make_tables"]

log = logging.getLogger(__name__)

PERIODS = {"day": "D", "week": "W-SUN", "month": "M", "quarter": "Q", "year": "Y"}
# Where each table's rows fall in time, for period grouping.
TIME_COLUMNS = {"tickets": "created_at", "surveys": "responded_at", "mentions": "posted_at"}


@dataclass
class KPIReport:
    """Values overall and per group; ``to_dict`` is the JSON contract."""

    kpis: dict[str, Any]
    n: dict[str, int]
    groups: list[dict[str, Any]] = field(default_factory=list)
    by: tuple[str, ...] = ()
    period: str | None = None
    skipped: dict[str, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"kpis": self.kpis, "n": self.n, "units": {k: get_kpi(k).unit for k in self.kpis},
                "by": list(self.by), "period": self.period, "groups": self.groups,
                "skipped": self.skipped}

    def to_frame(self) -> pd.DataFrame:
        """One row per group (or one row overall), one column per scalar KPI."""
        rows = self.groups or [{"kpis": self.kpis}]
        records = []
        for group in rows:
            record = {k: v for k, v in group.items() if k not in ("kpis", "n")}
            record.update({k: v for k, v in group["kpis"].items() if not isinstance(v, (dict, list))})
            records.append(record)
        return pd.DataFrame.from_records(records)


def make_tables(*, tickets: pd.DataFrame | None = None, messages: pd.DataFrame | None = None,
                accounts: pd.DataFrame | None = None, surveys: pd.DataFrame | None = None,
                mentions: pd.DataFrame | None = None, period_start: pd.Timestamp | None = None,
                period_end: pd.Timestamp | None = None) -> Tables:
    """Tables for an ungrouped computation; the period defaults to the data's time span."""
    stamps = []
    for name, frame in (("tickets", tickets), ("surveys", surveys), ("mentions", mentions)):
        if frame is not None and TIME_COLUMNS[name] in frame and len(frame):
            stamps.append(frame[TIME_COLUMNS[name]])
    if tickets is not None and len(tickets):
        for col in ("resolved_at", "first_response_at"):
            if col in tickets:
                stamps.append(tickets[col])
    if stamps and (period_start is None or period_end is None):
        all_stamps = pd.concat(stamps, ignore_index=True).dropna()
        if len(all_stamps):
            period_start = all_stamps.min() if period_start is None else period_start
            period_end = all_stamps.max() if period_end is None else period_end
    return Tables(tickets=tickets, messages=messages, accounts=accounts, surveys=surveys, mentions=mentions,
                  tickets_all=tickets, period_start=period_start, period_end=period_end)


def available_kpis(tables: Tables, names: Iterable[str] | None = None) -> tuple[list[KPI], dict[str, list[str]]]:
    """The KPIs computable from ``tables`` and, for the rest, what they miss."""
    chosen = [get_kpi(n) for n in (names or get_kpi_names())]
    ok, skipped = [], {}
    for kpi in chosen:
        missing = kpi.missing_inputs(tables)
        if missing:
            skipped[kpi.name] = missing
        else:
            ok.append(kpi)
    return ok, skipped


def _run(kpis: Sequence[KPI], tables: Tables, config: KPIConfig) -> tuple[dict[str, Any], dict[str, int]]:
    values, counts = {}, {}
    for kpi in kpis:
        measure = kpi(tables, config)
        values[kpi.name] = _plain(measure.value)
        counts[kpi.name] = int(measure.n)
    return values, counts


def _plain(value: Any) -> Any:
    """numpy scalars and NaN -> JSON-ready Python values."""
    if isinstance(value, (np.floating, float)):
        return None if np.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _period_bounds(label: pd.Period) -> tuple[pd.Timestamp, pd.Timestamp]:
    return (label.start_time.tz_localize("UTC"), label.end_time.tz_localize("UTC"))


def _slice(frame: pd.DataFrame | None, positions: np.ndarray | None) -> pd.DataFrame | None:
    if frame is None:
        return None
    if positions is None:
        return frame.iloc[0:0]
    return frame.iloc[positions]


def _group_positions(frame: pd.DataFrame, keys: list[str]) -> dict[tuple, np.ndarray]:
    grouped = frame.groupby(keys, dropna=False, sort=True, observed=True).indices
    return {(k if isinstance(k, tuple) else (k,)): v for k, v in grouped.items()}


def compute_kpis(tables: Tables, *, config: KPIConfig | None = None, names: Iterable[str] | None = None,
                 by: Sequence[str] = (), period: str | None = None) -> KPIReport:
    """Every KPI whose inputs are present, overall and per ``by`` group and ``period``.

    Ticket-level groups (``channel``, ``agent_id``, ``team``, ...) slice tickets
    and, through ``ticket_id``, their messages and surveys; surveys and
    mentions are sliced directly when they carry the column.  Accounts are
    sliced only by their own columns (e.g. ``plan``); otherwise account KPIs
    are reported overall only.
    """
    config = config or KPIConfig()
    kpis, skipped = available_kpis(tables, names)
    values, counts = _run(kpis, tables, config)
    report = KPIReport(kpis=values, n=counts, by=tuple(by), period=period, skipped=skipped)
    if not by and not period:
        return report
    if period is not None and period not in PERIODS:
        raise ConfigError(f"Unknown period {period!r}; use one of {', '.join(PERIODS)}.")
    report.groups = list(_grouped(kpis, tables, config, by=list(by), period=period))
    return report


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


def _grouped(kpis: Sequence[KPI], tables: Tables, config: KPIConfig, *, by: list[str], period: str | None):
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

    split: dict[str, tuple[pd.DataFrame | None, dict[tuple, np.ndarray] | None, list[str]]] = {}
    for name in ("tickets", "messages", "surveys", "mentions", "accounts"):
        frame = getattr(tables, name)
        keyed, usable = _keyed(frame, by, period, TIME_COLUMNS.get(name),
                               keys_frame if name != "tickets" else None)
        full = usable == by + (["_period"] if period else [])
        split[name] = (frame, _group_positions(keyed, usable) if (frame is not None and full and len(frame))
                       else None, usable)
    # tickets of the group regardless of creation period, for stock KPIs (backlog)
    all_positions = (_group_positions(tickets, by) if tickets is not None and by and len(tickets) else None)

    all_slices: dict[tuple, pd.DataFrame | None] = {}
    group_keys: set[tuple] = set()
    for _, positions, _ in split.values():
        if positions:
            group_keys.update(positions)
    for key in sorted(group_keys, key=lambda k: tuple(str(x) for x in k)):
        labels = dict(zip(by + (["_period"] if period else []), key))
        start = end = None
        if period:
            start, end = _period_bounds(labels.pop("_period"))
        parts = {}
        for name, (frame, positions, usable) in split.items():
            if frame is None:
                parts[name] = None
            elif positions is None:
                # Not splittable this way. Accounts are a stock: every period sees all of them
                # (KPIs use period_start/end). Anything else would be wrongly attributed to
                # every group, so it is left out of the group's figures.
                parts[name] = frame if name == "accounts" and not by else None
            else:
                parts[name] = _slice(frame, positions.get(key))
        if tickets is not None and by:
            ticket_key = tuple(labels[c] for c in by)
            if ticket_key not in all_slices:  # one slice per ticket group, shared by its periods
                all_slices[ticket_key] = _slice(tickets, all_positions.get(ticket_key) if all_positions else None)
            parts["tickets_all"] = all_slices[ticket_key]
        else:
            parts["tickets_all"] = tickets
        group_tables = Tables(**parts, period_start=start or tables.period_start, period_end=end or tables.period_end)
        group_kpis = [k for k in kpis if not k.missing_inputs(group_tables)]
        values, counts = _run(group_kpis, group_tables, config)
        entry: dict[str, Any] = {c: (None if pd.isna(v) else v) for c, v in labels.items()}
        if period:
            entry["period"] = str(start.date())
        entry.update(kpis=values, n=counts)
        yield entry


def explain_kpi(name: str, tables: Tables, *, config: KPIConfig | None = None) -> tuple[Measure, pd.DataFrame]:
    """The measure and the rows behind it (drill-down for ``cxlens kpis explain``)."""
    kpi = get_kpi(name)
    missing = kpi.missing_inputs(tables)
    if missing:
        raise ConfigError(f"KPI {name} cannot be computed: missing input(s) {', '.join(missing)}.")
    measure = kpi(tables, config or KPIConfig())
    if measure.ids is None:
        return measure, pd.DataFrame()
    source = {"ticket_id": tables.tickets_all if tables.tickets_all is not None else tables.tickets,
              "account_id": tables.accounts, "mention_id": tables.mentions,
              "agent_id": tables.tickets}.get(measure.id_kind)
    ids = pd.Series(measure.ids).dropna().unique()
    if source is None or measure.id_kind not in source:
        return measure, pd.DataFrame({measure.id_kind: ids})
    rows = source[source[measure.id_kind].isin(ids)]
    return measure, rows
