"""The KPI registry: every KPI is a small pure function registered by name.

A KPI function takes the (already sliced) :class:`Tables` of one group and
the :class:`~cxlens.config.KPIConfig` and returns a :class:`Measure`::

    @register_kpi(
        name="csat", unit="%", direction="higher",
        formula="responses >= threshold / responses x 100",
        requires=("tickets.csat|surveys.score",),
    )
    def csat(tables: Tables, config: KPIConfig) -> Measure:
        '''Customer satisfaction: share of satisfied survey responses.'''

``requires`` lists ``table.column`` inputs; ``a|b`` means either will do.
A KPI is computed only when all its inputs are present.  Look KPIs up with
:func:`get_kpi` / :func:`get_kpi_names` (sklearn's ``get_scorer`` pattern).

Grouped reports compute every group at once when a KPI also declares its
per-row contributions (:func:`register_rows`) or an every-group form
(:func:`register_grouped`); see :mod:`cxlens.metrics._partials`.  A KPI with
neither still works: it runs once per group on the group's slice (slower with
many groups).  tests/metrics/test_grouped_partials.py holds both forms equal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from cxlens.config import KPIConfig
from cxlens.errors import UnknownNameError

__all__ = ["KPI", "Measure", "PlainRows", "Tables", "get_kpi", "get_kpi_names", "register_grouped", "register_kpi",
           "register_rows"]

UNITS = ("count", "%", "s", "score", "currency", "ratio", "table")
DIRECTIONS = ("higher", "lower", "neutral")
TABLE_NAMES = ("tickets", "messages", "accounts", "surveys", "mentions")


@dataclass(frozen=True)
class Tables:
    """The validated tables of one group, plus the period it covers.

    ``tickets`` holds the tickets *created* in the period (and group);
    ``tickets_all`` holds every ticket of the group whatever its creation date,
    for stock KPIs such as ``backlog`` that look at the state at
    ``period_end``.  ``period_start``/``period_end`` are tz-aware UTC.
    """

    tickets: pd.DataFrame | None = None
    messages: pd.DataFrame | None = None
    accounts: pd.DataFrame | None = None
    surveys: pd.DataFrame | None = None
    mentions: pd.DataFrame | None = None
    tickets_all: pd.DataFrame | None = None
    period_start: pd.Timestamp | None = None
    period_end: pd.Timestamp | None = None

    def has(self, table: str, column: str | None = None) -> bool:
        frame = getattr(self, table)
        if frame is None:
            return False
        return column is None or column in frame.columns


class PlainRows(list):
    """Rows (dicts) whose values are already JSON-ready Python values (str, int, float that is not NaN, None):
    the report takes them as they are instead of walking every value again."""


@dataclass(frozen=True)
class Measure:
    """One KPI value for one group.

    value: a number, ``None`` when undefined (no eligible rows), or a
    dict/list for table-shaped KPIs (``volume_by_channel``, ``top_performers``).
    n: how many rows the value is computed over.
    ids: the ids of those rows (ticket, account, mention...), for drill-down.
    """

    value: Any
    n: int
    ids: pd.Series | None = field(default=None, repr=False, compare=False)
    id_kind: str = "ticket_id"


@dataclass(frozen=True)
class KPI:
    """A registered KPI: metadata plus the pure function that computes it."""

    name: str
    unit: str
    direction: str
    formula: str
    requires: tuple[str, ...]
    func: Callable[[Tables, KPIConfig], Measure]
    category: str = "service"

    @property
    def rows(self) -> Callable[[Tables, KPIConfig], Any] | None:
        """Its per-row contributions for grouped reports (``register_rows``), if declared."""
        return _ROWS.get(self.name)

    @property
    def grouped(self) -> Callable[[Any, KPIConfig], Any] | None:
        """Its every-group-at-once form for grouped reports (``register_grouped``), if declared."""
        return _GROUPED.get(self.name)

    @property
    def doc(self) -> str:
        return (self.func.__doc__ or "").strip()

    @property
    def summary(self) -> str:
        return self.doc.splitlines()[0] if self.doc else ""

    def missing_inputs(self, tables: Tables) -> list[str]:
        """The required inputs that ``tables`` lacks (empty: computable)."""
        missing = []
        for need in self.requires:
            options = [opt.split(".", 1) for opt in need.split("|")]
            if not any(tables.has(t, c) for t, c in options):
                missing.append(need)
        return missing

    def __call__(self, tables: Tables, config: KPIConfig) -> Measure:
        return self.func(tables, config)


_KPIS: dict[str, KPI] = {}
# Optional partial aggregates for grouped reports (see cxlens.metrics._grouped), by KPI name:
# rows(tables, config) -> _partials.Rows, the per-row contributions reduced per group;
# grouped(groups, config) -> (values, n) per group, or None to fall back to the per-group loop.
_ROWS: dict[str, Callable] = {}
_GROUPED: dict[str, Callable] = {}


def register_kpi(*, name: str, unit: str, direction: str, formula: str, requires: tuple[str, ...],
                 category: str = "service") -> Callable[[Callable[[Tables, KPIConfig], Measure]], Callable]:
    """Decorator: add a KPI function to the registry under ``name``."""
    if unit not in UNITS:
        raise ValueError(f"KPI {name}: unit {unit!r} not in {UNITS}")
    if direction not in DIRECTIONS:
        raise ValueError(f"KPI {name}: direction {direction!r} not in {DIRECTIONS}")
    for need in requires:
        for option in need.split("|"):
            table, _, column = option.partition(".")
            if table not in TABLE_NAMES or not column:
                raise ValueError(f"KPI {name}: requirement {option!r} is not table.column")

    def decorate(func: Callable[[Tables, KPIConfig], Measure]) -> Callable[[Tables, KPIConfig], Measure]:
        if name in _KPIS:
            raise ValueError(f"KPI {name!r} is registered twice")
        if not (func.__doc__ or "").strip():
            raise ValueError(f"KPI {name!r} needs a docstring")
        _KPIS[name] = KPI(name=name, unit=unit, direction=direction, formula=formula,
                          requires=tuple(requires), func=func, category=category)
        return func

    return decorate


def _attach(name: str, store: dict[str, Callable]) -> Callable[[Callable], Callable]:
    def decorate(func: Callable) -> Callable:
        if name in _ROWS or name in _GROUPED:
            raise ValueError(f"KPI {name!r} has its grouped form registered twice")
        store[name] = func
        return func

    return decorate


def register_rows(name: str) -> Callable[[Callable], Callable]:
    """Decorator: the per-row contributions of KPI ``name`` (a ``_partials.Rows``), for grouped reports.

    ``func(tables, config)`` runs once over the whole, ungrouped tables; reducing
    its rows per group must give what the KPI function gives on each group's slice.
    """
    return _attach(name, _ROWS)


def register_grouped(name: str) -> Callable[[Callable], Callable]:
    """Decorator: KPI ``name`` for every group at once (a ``_partials.Groups`` in, ``(values, n)`` out)."""
    return _attach(name, _GROUPED)


def get_kpi(name: str) -> KPI:
    """The registered KPI called ``name``."""
    try:
        return _KPIS[name]
    except KeyError:
        raise UnknownNameError(kind="KPI", name=name, known=_KPIS) from None


def get_kpi_names() -> list[str]:
    """All registered KPI names, sorted."""
    return sorted(_KPIS)
