"""Wiring: compute registered KPIs over tables, overall and per group / period.

Grouping splits the tables once (``groupby(...).indices``) and computes every
KPI for every group from partial aggregates (:mod:`cxlens.metrics._grouped`),
so the cost is linear in the rows whatever the number of groups.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from cxlens.config import KPIConfig
from cxlens.errors import ConfigError
from cxlens.metrics._grouped import grouped_partials
from cxlens.metrics._registry import KPI, Measure, Tables, get_kpi, get_kpi_names
from cxlens.metrics._split import PERIODS, TIME_COLUMNS, plain, run_kpis, split_tables

__all__ = ["KPIReport", "available_kpis", "compute_kpis", "explain_kpi", "make_tables"]

log = logging.getLogger(__name__)

_plain = plain  # kept for callers of the old private name


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


def _plain_values(tables: Tables) -> Tables:
    """``tables`` with categorical columns turned back into their values (a frame without one is not copied).

    The KPIs and the grouping read plain columns: on a categorical one, counts per value list categories no
    row has, ties break in category order, and a missing group key does not find its own tickets; a frame read
    from Parquet written by pandas brings its categoricals back. So they are converted where tables enter."""
    converted: dict[int, pd.DataFrame] = {}

    def plain_frame(frame: pd.DataFrame | None) -> pd.DataFrame | None:
        if frame is None:
            return None
        if id(frame) not in converted:
            out = frame
            for i, dtype in enumerate(frame.dtypes):
                if isinstance(dtype, pd.CategoricalDtype):
                    if out is frame:
                        out = frame.copy(deep=False)
                    column = frame.iloc[:, i]  # by position: column names need not be strings, nor distinct
                    # each value as its category holds it; missing values stay missing (int categories become
                    # float, as the plain column would have been)
                    values = column.cat.categories.take(column.cat.codes.to_numpy(), allow_fill=True, fill_value=None)
                    out.isetitem(i, pd.Series(values, index=frame.index))
            converted[id(frame)] = out
        return converted[id(frame)]

    parts = {name: plain_frame(getattr(tables, name))
             for name in ("tickets", "messages", "accounts", "surveys", "mentions", "tickets_all")}
    if all(parts[name] is getattr(tables, name) for name in parts):
        return tables
    return Tables(**parts, period_start=tables.period_start, period_end=tables.period_end)


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
    tables = _plain_values(tables)
    kpis, skipped = available_kpis(tables, names)
    values, counts = run_kpis(kpis, tables, config)
    report = KPIReport(kpis=values, n=counts, by=tuple(by), period=period, skipped=skipped)
    if not by and not period:
        return report
    if period is not None and period not in PERIODS:
        raise ConfigError(f"Unknown period {period!r}; use one of {', '.join(PERIODS)}.")
    report.groups = grouped_partials(kpis, tables, config, by=list(by), period=period)
    return report


def _grouped_loop(kpis: Sequence[KPI], tables: Tables, config: KPIConfig, *, by: list[str],
                  period: str | None) -> list[dict[str, Any]]:
    """The groups' entries computed one group at a time on each group's slice of every table.

    The reference the partial aggregates (:func:`~cxlens.metrics._grouped.grouped_partials`)
    are checked against; much slower with many groups.
    """
    split = split_tables(tables, by, period)
    ticket_slices: dict[tuple, pd.DataFrame | None] = {}  # one slice per ticket group, shared by its periods
    entries = []
    for key in split.keys:
        group_tables = split.group_tables(key, tables, ticket_slices=ticket_slices)
        group_kpis = [k for k in kpis if not k.missing_inputs(group_tables)]
        values, counts = run_kpis(group_kpis, group_tables, config)
        entry = split.entry(key)
        entry.update(kpis=values, n=counts)
        entries.append(entry)
    return entries


def explain_kpi(name: str, tables: Tables, *, config: KPIConfig | None = None) -> tuple[Measure, pd.DataFrame]:
    """The measure and the rows behind it (drill-down for ``cxlens kpis explain``)."""
    kpi = get_kpi(name)
    missing = kpi.missing_inputs(tables)
    if missing:
        raise ConfigError(f"KPI {name} cannot be computed: missing input(s) {', '.join(missing)}.")
    tables = _plain_values(tables)
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
