"""KPIs per topic and per top-level topic, all through the KPI engine (``compute_kpis(..., by=[level])``).

Topics come in two levels: ``topic`` (the subtopic a ticket was assigned) and ``topic_parent``
(its top-level topic). Tickets scored before topics had levels carry only ``topic``; then each
topic is its own parent (:func:`tickets_with_topic_levels`), and the two levels are the same.

:func:`topic_kpi_table` is one row per topic of a level with volume, share, trend, first response
and resolution time, CSAT with its answers and coverage, negative-sentiment share, request-type
mix, reopen rate and the accounts with the most tickets: every figure is a registered KPI
(:data:`TOPIC_KPIS`), none is recomputed here. :func:`monthly_topic_trends` is the
``ticket_volume`` KPI per topic and calendar month, in the trends layout the emerging-topic
alerts read (:func:`cxlens.pipelines._topic_alerts.topic_alerts`).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from cxlens.config import KPIConfig
from cxlens.metrics import Tables, compute_kpis, get_kpi

__all__ = ["LEVELS", "OUTLIER", "PARENT", "TOPIC_KPIS", "has_topic_hierarchy", "monthly_topic_trends",
           "tables_at_level", "tickets_with_topic_levels", "topic_kpi_table"]

PARENT = "topic_parent"
OUTLIER = "outlier"
#: the two levels: tickets' column -> the heading of its column in a KPI table
LEVELS = {PARENT: "top-level topic", "topic": "topic"}
#: the registered KPIs of a topic's row, in column order
TOPIC_KPIS = ("ticket_volume", "first_response_time_median_s", "resolution_time_median_s", "csat", "csat_coverage",
              "negative_share", "reopen_rate", "request_type_share", "top_accounts_by_tickets")
#: KPI -> column heading (durations are shown in hours)
HEADINGS = {"ticket_volume": "tickets", "first_response_time_median_s": "first response median (h)",
            "resolution_time_median_s": "resolution median (h)", "csat": "CSAT %", "csat_coverage": "CSAT coverage %",
            "negative_share": "negative %", "reopen_rate": "reopen %", "request_type_share": "request types",
            "top_accounts_by_tickets": "top accounts (tickets)"}
MIX = 3


def tickets_with_topic_levels(tickets: pd.DataFrame) -> pd.DataFrame:
    """``tickets`` with ``topic_parent`` set wherever ``topic`` is (a topic without a parent is its own)."""
    if "topic" not in tickets.columns:
        return tickets
    if PARENT in tickets.columns and not (tickets[PARENT].isna().to_numpy()
                                          & tickets["topic"].notna().to_numpy()).any():
        return tickets  # both levels already set: no copy
    topic = tickets["topic"].astype(object)
    parent = tickets[PARENT].astype(object) if PARENT in tickets.columns else pd.Series(None, index=tickets.index,
                                                                                       dtype=object)
    filled = parent.where(parent.notna() & topic.notna(), topic)
    return tickets.assign(**{PARENT: filled.to_numpy()})


def has_topic_hierarchy(tickets: pd.DataFrame | None) -> bool:
    """Whether any ticket's top-level topic differs from its topic (two levels to show)."""
    if tickets is None or "topic" not in tickets.columns or PARENT not in tickets.columns:
        return False
    known = tickets["topic"].notna().to_numpy() & tickets[PARENT].notna().to_numpy()
    return bool((tickets["topic"].astype(object).to_numpy()[known]
                 != tickets[PARENT].astype(object).to_numpy()[known]).any())


def _with_topic(frame: pd.DataFrame | None) -> pd.DataFrame | None:
    """The rows with a topic that is not the outlier bucket, with both levels set."""
    if frame is None or "topic" not in frame.columns:
        return frame
    frame = tickets_with_topic_levels(frame)
    keep = frame["topic"].notna().to_numpy() & (frame["topic"].astype(str) != OUTLIER).to_numpy()
    if "topic_id" in frame.columns:
        keep &= ~(pd.to_numeric(frame["topic_id"], errors="coerce") < 0).to_numpy(dtype=bool, na_value=False)
    return frame.loc[keep]


def tables_at_level(tables: Tables, level: str) -> Tables:
    """``tables`` whose tickets' ``topic`` is the ``level`` column (so the topic KPIs count that level)."""
    tickets = tickets_with_topic_levels(tables.tickets)
    everything = tables.tickets_all if tables.tickets_all is not None else tables.tickets
    everything = tickets_with_topic_levels(everything)
    if level != "topic":
        tickets = tickets.assign(topic=tickets[level].to_numpy())
        everything = everything.assign(topic=everything[level].to_numpy())
    return dataclasses.replace(tables, tickets=tickets, tickets_all=everything)


def _engine_value(name: str, tables: Tables, config: KPIConfig):
    kpi = get_kpi(name)
    return None if kpi.missing_inputs(tables) else kpi(tables, config).value


def _mix(value, *, unit: str = "%") -> str:
    if not isinstance(value, dict) or not value:
        return ""
    items = list(value.items())[:MIX]
    if unit == "%":
        return ", ".join(f"{k} {v:.0f}%" for k, v in items)
    return ", ".join(f"{k} ({v})" for k, v in items)


def topic_kpi_table(tables: Tables, config: KPIConfig, *, level: str = "topic") -> pd.DataFrame:
    """One row per topic of ``level`` (``topic`` or ``topic_parent``), largest first; see the module docstring.

    Columns: the level's heading (:data:`LEVELS`), ``top-level topic`` (subtopics, when the
    tickets have two levels) or ``subtopics`` (top-level topics), then ``tickets``, ``share %``
    (``topic_share``), ``trend (points)`` (``topic_trend``: last month's share - the month
    before), and the :data:`HEADINGS` columns; ``CSAT answers`` is the ``csat`` KPI's n. A KPI
    whose inputs the tables lack is left out. Outliers are not a topic here.
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}; got {level!r}")
    heading = LEVELS[level]
    tickets = _with_topic(tables.tickets)
    if tickets is None or "topic" not in tickets.columns or not len(tickets):
        return pd.DataFrame(columns=[heading, "tickets"])
    tables = dataclasses.replace(tables, tickets=tickets, tickets_all=_with_topic(tables.tickets_all))
    leveled = tables_at_level(tables, level)
    shares = _engine_value("topic_share", leveled, config) or {}
    trend = _engine_value("topic_trend", leveled, config) or {}
    change = trend.get("change") or {}
    report = compute_kpis(tables, config=config, names=list(TOPIC_KPIS), by=[level])
    two_levels = has_topic_hierarchy(tickets)
    parents = tickets.drop_duplicates("topic").set_index("topic")[PARENT] if two_levels else None
    subtopics = tickets.groupby(PARENT)["topic"].nunique() if two_levels else None
    rows = []
    for group in report.groups:
        name = group[level]
        if name is None:
            continue
        values = group["kpis"]
        row: dict = {heading: str(name)}
        if two_levels and level == "topic":
            row[LEVELS[PARENT]] = str(parents.get(name, name))
        elif two_levels:
            row["subtopics"] = int(subtopics.get(name, 0))
        row["tickets"] = int(values.get("ticket_volume") or 0)
        row["share %"] = shares.get(str(name))
        row["trend (points)"] = change.get(str(name))
        for kpi in TOPIC_KPIS[1:]:
            if kpi not in values:
                continue
            value = values[kpi]
            if kpi.endswith("_s"):
                value = None if value is None else value / 3600.0
            elif kpi == "request_type_share":
                value = _mix(value)
            elif kpi == "top_accounts_by_tickets":
                value = _mix(value, unit="count")
            row[HEADINGS[kpi]] = value
            if kpi == "csat":
                row["CSAT answers"] = int(group["n"].get("csat", 0))
        rows.append(row)
    table = pd.DataFrame(rows)
    if two_levels and level == "topic":
        size = table.groupby(LEVELS[PARENT])["tickets"].transform("sum")
        table = table.assign(_size=size).sort_values(["_size", LEVELS[PARENT], "tickets", heading],
                                                     ascending=[False, True, False, True], kind="stable")
        table = table.drop(columns="_size")
    else:
        table = table.sort_values(["tickets", heading], ascending=[False, True], kind="stable")
    return table.reset_index(drop=True)


def monthly_topic_trends(tickets: pd.DataFrame, config: KPIConfig) -> pd.DataFrame:
    """``ticket_volume`` per topic and UTC calendar month (``compute_kpis(by=["topic"], period="month")``).

    Columns ``period`` (``YYYY-MM``), ``topic_id``, ``topic``, ``count``, ``share`` (of the
    month's tickets with a topic, outliers included), ``parent``; every topic in every month that
    has tickets (zeros included). ``topic_id`` is the tickets' own where they carry one, else a new
    id (by name, above the largest). Outliers keep a negative id so the alerts skip them.
    """
    columns = ["period", "topic_id", "topic", "count", "share", "parent"]
    if tickets is None or "topic" not in tickets.columns:
        return pd.DataFrame(columns=columns)
    keep = tickets["topic"].notna().to_numpy() & tickets["created_at"].notna().to_numpy()
    frame = tickets_with_topic_levels(tickets.loc[keep])
    if not len(frame):
        return pd.DataFrame(columns=columns)
    from cxlens.metrics import make_tables

    report = compute_kpis(make_tables(tickets=frame), config=config, names=["ticket_volume"], by=["topic"],
                          period="month")
    counts = pd.DataFrame([{"period": g["period"][:7], "topic": str(g["topic"]),
                            "count": int(g["kpis"].get("ticket_volume") or 0)} for g in report.groups])
    if not len(counts):
        return pd.DataFrame(columns=columns)
    topics = frame.drop_duplicates("topic").assign(topic=lambda f: f["topic"].astype(str)).set_index("topic")
    ids = (pd.to_numeric(topics["topic_id"], errors="coerce") if "topic_id" in topics.columns
           else pd.Series(np.nan, index=topics.index))
    unknown = sorted(ids.index[ids.isna().to_numpy()])
    start = int(ids.max()) + 1 if ids.notna().any() else 0
    ids = ids.fillna(pd.Series(np.arange(start, start + len(unknown)), index=unknown, dtype="float64"))
    ids = ids.where(topics.index.to_series() != OUTLIER, -1)
    grid = pd.MultiIndex.from_product([sorted(counts["period"].unique()), sorted(topics.index)],
                                      names=["period", "topic"]).to_frame(index=False)
    full = grid.merge(counts, on=["period", "topic"], how="left")
    full["count"] = full["count"].fillna(0).astype("int64")
    totals = full.groupby("period")["count"].transform("sum")
    full["share"] = np.where(totals > 0, full["count"] / totals.where(totals > 0, 1), 0.0).round(6)
    full["topic_id"] = full["topic"].map(ids).fillna(-1).astype("int64")
    full["parent"] = full["topic"].map(topics[PARENT].astype(str))
    return full[columns]
