"""What the dashboard pages are made of: filters, settings, and the Page / Chart / Metric records.

Plain data and plain functions, no Streamlit: :mod:`cxlens.pipelines.dashboard._pages` builds
:class:`Page` objects from a :class:`~cxlens.pipelines.score._output.ScoredArchive`; the Streamlit
app (:mod:`cxlens.pipelines.dashboard._app`) and the offline report
(:mod:`cxlens.pipelines.dashboard._report_html`) only render them.

Filters (period, channel, team, agent) select tickets; messages, QA rows and surveys follow their
ticket (surveys without a ticket are kept only when no channel/team/agent filter is set, and then
by their response date); mentions follow the period only; accounts are a stock and are never
filtered (account KPIs use the period bounds instead).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from cxlens.config import KPIConfig
from cxlens.metrics import Measure, Tables, get_kpi
from cxlens.pipelines._topic_alerts import TopicAlertRule
from cxlens.pipelines.score import ScoredArchive

__all__ = ["Chart", "DashboardFilters", "DashboardSettings", "FilteredArchive", "Metric", "Page", "RUN_SCORE_FIRST",
           "filter_choices", "filtered_archive", "format_value", "kpi_metric", "missing_notes", "month_bounds",
           "monthly_kpis", "score_first_note"]

RUN_SCORE_FIRST = "run `cxlens score` first"

TIME_COLUMNS = {"tickets": "created_at", "surveys": "responded_at", "mentions": "posted_at"}
MONTH = "month"
#: long free-text columns no KPI reads; left out of the KPI tables (and so of trend drill-down rows)
TEXT_COLUMNS = ("text", "customer_text")


#: fixed colours for series whose values carry a meaning (sentiment, health bands): red is always bad
SEMANTIC_COLOURS = {"negative": "#c0392b", "neutral": "#9e9e9e", "positive": "#3a9d5d",
                    "poor": "#c0392b", "average": "#e0a030", "good": "#3a9d5d"}


@dataclass(frozen=True)
class DashboardFilters:
    """Period (inclusive dates, UTC) and channel / team / agent selections (empty = all)."""

    start: date | None = None
    end: date | None = None
    channels: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    agents: tuple[str, ...] = ()

    @property
    def by_ticket(self) -> bool:
        """Whether a ticket-level filter (channel, team, agent) is set."""
        return bool(self.channels or self.teams or self.agents)


@dataclass(frozen=True)
class DashboardSettings:
    """KPI settings plus the two figures the data does not carry: the support cost and its target.

    ``monthly_cost`` is the support operating cost per calendar month (currency);
    ``cost_per_ticket_target`` is drawn as a line on the cost-per-ticket trend; ``alert_rule`` is
    when a topic's monthly growth is an emerging-topic alert on the topics page.
    """

    config: KPIConfig = field(default_factory=KPIConfig)
    monthly_cost: float | None = None
    cost_per_ticket_target: float | None = None
    alert_rule: TopicAlertRule = field(default_factory=TopicAlertRule)


def score_first_note(what: str, columns: str) -> str:
    """The note of a page or chart whose scored columns the archive lacks."""
    return f"{what} needs {columns}, which this archive does not have: {RUN_SCORE_FIRST} (see docs/score-output.md)."


@dataclass(frozen=True)
class Metric:
    """One headline figure; ``value`` is ``None`` when it cannot be computed (``note`` says why)."""

    label: str
    value: Any
    unit: str = ""
    n: int = 0
    kpi: str | None = None
    note: str = ""

    @property
    def text(self) -> str:
        return format_value(self.value, self.unit)


@dataclass
class Chart:
    """One chart: the drawn data, and the rows behind each bar or point.

    ``data`` has the ``x`` column, the ``y`` column and, for several series, the ``series``
    column. ``rows`` are the source rows (tickets, accounts, answers, ...) with a ``drill``
    column holding the ``x`` value each row belongs to (and the ``series`` column when there
    is one), so ``rows_for(x)`` is the drill-down. ``kind`` is ``bar``, ``line`` or ``table``.
    """

    key: str
    title: str
    kind: str
    data: pd.DataFrame
    x: str = ""
    y: str = ""
    series: str | None = None
    rows: pd.DataFrame | None = None
    drill: str | None = None
    unit: str = ""
    target: float | None = None
    note: str = ""

    def categories(self) -> list[Any]:
        """The ``x`` values that have rows behind them, in chart order."""
        if self.rows is None or self.drill is None or not len(self.data):
            return []
        present = set(self.rows[self.drill].dropna().astype(str))
        return [v for v in pd.unique(self.data[self.x]) if str(v) in present]

    def rows_for(self, value: Any, series: Any = None) -> pd.DataFrame:
        """The rows behind one bar / point (all rows when ``value`` is ``None``)."""
        if self.rows is None:
            return pd.DataFrame()
        rows = self.rows
        if value is not None and self.drill is not None:
            rows = rows.loc[(rows[self.drill].astype(str) == str(value)).to_numpy(dtype=bool, na_value=False)]
        if series is not None and self.series is not None and self.series in rows:
            rows = rows.loc[(rows[self.series].astype(str) == str(series)).to_numpy(dtype=bool, na_value=False)]
        return rows


@dataclass
class Page:
    """One dashboard page: headline metrics, charts, notes (what could not be shown, and why)."""

    key: str
    title: str
    summary: str
    metrics: list[Metric] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def metric(self, label: str) -> Metric:
        for item in self.metrics:
            if item.label == label:
                return item
        raise KeyError(label)

    def chart(self, key: str) -> Chart:
        for item in self.charts:
            if item.key == key:
                return item
        raise KeyError(key)


def format_value(value: Any, unit: str) -> str:
    """A figure as text: ``n/a`` when missing; % one decimal; seconds as s/min/h; money with commas."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if unit == "%":
        return f"{value:.1f} %"
    if unit == "s":
        if abs(value) >= 3600:
            return f"{value / 3600:.1f} h"
        return f"{value / 60:.1f} min" if abs(value) >= 120 else f"{value:.0f} s"
    if unit == "count":
        return f"{value:,.0f}"
    if unit == "currency":
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, float):
        return f"{value:,.1f}" if unit == "score" else f"{value:,.2f}"
    return str(value)


# ---------------------------------------------------------------- filtering
@dataclass
class FilteredArchive:
    """The archive after the filters, plus what the KPI engine needs beside it.

    ``data.tickets`` are the tickets created in the period; ``tickets_all`` the tickets of the
    channel / team / agent selection whatever their creation date (for the backlog). ``start`` /
    ``end`` span the period (the chosen dates, else the data's span); ``chosen`` holds only the
    dates the user picked (monthly figures are cut to them, else they cover whole months). KPI tables
    leave out the long text columns (no KPI reads them) and are cached per period, so the
    month-by-month trends slice each table once.
    """

    data: ScoredArchive
    tickets_all: pd.DataFrame | None
    start: pd.Timestamp | None
    end: pd.Timestamp | None
    chosen: tuple[pd.Timestamp | None, pd.Timestamp | None] = (None, None)
    _cache: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)

    def _narrow(self, name: str) -> pd.DataFrame | None:
        key = ("narrow", name)
        if key not in self._cache:
            frame = self.tickets_all if name == "tickets_all" else getattr(self.data, name)
            if frame is not None:
                frame = frame.drop(columns=[c for c in TEXT_COLUMNS if c in frame.columns])
            self._cache[key] = frame
        return self._cache[key]

    def tables(self, *, start: pd.Timestamp | None = None, end: pd.Timestamp | None = None) -> Tables:
        """KPI input tables for ``[start, end]`` (default: the whole filtered period)."""
        start = self.start if start is None else start
        end = self.end if end is None else end
        key = ("tables", start, end)
        if key not in self._cache:
            self._cache[key] = Tables(
                tickets=_between(self._narrow("tickets"), "tickets", start, end), messages=self._narrow("messages"),
                accounts=self.data.accounts, surveys=_between(self.data.surveys, "surveys", start, end),
                mentions=_between(self._narrow("mentions"), "mentions", start, end),
                tickets_all=self._narrow("tickets_all"), period_start=start, period_end=end)
        return self._cache[key]


def _between(frame: pd.DataFrame | None, table: str, start: pd.Timestamp | None,
             end: pd.Timestamp | None) -> pd.DataFrame | None:
    column = TIME_COLUMNS.get(table)
    if frame is None or column is None or column not in frame.columns:
        return frame
    mask = np.ones(len(frame), dtype=bool)
    if start is not None:
        mask &= (frame[column] >= start).to_numpy(dtype=bool, na_value=False)
    if end is not None:
        mask &= (frame[column] <= end).to_numpy(dtype=bool, na_value=False)
    return frame if mask.all() else frame.loc[mask]


def _values(frame: pd.DataFrame | None, column: str) -> list[str]:
    if frame is None or column not in frame.columns:
        return []
    return sorted(str(v) for v in frame[column].dropna().unique())


def filter_choices(archive: ScoredArchive) -> dict[str, Any]:
    """What the filter widgets offer: the data's date span and its channels, teams and agents."""
    tickets = archive.tickets
    span: tuple[date | None, date | None] = (None, None)
    if tickets is not None and "created_at" in tickets.columns and tickets["created_at"].notna().any():
        created = tickets["created_at"].dropna()
        span = (created.min().date(), created.max().date())
    return {"start": span[0], "end": span[1], "channels": _values(tickets, "channel"),
            "teams": _values(tickets, "team"), "agents": _values(tickets, "agent_id")}


def _period_bounds(archive: ScoredArchive,
                   filters: DashboardFilters) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    stamps = []
    for table, column in TIME_COLUMNS.items():
        frame = getattr(archive, table)
        if frame is not None and column in frame.columns:
            stamps.append(frame[column].dropna())
    if archive.tickets is not None:
        for column in ("resolved_at", "first_response_at"):
            if column in archive.tickets.columns:
                stamps.append(archive.tickets[column].dropna())
    stamps = [s for s in stamps if len(s)]
    start = end = None
    if stamps:
        start = min(s.min() for s in stamps)
        end = max(s.max() for s in stamps)
    if filters.start is not None:
        start = pd.Timestamp(filters.start, tz="UTC")
    if filters.end is not None:
        end = pd.Timestamp(filters.end, tz="UTC") + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
    return start, end


def _keep_by_ticket(frame: pd.DataFrame | None, ticket_ids: pd.Series) -> pd.DataFrame | None:
    if frame is None or "ticket_id" not in frame.columns:
        return frame
    return frame.loc[frame["ticket_id"].isin(ticket_ids).to_numpy(dtype=bool, na_value=False)]


def filtered_archive(archive: ScoredArchive, filters: DashboardFilters) -> FilteredArchive:
    """Apply ``filters`` (see the module docstring for what follows what)."""
    start, end = _period_bounds(archive, filters)
    tickets = archive.tickets
    tickets_all = tickets
    if tickets is not None:
        mask = np.ones(len(tickets), dtype=bool)
        for column, chosen in (("channel", filters.channels), ("team", filters.teams),
                               ("agent_id", filters.agents)):
            if chosen and column in tickets.columns:
                mask &= tickets[column].isin(chosen).to_numpy(dtype=bool, na_value=False)
        tickets_all = tickets if mask.all() else tickets.loc[mask]
        tickets = _between(tickets_all, "tickets", start, end)
    data = dataclasses.replace(archive, tickets=tickets)
    if tickets is not None:
        ids = tickets["ticket_id"]
        data.messages = _keep_by_ticket(archive.messages, ids)
        data.qa_conversations = _keep_by_ticket(archive.qa_conversations, ids)
        data.qa_steps = _keep_by_ticket(archive.qa_steps, ids)
        surveys = archive.surveys
        if surveys is not None and filters.by_ticket:
            linked = (surveys["ticket_id"].isin(tickets_all["ticket_id"]).to_numpy(dtype=bool, na_value=False)
                      if "ticket_id" in surveys.columns else np.zeros(len(surveys), dtype=bool))
            surveys = surveys.loc[linked]
        data.surveys = _between(surveys, "surveys", start, end)
    data.mentions = _between(archive.mentions, "mentions", start, end)
    chosen = (start if filters.start is not None else None, end if filters.end is not None else None)
    return FilteredArchive(data=data, tickets_all=tickets_all, start=start, end=end, chosen=chosen)


# ---------------------------------------------------------------- KPIs through the engine
def kpi_metric(name: str, tables: Tables, config: KPIConfig, *, label: str | None = None) -> Metric:
    """One registered KPI as a :class:`Metric`; a note says which inputs are missing."""
    kpi = get_kpi(name)
    label = label or name.replace("_", " ")
    missing = kpi.missing_inputs(tables)
    if missing:
        return Metric(label=label, value=None, unit=kpi.unit, kpi=name,
                      note=f"needs {', '.join(missing)}")
    measure: Measure = kpi(tables, config)
    value = measure.value
    if isinstance(value, (np.floating, float)) and math.isnan(float(value)):
        value = None
    note = "" if value is not None else "no eligible rows in the selection"
    return Metric(label=label, value=value, unit=kpi.unit, n=int(measure.n), kpi=name, note=note)


def missing_notes(metrics: list[Metric], skipped: list[tuple[str, str]] = ()) -> list[str]:
    """The page's notes on what could not be shown: one per missing input, then other reasons."""
    by_need: dict[str, list[str]] = {}
    other = []
    for metric in metrics:
        if metric.value is None and metric.note:
            if metric.note.startswith("needs "):
                by_need.setdefault(metric.note[len("needs "):], []).append(metric.label)
            else:
                other.append(f"{metric.label}: {metric.note}.")
    for what, need in skipped:
        by_need.setdefault(need, []).append(what)
    notes = [f"Not shown, the archive has no {need}: {', '.join(dict.fromkeys(labels))}."
             for need, labels in by_need.items()]
    return notes + other


def month_bounds(filtered: FilteredArchive) -> list[pd.Period]:
    """The calendar months the filtered period covers."""
    if filtered.start is None or filtered.end is None:
        return []
    return list(pd.period_range(filtered.start.tz_convert(None).to_period("M"),
                                filtered.end.tz_convert(None).to_period("M"), freq="M"))


def _source(tables: Tables, id_kind: str) -> pd.DataFrame | None:
    """The table a measure's ids point into (as in ``cxlens.metrics.explain_kpi``)."""
    return {"ticket_id": tables.tickets_all if tables.tickets_all is not None else tables.tickets,
            "account_id": tables.accounts, "mention_id": tables.mentions, "agent_id": tables.tickets}.get(id_kind)


def monthly_kpis(filtered: FilteredArchive, names: list[str], config: KPIConfig, *,
                 label: dict[str, str] | None = None,
                 cost_per_month: float | None = None) -> tuple[pd.DataFrame, pd.DataFrame, list[tuple[str, str]]]:
    """Each KPI per calendar month, through the engine, with the rows behind every point.

    Each month is sliced like ``compute_kpis(period="month")`` does (tickets by creation, surveys
    by response, mentions by posting; accounts whole with the month as the period), cut to the
    chosen dates when the user picked some. Returns
    ``(points, rows, skipped)``: points have ``month``, ``kpi``, ``value``, ``n``; rows are the
    source rows of each point (the measure's ids looked up as ``cxlens.metrics.explain_kpi``
    does) with ``month`` and ``kpi`` added; skipped are ``(what, missing inputs)`` for KPIs whose
    inputs are missing (see :func:`missing_notes`).
    ``cost_per_month`` sets each month's ``operating_cost`` (pro rata for a month the period
    covers in part).
    """
    label = label or {}
    points, skipped = [], []
    ids: dict[str, list[pd.DataFrame]] = {}
    base = filtered.tables()
    usable = []
    for name in names:
        missing = get_kpi(name).missing_inputs(base)
        if missing:
            skipped.append((f"{label.get(name, name.replace('_', ' '))} by month", ", ".join(missing)))
        else:
            usable.append(name)
    for month in month_bounds(filtered) if usable else []:
        start, end = month.start_time.tz_localize("UTC"), month.end_time.tz_localize("UTC")
        start = start if filtered.chosen[0] is None else max(start, filtered.chosen[0])
        end = end if filtered.chosen[1] is None else min(end, filtered.chosen[1])
        tables = filtered.tables(start=start, end=end)
        month_config = config
        if cost_per_month is not None:
            share = (end - start).total_seconds() / (month.end_time - month.start_time).total_seconds()
            month_config = dataclasses.replace(config, operating_cost=cost_per_month * min(1.0, share))
        for name in usable:
            measure = get_kpi(name)(tables, month_config)
            value = measure.value
            if isinstance(value, (float, np.floating)) and math.isnan(float(value)):
                value = None
            points.append({MONTH: str(month), "kpi": label.get(name, name), "value": value, "n": int(measure.n)})
            if measure.ids is not None and len(measure.ids):
                ids.setdefault(measure.id_kind, []).append(pd.DataFrame(
                    {measure.id_kind: pd.unique(pd.Series(measure.ids).dropna().to_numpy()),
                     MONTH: str(month), "kpi": label.get(name, name)}))
    point_frame = pd.DataFrame(points, columns=[MONTH, "kpi", "value", "n"])
    point_frame["value"] = pd.to_numeric(point_frame["value"], errors="coerce")
    rows = []
    for id_kind, parts in ids.items():
        keys = pd.concat(parts, ignore_index=True)
        source = _source(base, id_kind)
        if source is None or id_kind not in source.columns:
            rows.append(keys)
        else:
            source = source.drop_duplicates(id_kind) if id_kind != "agent_id" else source
            rows.append(keys.merge(source, on=id_kind, how="inner", sort=False))
    row_frame = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=[MONTH, "kpi"])
    return point_frame, row_frame, skipped
