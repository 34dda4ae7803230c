"""Grouped KPI reports from partial aggregates: every KPI for every group in one pass per table.

Each row of each table gets the code of its group (:class:`~cxlens.metrics._partials.Groups`);
a KPI with per-row contributions (``register_rows``) is reduced by group code, a KPI
with its own grouped form (``register_grouped``) computes all groups at once, and
only the KPIs with neither run once per group on that group's slice (the tables
named in their ``requires``; ``tickets`` brings ``tickets_all`` and ``surveys``).
The results equal the per-group loop's (``compute._grouped_loop``), which
tests/metrics/test_grouped_partials.py checks over every registered KPI.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from cxlens.config import KPIConfig
from cxlens.metrics import _topic_groups  # noqa: F401  (registers the topic view KPIs' grouped forms)
from cxlens.metrics._partials import Groups, reduce_rows
from cxlens.metrics._registry import KPI, Tables
from cxlens.metrics._split import SPLIT_TABLES, Split, plain, run_kpis, split_tables

__all__ = ["group_codes", "grouped_partials"]

log = logging.getLogger(__name__)


def group_codes(split: Split, tables: Tables) -> Groups:
    """The group code of every row of every split table, and each group's ticket set and bounds."""
    size = len(split.keys)
    index = {key: i for i, key in enumerate(split.keys)}
    codes: dict[str, np.ndarray] = {}
    for name in SPLIT_TABLES:  # a table every group sees whole (accounts by period) has no codes
        if split.part(name) == "split":
            out = np.full(len(split.frames[name]), -1, dtype=np.int64)
            for key, positions in split.positions[name].items():
                out[positions] = index[key]
            codes[name] = out
    starts, ends, ordinals, set_of_group = [], [], [], np.zeros(size, dtype=np.int64)
    tickets = tables.tickets
    set_index: dict[tuple, int] = {}
    ticket_sets = None
    if tickets is not None:
        ticket_sets = np.zeros(len(tickets), dtype=np.int64)
        if split.by:
            ticket_sets[:] = -1
            for i, (key, positions) in enumerate((split.ticket_groups or {}).items()):
                set_index[key] = i
                ticket_sets[positions] = i
    for g, key in enumerate(split.keys):
        labels, start, end = split.labels(key)
        starts.append(start or tables.period_start)
        ends.append(end or tables.period_end)
        if split.period:
            ordinals.append(key[-1].ordinal)
        if split.by:
            set_of_group[g] = set_index.get(tuple(labels[c] for c in split.by), -1)
    return Groups(tables=tables, size=size, codes=codes, ticket_sets=ticket_sets, set_of_group=set_of_group,
                  n_sets=max(len(set_index), 1), starts=starts, ends=ends, period=split.period,
                  period_ordinals=np.asarray(ordinals, dtype=np.int64) if split.period else None)


def _template(split: Split, tables: Tables) -> Tables:
    """Tables shaped like every group's (empty slices), to decide which KPIs the groups can compute."""
    parts = {}
    for name in SPLIT_TABLES:
        how = split.part(name)
        frame = split.frames[name]
        parts[name] = None if how == "none" else frame if how == "whole" else frame.iloc[0:0]
    parts["tickets_all"] = None if tables.tickets is None else tables.tickets.iloc[0:0]
    return Tables(**parts, period_start=tables.period_start, period_end=tables.period_end)


def _needed(kpis: Sequence[KPI]) -> set[str]:
    """The tables the per-group fallback must slice for ``kpis``."""
    needed: set[str] = set()
    for kpi in kpis:
        for need in kpi.requires:
            needed.update(option.split(".", 1)[0] for option in need.split("|"))
    if "tickets" in needed:
        needed.update(("tickets_all", "surveys"))
    return needed


def _loop(kpis: Sequence[KPI], split: Split, tables: Tables, config: KPIConfig) -> list[tuple[dict, dict]]:
    """The per-group computation of ``kpis``, slicing only the tables they need."""
    needed = _needed(kpis)
    ticket_slices: dict[tuple, pd.DataFrame | None] = {}
    return [run_kpis(kpis, split.group_tables(key, tables, needed=needed, ticket_slices=ticket_slices), config)
            for key in split.keys]


def grouped_partials(kpis: Sequence[KPI], tables: Tables, config: KPIConfig, *, by: list[str],
                     period: str | None) -> list[dict[str, Any]]:
    """The report's ``groups`` entries, as the per-group loop gives them."""
    split = split_tables(tables, by, period)
    if not split.keys:
        return []
    groups = group_codes(split, tables)
    template = _template(split, tables)
    group_kpis = [k for k in kpis if not k.missing_inputs(template)]
    results: dict[str, tuple[list[Any], np.ndarray]] = {}
    fallback = []
    for kpi in group_kpis:
        found = None
        if kpi.grouped is not None:
            found = kpi.grouped(groups, config)
        elif kpi.rows is not None:
            found = reduce_rows(kpi.rows(tables, config), groups)
        if found is None:
            fallback.append(kpi)
        else:
            results[kpi.name] = found
    looped = _loop(fallback, split, tables, config) if fallback else []
    if fallback:
        log.debug("KPIs computed per group: %s", ", ".join(k.name for k in fallback))
    entries = []
    for g, key in enumerate(split.keys):
        values: dict[str, Any] = {}
        counts: dict[str, int] = {}
        for kpi in group_kpis:
            if kpi.name in results:
                found_values, found_n = results[kpi.name]
                values[kpi.name] = plain(found_values[g])
                counts[kpi.name] = int(found_n[g])
            else:
                values[kpi.name] = looped[g][0][kpi.name]
                counts[kpi.name] = looped[g][1][kpi.name]
        entry = split.entry(key)
        entry.update(kpis=values, n=counts)
        entries.append(entry)
    return entries
