"""KPIs as partial aggregates: per-row contributions reduced for every group at once.

A grouped report used to slice the tables once per group and run every KPI on
each slice; with many small groups (1,667 agents) the per-call pandas overhead
dominated.  Here a KPI declares, once over the whole tables, what each row
contributes (:class:`Rows`), and the contributions are reduced per group from
the group code of each row (:class:`Groups`):

* ``mean``: ``scale x sum / n`` over the counted rows (a share is the mean of a
  0/1 hit over the eligible rows with ``scale=100``; an index the mean of
  +1/0/-1); the partial state is (sum, n) per group;
* ``count``: ``n``; ``sum``: the sum, with ``n``;
* ``median`` / ``p90``: exact, from the counted values sorted by (group, value)
  (the sorted runs are the state) read with numpy's own interpolation.

A :class:`Partial` holds that state for some rows (a chunk) and merges with
another chunk's: sums and counts add, sorted runs merge.  KPIs whose value is
not a reduction of row contributions (stocks such as ``backlog``, rankings,
tables per channel) register a grouped form of their own (``register_grouped``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from cxlens.metrics._registry import Tables

__all__ = ["Groups", "Partial", "Rows", "csat_surveys", "finish_partials", "group_counts", "partials",
           "reduce_rows", "sorted_quantiles"]

REDUCERS = ("mean", "count", "sum", "median", "p90")


@dataclass(frozen=True)
class Rows:
    """What each row of one table contributes to a KPI (the KPI's partial state before grouping).

    values: float64 per row of ``table``; NaN: the row is not counted.
    present: rows that make ``table`` the group's source; a group with none of
        them is computed from ``otherwise`` (surveys when a group has answers of
        that kind, else the tickets' column, as :func:`satisfaction.responses`).
    """

    table: str
    values: np.ndarray
    reduce: str = "mean"
    scale: float = 1.0
    present: np.ndarray | None = None
    otherwise: Rows | None = None

    def __post_init__(self) -> None:
        if self.reduce not in REDUCERS:
            raise ValueError(f"Rows.reduce {self.reduce!r} not in {REDUCERS}")


@dataclass(frozen=True)
class Groups:
    """Where every row of the whole tables falls among the groups of a grouped report.

    codes[table]: per row, the index of its group (-1: in none); only for tables
        split by the grouping.
    ticket_sets: per ticket row, the index of its ``by`` group whatever the
        creation date (the group's ``tickets_all``); set_of_group maps each group
        to it (-1: none).  Without ``by`` every ticket is in set 0.
    starts / ends: each group's period bounds (UTC), the tables' own without a period.
    """

    tables: Tables
    size: int
    codes: dict[str, np.ndarray]
    ticket_sets: np.ndarray | None
    set_of_group: np.ndarray
    n_sets: int
    starts: list[pd.Timestamp | None]
    ends: list[pd.Timestamp | None]
    period: str | None
    period_ordinals: np.ndarray | None = None
    # what several KPIs of one report share (e.g. the SLA outcomes), keyed by its maker
    shared: dict = field(default_factory=dict, repr=False, compare=False)

    def row_ends(self, table: str) -> pd.Series:
        """Per row of ``table``: the period end of its group (NaT for rows in no group)."""
        frame = getattr(self.tables, table)
        dtype = frame["created_at"].dtype if "created_at" in frame else "datetime64[ns, UTC]"
        if self.period is None:
            return pd.Series(self.ends[0] if self.ends else pd.NaT, index=frame.index, dtype=dtype)
        codes = self.codes[table]
        ends = np.array([end.as_unit("ns").value for end in self.ends], dtype=np.int64)
        picked = np.where(codes >= 0, ends[np.maximum(codes, 0)], np.iinfo(np.int64).min)
        stamps = pd.Series(picked.view("datetime64[ns]"), index=frame.index).dt.tz_localize("UTC")
        return stamps.astype(dtype)


def group_counts(codes: np.ndarray, mask: np.ndarray | None, size: int) -> np.ndarray:
    """Rows per group (only where ``mask``; codes < 0 dropped)."""
    keep = codes >= 0 if mask is None else (codes >= 0) & mask
    return np.bincount(codes[keep], minlength=size)


def csat_surveys(groups: Groups) -> tuple[np.ndarray | None, np.ndarray]:
    """(which survey rows are CSAT answers, which groups have any): a group with CSAT surveys reads them,
    the others the tickets' ``csat`` column, as :func:`cxlens.metrics.satisfaction.responses` picks per group.
    ``None`` and no group when the surveys cannot be split by the grouping or lack ``score`` / ``kind``."""
    surveys = groups.tables.surveys
    survey_group = groups.codes.get("surveys")
    if survey_group is None or "score" not in surveys or "kind" not in surveys:
        return None, np.zeros(groups.size, dtype=bool)
    kind = (surveys["kind"] == "csat").to_numpy(dtype=bool, na_value=False)
    return kind, group_counts(survey_group, kind, groups.size) > 0


def sorted_quantiles(codes: np.ndarray, values: np.ndarray, size: int, how: str) -> np.ndarray:
    """Per group, ``np.median`` or ``np.quantile(v, 0.9)`` of its values, exactly (NaN for empty groups).

    ``codes``/``values`` are sorted by (group, value) (a :class:`Partial`'s runs); each
    group's run is read at numpy's positions with numpy's interpolation (linear, ``_lerp``).
    """
    n = np.bincount(codes, minlength=size)
    first = np.concatenate(([0], np.cumsum(n)[:-1]))
    out = np.full(size, np.nan)
    has = n > 0
    if how == "median":
        low = first + (n - 1) // 2
        odd = has & (n % 2 == 1)
        even = has & (n % 2 == 0)
        out[odd] = values[low[odd]]
        out[even] = (values[low[even]] + values[low[even] + 1]) / 2
        return out
    q = 0.9
    virtual = (n[has] - 1) * q
    previous = np.floor(virtual)
    above = virtual >= n[has] - 1
    previous_i = np.where(above, n[has] - 1, previous).astype(np.int64)
    next_i = np.where(above, n[has] - 1, previous + 1).astype(np.int64)
    gamma = virtual - np.where(above, -1.0, previous)
    a = values[first[has] + previous_i]
    b = values[first[has] + next_i]
    diff = b - a
    result = a + diff * gamma
    upper = gamma >= 0.5
    result[upper] = (b - diff * (1 - gamma))[upper]
    out[has] = result
    return out


@dataclass(frozen=True)
class Partial:
    """The partial state of one :class:`Rows` source over some rows (a chunk), per group.

    n: counted rows; total: their sum (``mean``/``sum``); runs: the counted (group,
    value) pairs sorted by group then value (``median``/``p90``, exact); present:
    rows per group that make the source the group's source.  :meth:`merge` adds two
    chunks' states; :meth:`finish` gives the values.  Sums are added chunk by chunk,
    so a mean can differ from one pass in the last bits (float rounding).
    """

    reduce: str
    scale: float
    n: np.ndarray
    total: np.ndarray | None = None
    runs: tuple[np.ndarray, np.ndarray] | None = None
    present: np.ndarray | None = None

    @classmethod
    def of(cls, rows: Rows, codes: np.ndarray, size: int) -> Partial:
        """The state of ``rows`` whose group codes are ``codes`` (-1: in no group)."""
        values = np.asarray(rows.values, dtype=np.float64)
        used = (codes >= 0) & ~np.isnan(values)
        n = np.bincount(codes[used], minlength=size)
        total = runs = None
        if rows.reduce in ("median", "p90"):
            order = np.lexsort((values[used], codes[used]))
            runs = (codes[used][order], values[used][order])
        elif rows.reduce != "count":
            total = np.bincount(codes[used], weights=values[used], minlength=size)
        present = None if rows.present is None else group_counts(codes, np.asarray(rows.present, dtype=bool), size)
        return cls(reduce=rows.reduce, scale=rows.scale, n=n, total=total, runs=runs, present=present)

    def merge(self, other: Partial) -> Partial:
        """The state of both chunks' rows."""
        runs = None
        if self.runs is not None:
            codes = np.concatenate([self.runs[0], other.runs[0]])
            values = np.concatenate([self.runs[1], other.runs[1]])
            order = np.lexsort((values, codes))
            runs = (codes[order], values[order])
        return Partial(reduce=self.reduce, scale=self.scale, n=self.n + other.n,
                       total=None if self.total is None else self.total + other.total, runs=runs,
                       present=None if self.present is None else self.present + other.present)

    def finish(self) -> np.ndarray:
        """Per group: the value as float64, NaN where undefined (count: ``n``)."""
        size = len(self.n)
        if self.reduce == "count":
            return self.n.astype(np.float64)
        if self.runs is not None:
            return sorted_quantiles(self.runs[0], self.runs[1], size, self.reduce)
        if self.reduce == "sum":
            return self.total
        with np.errstate(invalid="ignore", divide="ignore"):
            value = self.scale * self.total / self.n
        return np.where(self.n > 0, value, np.nan)


def partials(rows: Rows, groups: Groups) -> list[Partial | None]:
    """The state of each source of ``rows`` (``None`` for a source whose table the groups lack)."""
    out = []
    source = rows
    while source is not None:
        codes = groups.codes.get(source.table)
        out.append(None if codes is None else Partial.of(source, codes, groups.size))
        source = source.otherwise
    return out


def finish_partials(rows: Rows, states: list[Partial | None], size: int) -> tuple[list[Any], np.ndarray]:
    """Per group: the value of the first source the group has (``present``), and its ``n``."""
    value = np.full(size, np.nan)
    n = np.zeros(size, dtype=np.int64)
    decided = np.zeros(size, dtype=bool)
    source = rows
    for state in states:
        if state is not None:
            last = source.otherwise is None
            take = ~decided if (state.present is None or last) else ~decided & (state.present > 0)
            value[take], n[take] = state.finish()[take], state.n[take]
            decided |= take
        source = source.otherwise
    if rows.reduce == "count":
        return [int(v) if d else None for v, d in zip(value.tolist(), decided)], n
    return [None if v != v else v for v in value.tolist()], n


def reduce_rows(rows: Rows, groups: Groups) -> tuple[list[Any], np.ndarray]:
    """Per group: the KPI's plain value (``None`` when undefined) and its ``n``."""
    return finish_partials(rows, partials(rows, groups), groups.size)
