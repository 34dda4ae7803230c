"""The topics page: top-level topics and subtopics, the KPIs of each, emerging-topic alerts, sentiment.

It reads the columns ``cxlens score`` adds (``topic``, and ``topic_parent`` once topics have two
levels; docs/score-output.md). Tickets with only ``topic`` are shown with each topic as its own
top-level topic. Every figure is a registered KPI (:mod:`cxlens.pipelines._topic_kpis`); the alerts
apply :class:`~cxlens.pipelines._topic_alerts.TopicAlertRule` to the monthly ``ticket_volume`` per
topic, with the months before the selected period as baseline.
"""

from __future__ import annotations

import pandas as pd

from cxlens.pipelines._topic_alerts import alert_samples, topic_alerts
from cxlens.pipelines._topic_kpis import (
    LEVELS, OUTLIER, PARENT, tables_at_level, has_topic_hierarchy, monthly_topic_trends, tickets_with_topic_levels,
    topic_kpi_table,
)
from cxlens.pipelines.dashboard._data import (
    MONTH, Chart, DashboardSettings, FilteredArchive, Metric, Page, kpi_metric, missing_notes, score_first_note,
)

__all__ = ["TOP_TOPICS", "topic_alert_rows", "topics_page"]

TOP_TOPICS = 8
#: the text an alert's sample messages come from, first present wins
SAMPLE_TEXT = ("customer_text", "text", "subject")
#: alert columns shown on the page, and their headings
ALERT_HEADINGS = {"period": MONTH, "topic": "topic", "parent": "top-level topic", "reason": "reason",
                  "count": "tickets", "baseline_count": "baseline (tickets)", "growth": "growth (x)", "z": "z",
                  "sample_1": "sample 1", "sample_2": "sample 2", "sample_3": "sample 3"}


def _months(frame: pd.DataFrame) -> pd.Series:
    return frame["created_at"].dt.tz_convert(None).dt.to_period("M").astype(str)


def _share_chart(key: str, title: str, tickets: pd.DataFrame, column: str, shares: dict[str, float]) -> Chart:
    counts = tickets[column].value_counts()
    data = pd.DataFrame({column: list(shares), "share": list(shares.values())})
    data["tickets"] = [int(counts.get(v, 0)) for v in data[column]]
    rows = tickets.loc[tickets[column].notna().to_numpy()]
    return Chart(key=key, title=title, kind="bar", data=data, x=column, y="share", rows=rows, drill=column, unit="%")


def topic_alert_rows(filtered: FilteredArchive, settings: DashboardSettings) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The emerging-topic alerts whose month falls in the selected period, and the tickets behind them.

    Counts are the ``ticket_volume`` KPI per topic and month over the tickets of the channel / team /
    agent selection whatever their date, so months before the period serve as the baseline. Each
    alert has up to ``alert_rule.samples`` sample messages (the most confident of its topic and month).
    """
    everything = filtered.tickets_all
    empty = pd.DataFrame(columns=list(ALERT_HEADINGS)), pd.DataFrame(columns=["ticket_id", "topic", MONTH])
    if everything is None or "topic" not in everything.columns or "created_at" not in everything.columns:
        return empty
    rule = settings.alert_rule
    alerts = topic_alerts(monthly_topic_trends(everything, settings.config), rule)
    if filtered.start is not None and filtered.end is not None and len(alerts):
        first, last = (str(t.tz_convert(None).to_period("M")) for t in (filtered.start, filtered.end))
        alerts = alerts.loc[(alerts["period"] >= first).to_numpy() & (alerts["period"] <= last).to_numpy()]
    if not len(alerts):
        return empty
    text = next((c for c in SAMPLE_TEXT if c in everything.columns), None)
    known = everything["topic"].notna().to_numpy()
    narrow = everything.loc[known, [c for c in ("topic", "created_at", "topic_confidence", text) if c]]
    pool = narrow.assign(period=_months(narrow).to_numpy(), topic=narrow["topic"].astype(str).to_numpy())
    if text is not None:
        alerts = alert_samples(alerts, pool, text_col=text, n=rule.samples, key="topic")
    keys = set(zip(alerts["topic"].astype(str), alerts["period"].astype(str)))
    hit = [(t, p) in keys for t, p in zip(pool["topic"], pool["period"])]
    rows = everything.loc[known].loc[hit].drop(columns=[c for c in SAMPLE_TEXT[:2] if c in everything.columns])
    rows = rows.assign(**{MONTH: pool["period"].to_numpy()[hit]})
    shown = alerts[[c for c in ALERT_HEADINGS if c in alerts.columns]].rename(columns=ALERT_HEADINGS)
    return shown.reset_index(drop=True), rows.reset_index(drop=True)


def topics_page(filtered: FilteredArchive, settings: DashboardSettings) -> Page:
    """Top topics: the two-level hierarchy, KPIs per topic, emerging-topic alerts, shares, trends, sentiment."""
    page = Page(key="top_topics", title="Top topics",
                summary="What customers write about: top-level topics and their subtopics with the service KPIs "
                        "of each, emerging-topic alerts, request types, and how customers feel about each topic.")
    tickets, config = filtered.data.tickets, settings.config
    if tickets is None or not ({"topic", "request_type"} & set(tickets.columns)):
        page.notes.append(score_first_note("This page", "the tickets' topic and request_type columns"))
        return page
    tables = filtered.tables()
    page.metrics = [kpi_metric("sentiment_index", tables, config, label="Sentiment index"),
                    kpi_metric("negative_share", tables, config, label="Negative share")]
    if "topic" in tickets.columns:
        _topic_sections(page, filtered, settings)
    else:
        page.notes.append(score_first_note("Topic charts", "tickets.topic"))
    if "request_type" in tickets.columns:
        kinds = kpi_metric("request_type_share", tables, config)
        if kinds.value:
            page.charts.append(_share_chart("request_type_share", "Request types (% of tickets)", tickets,
                                            "request_type", kinds.value))
    page.notes += missing_notes(page.metrics)
    return page


def _topic_sections(page: Page, filtered: FilteredArchive, settings: DashboardSettings) -> None:
    config = settings.config
    tables = filtered.tables()
    leveled = tickets_with_topic_levels(filtered.data.tickets)
    two = has_topic_hierarchy(leveled)
    level = PARENT if two else "topic"
    share = kpi_metric("topic_share", tables, config)
    named = leveled.loc[leveled["topic"].notna().to_numpy() & (leveled["topic"].astype(str) != OUTLIER).to_numpy()]
    headline = [Metric(label="Tickets with a topic", value=share.n, unit="count", n=share.n),
                Metric(label="Top-level topics" if two else "Topics", value=int(named[level].nunique()),
                       unit="count", n=share.n)]
    if two:
        headline.append(Metric(label="Subtopics", value=int(named["topic"].nunique()), unit="count", n=share.n))
    headline.append(Metric(label="Outliers (no topic)", value=(share.value or {}).get(OUTLIER, 0.0), unit="%",
                           n=share.n))
    alerts, alert_rows = topic_alert_rows(filtered, settings)
    headline.append(Metric(label="Emerging-topic alerts", value=len(alerts), unit="count", n=share.n,
                           note=settings.alert_rule.describe()))
    page.metrics = headline + page.metrics
    at_level = tables_at_level(tables, level)
    shares = kpi_metric("topic_share", at_level, config).value or {}
    what = "Topic share: top-level topics" if two else "Topic share"
    if shares:
        page.charts.append(_share_chart("topic_share", f"{what} (% of tickets)", leveled, level, shares))
    levels = ([(PARENT, "topic_kpis_top", "KPIs per top-level topic")] if two else []) + [
        ("topic", "topic_kpis", "KPIs per subtopic" if two else "KPIs per topic")]
    for column, key, title in levels:
        chart = _kpi_chart(key, title, tables, config, column, leveled)
        if len(chart.data):
            page.charts.append(chart)
    rule = settings.alert_rule
    if len(alerts):
        page.charts.append(Chart(key="topic_alerts", title="Emerging-topic alerts", kind="table", data=alerts,
                                 x="topic", y="growth (x)", rows=alert_rows, drill="topic",
                                 note=f"By month: {rule.describe()}. The rows are each alert's tickets of its month."))
    else:
        page.notes.append(f"Emerging-topic alerts: none in the period ({rule.describe()}; by month).")
    trend = kpi_metric("topic_trend", at_level, config)
    if trend.value and len(trend.value["periods"]):
        _trend_chart(page, leveled, level, trend.value)
    if "sentiment" in leveled.columns:
        _sentiment_by_topic(page, leveled, level, [t for t in shares][:TOP_TOPICS * 2])


def _kpi_chart(key: str, title: str, tables, config, level: str, leveled: pd.DataFrame) -> Chart:
    table = topic_kpi_table(tables, config, level=level).round(2)
    rows = leveled.loc[leveled[level].notna().to_numpy()]
    heading = LEVELS[level]
    note = ("Every figure is a registered KPI for the topic's tickets (cxlens kpis list): share and trend are "
            "topic_share and topic_trend (points, last month vs the month before), durations are medians in "
            "hours, CSAT coverage is the tickets with a CSAT answer. Pick a topic to see its tickets.")
    return Chart(key=key, title=title, kind="table", data=table, x=heading, y="tickets", rows=rows, drill=level,
                 note=note)


def _trend_chart(page: Page, tickets: pd.DataFrame, column: str, trend: dict) -> None:
    top = [t for t in trend["shares"] if t != OUTLIER][:TOP_TOPICS]
    periods = trend["periods"]
    records = [{MONTH: p, column: t, "share": trend["shares"][t][i]} for t in top for i, p in enumerate(periods)]
    rows = tickets.loc[tickets[column].isin(top).to_numpy(dtype=bool, na_value=False)]
    rows = rows.assign(**{MONTH: _months(rows).to_numpy()})
    what = "top-level topics" if column == PARENT else "topics"
    page.charts.append(Chart(key="topic_trend", title=f"Top {len(top)} {what} by month (% of the month's tickets)",
                             kind="line", data=pd.DataFrame(records), x=MONTH, y="share", series=column, rows=rows,
                             drill=MONTH, unit="%"))


def _sentiment_by_topic(page: Page, tickets: pd.DataFrame, column: str, topics: list[str]) -> None:
    rows = tickets.loc[tickets[column].isin(topics).to_numpy(dtype=bool, na_value=False)
                       & tickets["sentiment"].notna().to_numpy()]
    if not len(rows):
        return
    counts = rows.groupby([column, "sentiment"], observed=True).size().rename("tickets").reset_index()
    counts[column] = pd.Categorical(counts[column], categories=topics, ordered=True)
    counts = counts.sort_values([column, "sentiment"])
    counts[column] = counts[column].astype(str)
    what = "top-level topic" if column == PARENT else "topic"
    page.charts.append(Chart(key="sentiment_by_topic", title=f"Sentiment by {what} (tickets)", kind="bar",
                             data=counts.reset_index(drop=True), x=column, y="tickets", series="sentiment",
                             rows=rows, drill=column, unit="count"))
