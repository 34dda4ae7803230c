"""The dashboard pages as plain data: ``<name>_page(filtered, settings) -> Page``.

Every figure comes from the KPI engine (:mod:`cxlens.metrics`): headline metrics call the
registered KPIs, trends call them month by month (:func:`~cxlens.pipelines.dashboard._data.monthly_kpis`),
and each chart keeps the rows behind its bars. The four classic pages live here; the AI pages
(at-risk accounts, quality) in :mod:`cxlens.pipelines.dashboard._ai_pages`, topics in
:mod:`cxlens.pipelines.dashboard._topic_page`.
:data:`PAGES` lists them in display order; :func:`dashboard_page` builds one by key.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import pandas as pd

from cxlens.errors import UnknownNameError
from cxlens.metrics import get_kpi
from cxlens.metrics.agents import agent_scorecard
from cxlens.metrics.resolution import fcr_flags
from cxlens.metrics.response import first_response_seconds
from cxlens.metrics.revenue import DAYS_PER_MONTH, account_states
from cxlens.metrics.satisfaction import responses
from cxlens.pipelines.dashboard._ai_pages import at_risk_page, quality_page
from cxlens.pipelines.dashboard._data import (
    MONTH, Chart, DashboardFilters, DashboardSettings, FilteredArchive, Metric, Page, filtered_archive,
    kpi_metric, missing_notes, monthly_kpis,
)
from cxlens.pipelines.dashboard._topic_page import topics_page
from cxlens.pipelines.score import ScoredArchive

__all__ = ["PAGES", "SOLVED_ON", "WEEKDAYS", "customer_satisfaction_page", "dashboard_page", "dashboard_pages",
           "page_titles", "retention_page", "solved_on_contact", "support_kpis_page", "team_service_page"]

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
SOLVED_ON = ("1st contact", "2nd contact", "3rd+ contact", "unresolved", "contacts unknown")
NPS_GROUPS = ("promoters", "passives", "detractors")


def _trend_chart(key: str, title: str, points: pd.DataFrame, rows: pd.DataFrame, *, unit: str,
                 target: float | None = None, note: str = "") -> Chart:
    series = "kpi" if points["kpi"].nunique() > 1 else None
    return Chart(key=key, title=title, kind="line", data=points, x=MONTH, y="value", series=series, rows=rows,
                 drill=MONTH, unit=unit, target=target, note=note)


# ---------------------------------------------------------------- team service
def solved_on_contact(tickets: pd.DataFrame) -> pd.Series:
    """Per ticket, the contact it was solved on (:data:`SOLVED_ON`).

    ``1st contact`` is exactly the KPI engine's first-contact resolution (one contact, not
    reopened); a ticket solved on its first contact but reopened counts as ``2nd contact``.
    Contacts are ``contacts``, else ``agent_replies`` (as in the FCR KPI).
    """
    eligible, hit = fcr_flags(tickets)
    contacts = pd.to_numeric(tickets["contacts"], errors="coerce") if "contacts" in tickets else None
    replies = pd.to_numeric(tickets["agent_replies"], errors="coerce") if "agent_replies" in tickets else None
    n = (contacts if contacts is not None else pd.Series(np.nan, index=tickets.index))
    if replies is not None:
        n = n.fillna(replies)
    resolved = tickets["resolved_at"].notna().to_numpy()
    out = np.full(len(tickets), SOLVED_ON[4], dtype=object)
    out[~resolved] = SOLVED_ON[3]
    out[eligible & ~hit] = SOLVED_ON[1]
    out[eligible & ~hit & (n.to_numpy() >= 3)] = SOLVED_ON[2]
    out[hit] = SOLVED_ON[0]
    return pd.Series(out, index=tickets.index, name="solved on")


def _count_chart(key: str, title: str, rows: pd.DataFrame, column: str, order: tuple | list, *,
                 y: str = "tickets", note: str = "") -> Chart:
    counts = rows[column].value_counts()
    data = pd.DataFrame({column: list(order), y: [int(counts.get(v, 0)) for v in order]})
    data = data.loc[data[y] > 0].reset_index(drop=True)
    return Chart(key=key, title=title, kind="bar", data=data, x=column, y=y, rows=rows, drill=column,
                 unit="count", note=note)


def team_service_page(filtered: FilteredArchive, settings: DashboardSettings) -> Page:
    """Team service: FCR by contact, response time by weekday, contacts per hour, agents, top performers."""
    page = Page(key="team_service", title="Team service",
                summary="How the team resolves and answers: first contact resolution, response times, "
                        "volume by hour and per-agent results.")
    tickets, config = filtered.data.tickets, settings.config
    if tickets is None or not len(tickets):
        page.notes.append("No tickets in the selection.")
        return page
    tables = filtered.tables()
    page.metrics = [
        kpi_metric("ticket_volume", tables, config, label="Tickets"),
        kpi_metric("first_contact_resolution_rate", tables, config, label="First contact resolution"),
        kpi_metric("first_response_time_median_s", tables, config, label="First response (median)"),
        kpi_metric("first_response_time_mean_s", tables, config, label="First response (mean)"),
        kpi_metric("csat", tables, config, label="CSAT"),
        kpi_metric("average_handle_time_s", tables, config, label="Average handle time"),
    ]
    if "resolved_at" in tickets:
        rows = tickets.assign(**{"solved on": solved_on_contact(tickets).to_numpy()})
        page.charts.append(_count_chart(
            "solved_on_contact", "Tickets by the contact they were solved on", rows, "solved on", SOLVED_ON,
            note="1st contact = first contact resolution (one contact, not reopened); reopened counts as 2nd."))
    if "first_response_at" in tickets:
        seconds = first_response_seconds(tickets, config)
        rows = tickets.assign(weekday=tickets["created_at"].dt.day_of_week.map(dict(enumerate(WEEKDAYS))).to_numpy(),
                              first_response_s=seconds.to_numpy())
        rows = rows.loc[rows["first_response_s"].notna().to_numpy()]
        kpi = get_kpi("first_response_time_mean_s")
        values = []
        for day in WEEKDAYS:
            subset = rows.loc[(rows["weekday"] == day).to_numpy()]
            measure = kpi(dataclasses.replace(tables, tickets=subset), config) if len(subset) else None
            values.append(None if measure is None or measure.value is None else measure.value / 3600.0)
        data = pd.DataFrame({"weekday": list(WEEKDAYS), "hours": values}).dropna().reset_index(drop=True)
        page.charts.append(Chart(key="response_by_weekday", title="Average first response time by weekday (hours)",
                                 kind="bar", data=data, x="weekday", y="hours", rows=rows, drill="weekday",
                                 unit="h", note="Weekday of ticket creation (UTC)."))
    days = max(1.0, (filtered.end - filtered.start).total_seconds() / 86400.0) if filtered.start is not None else 1.0
    rows = tickets.assign(hour=tickets["created_at"].dt.hour.to_numpy())
    counts = rows["hour"].value_counts()
    data = pd.DataFrame({"hour": list(range(24)), "tickets": [int(counts.get(h, 0)) for h in range(24)]})
    data["per day"] = data["tickets"] / days
    page.charts.append(Chart(key="contacts_by_hour", title="Contacts per hour of day (average per day)",
                             kind="bar", data=data, x="hour", y="per day", rows=rows, drill="hour", unit="count",
                             note=f"Tickets created in each UTC hour over {days:.0f} days, divided by the days."))
    if "agent_id" in tickets and tickets["agent_id"].notna().any():
        card = agent_scorecard(tables, config).reset_index()
        card["contacts_per_handle_hour"] = 3600.0 / card["average_handle_time_s"]
        card = card.sort_values(["fcr_rate", "agent_id"], ascending=[False, True], na_position="last")
        card = card.reset_index(drop=True)
        page.charts.append(Chart(
            key="agents", title="First contact resolution by agent", kind="bar", data=card, x="agent_id",
            y="fcr_rate", rows=tickets.loc[tickets["agent_id"].notna().to_numpy()], drill="agent_id", unit="%",
            note="Per agent: tickets, resolved, FCR %, CSAT % (feedback), handle time and contacts per "
                 "handle hour (3600 / average handle time)."))
        top = kpi_metric("top_performers", tables, config)
        if top.value:
            ranked = pd.DataFrame(top.value)
            chosen = tickets.loc[tickets["agent_id"].isin(ranked["agent_id"]).to_numpy(dtype=bool, na_value=False)]
            page.charts.append(Chart(
                key="top_performers", title="Top performers", kind="table", data=ranked.head(10), x="agent_id",
                y="score", rows=chosen, drill="agent_id",
                note=f"Agents with >= {config.top_performers_min_n} tickets, ranked by the mean percentile of "
                     f"FCR, CSAT, resolved volume and handle time."))
        else:
            page.notes.append(f"Top performers: no agent has {config.top_performers_min_n} tickets in the selection.")
    return page


# ---------------------------------------------------------------- satisfaction
def customer_satisfaction_page(filtered: FilteredArchive, settings: DashboardSettings) -> Page:
    """Customer satisfaction: NPS and its groups, CSAT, CES, retention rate, and their trends."""
    page = Page(key="customer_satisfaction", title="Customer satisfaction",
                summary="What customers say in surveys (NPS, CSAT, CES) and whether they stay (retention).")
    config, tables = settings.config, filtered.tables()
    nps = kpi_metric("nps", tables, config, label="NPS")
    page.metrics.append(nps)
    answers = responses(tables, "nps") if tables.tickets is not None or tables.surveys is not None else None
    if answers is not None and len(answers):
        score = answers["score"].to_numpy()
        group = np.where(score >= config.nps_promoter_min, NPS_GROUPS[0],
                         np.where(score <= config.nps_detractor_max, NPS_GROUPS[2], NPS_GROUPS[1]))
        rows = answers.assign(group=group)
        for name in NPS_GROUPS:
            page.metrics.append(Metric(label=name.capitalize(), value=100.0 * float((group == name).sum()) / len(group),
                                       unit="%", n=len(group)))
        page.charts.append(_count_chart("nps_groups", "NPS answers: promoters, passives, detractors", rows, "group",
                                        NPS_GROUPS, y="answers",
                                        note=f"Promoters >= {config.nps_promoter_min:g}, detractors <= "
                                             f"{config.nps_detractor_max:g}; NPS = % promoters - % detractors."))
    page.metrics += [kpi_metric("csat", tables, config, label="CSAT"),
                     *_estimated_csat(filtered, tables, config),
                     kpi_metric("ces", tables, config, label="CES"),
                     kpi_metric("retention_rate", tables, config, label="Retention rate")]
    labels = {"nps": "NPS", "csat": "CSAT %", "ces": "CES", "retention_rate": "Retention %",
              "csat_estimated": "CSAT estimated %"}
    trend = ["nps", "csat"] + (["csat_estimated"] if _has_estimate(tables) else [])
    points, rows, skipped = monthly_kpis(filtered, trend, config, label=labels)
    if len(points):
        page.charts.append(_trend_chart("nps_csat_trend", "NPS and CSAT by month", points, rows, unit="score"))
    points, rows, more = monthly_kpis(filtered, ["ces"], config, label=labels)
    if len(points):
        page.charts.append(_trend_chart("ces_trend", "Customer effort (CES, 1-7, lower is better) by month", points,
                                        rows, unit="score"))
    points, rows, most = monthly_kpis(filtered, ["retention_rate"], config, label=labels)
    if len(points):
        page.charts.append(_trend_chart("retention_trend", "Retention rate by month (%)", points, rows, unit="%",
                                        note="Customers at the month end minus the month's new customers, over "
                                             "customers at its start."))
    page.notes += missing_notes(page.metrics, skipped + more + most)
    return page


def _has_estimate(tables) -> bool:
    return tables.tickets is not None and "csat_good_probability" in tables.tickets.columns


def _estimated_csat(filtered: FilteredArchive, tables, config) -> list[Metric]:
    """Estimated CSAT beside the surveyed one, with its coverage and its measured calibration (the run's
    ``csat_estimate`` in the manifest, from cxlens.pipelines.csat.estimated_csat)."""
    if not _has_estimate(tables):
        return []
    estimate = kpi_metric("csat_estimated", tables, config, label="CSAT estimated (all tickets)")
    tickets = tables.tickets
    surveyed = int(tickets["csat"].notna().sum()) if "csat" in tickets.columns else 0
    covered = estimate.n
    info = filtered.data.manifest.get("csat_estimate", {}) if isinstance(filtered.data.manifest, dict) else {}
    parts = [f"covers {covered:,} of {len(tickets):,} tickets; surveyed: {surveyed:,} "
             f"({100.0 * surveyed / max(len(tickets), 1):.0f}%)"]
    if info.get("holdout_calibration_error") is not None:
        parts.append(f"calibration error {info['holdout_calibration_error']:.3f}, ROC-AUC "
                     f"{info['holdout_roc_auc']:.2f} on held-out surveyed tickets")
    if info.get("note"):
        parts.append(str(info["note"]))
    estimate = dataclasses.replace(estimate, note="; ".join(parts))
    coverage = Metric(label="Estimate coverage", value=100.0 * covered / max(len(tickets), 1), unit="%",
                      n=covered, note=f"surveyed CSAT covers {100.0 * surveyed / max(len(tickets), 1):.0f}%")
    return [estimate, coverage]


# ---------------------------------------------------------------- support KPIs
def _months(filtered: FilteredArchive) -> float:
    if filtered.start is None or filtered.end is None:
        return 0.0
    return (filtered.end - filtered.start).total_seconds() / 86400.0 / DAYS_PER_MONTH


def support_kpis_page(filtered: FilteredArchive, settings: DashboardSettings) -> Page:
    """Support KPIs: revenue, cost as % of revenue, cost per ticket vs target, resolution time, SLA, backlog."""
    page = Page(key="support_kpis", title="Support KPIs",
                summary="What support costs and delivers: cost per ticket against its target, time to resolve, "
                        "CSAT, SLA compliance and the backlog.")
    config, tables = settings.config, filtered.tables()
    mrr = None
    if tables.accounts is not None and "mrr" in tables.accounts:
        states = account_states(tables)
        if states is not None:
            values = pd.to_numeric(states.accounts["mrr"], errors="coerce").to_numpy()
            mrr = float(np.nansum(values[states.at_end]))
            page.metrics.append(Metric(label="Revenue (MRR)", value=mrr, unit="currency", n=int(states.at_end.sum()),
                                       note="monthly recurring revenue of the customers at the period end"))
    if mrr is None:
        page.metrics.append(Metric(label="Revenue (MRR)", value=None, unit="currency", note="needs accounts.mrr"))
    cost = settings.monthly_cost
    cost_note = "set a monthly support cost (--monthly-cost, or the sidebar)"
    share = 100.0 * cost / mrr if cost is not None and mrr else None
    page.metrics.append(Metric(label="Support cost % of revenue", value=share, unit="%",
                               note="" if share is not None else (cost_note if cost is None else "needs MRR")))
    period_cost = None if cost is None else cost * _months(filtered)
    cost_config = dataclasses.replace(config, operating_cost=period_cost)
    cost_metric = kpi_metric("cost_per_resolution", tables, cost_config, label="Cost per ticket")
    if cost is None:
        cost_metric = dataclasses.replace(cost_metric, note=cost_note)
    page.metrics += [
        cost_metric,
        kpi_metric("resolution_time_median_s", tables, config, label="Time to resolve (median)"),
        kpi_metric("csat", tables, config, label="CSAT"),
        kpi_metric("sla_compliance_rate", tables, config, label="SLA compliance"),
        kpi_metric("backlog", tables, config, label="Backlog"),
        kpi_metric("backlog_aged", tables, config, label="Backlog older than 7 days"
                   if config.backlog_age_s == 7 * 86400 else "Aged backlog"),
    ]
    if cost is not None:
        points, rows, _ = monthly_kpis(filtered, ["cost_per_resolution"], config, cost_per_month=cost,
                                       label={"cost_per_resolution": "cost per ticket"})
        if len(points):
            page.charts.append(_trend_chart(
                "cost_per_ticket_trend", "Cost per ticket by month", points, rows, unit="currency",
                target=settings.cost_per_ticket_target,
                note="Monthly support cost / tickets resolved in the month"
                     + ("; the line is the target." if settings.cost_per_ticket_target is not None else ".")))
    else:
        page.notes.append(f"Cost per ticket and cost % of revenue: {cost_note}.")
    skipped_all = []
    for key, names, title, unit in (
            ("resolution_time_trend", ["resolution_time_median_s"], "Time to resolve by month (median, seconds)", "s"),
            ("sla_trend", ["sla_compliance_rate"], "SLA compliance by month (%)", "%"),
            ("backlog_trend", ["backlog"], "Backlog at each month end", "count"),
            ("csat_trend", ["csat"], "CSAT by month (%)", "%")):
        points, rows, skipped = monthly_kpis(filtered, names, config)
        if len(points):
            page.charts.append(_trend_chart(key, title, points, rows, unit=unit))
        skipped_all += skipped
    page.notes += missing_notes([m for m in page.metrics if not m.label.startswith(("Cost per", "Support cost"))],
                                skipped_all)
    return page


# ---------------------------------------------------------------- retention
RETENTION_LABELS = {"mrr_new": "new", "mrr_expansion": "expansion", "mrr_contraction": "contraction",
                    "mrr_churned": "churned"}


def retention_page(filtered: FilteredArchive, settings: DashboardSettings) -> Page:
    """Retention: NPS, loyal customers, CLV, churn and revenue churn, NRR, MRR movements."""
    page = Page(key="retention", title="Retention",
                summary="Who stays and what revenue moves: churn, revenue churn, lifetime value, net revenue "
                        "retention and MRR movements.")
    config, tables = settings.config, filtered.tables()
    page.metrics = [
        kpi_metric("nps", tables, config, label="NPS"),
        kpi_metric("repurchase_rate", tables, config, label="Loyal customers (repurchase rate)"),
        kpi_metric("customer_lifetime_value", tables, config, label="Customer lifetime value"),
        kpi_metric("churn_rate", tables, config, label="Churn rate"),
        kpi_metric("mrr_churned", tables, config, label="Revenue churn (MRR lost)"),
        kpi_metric("net_revenue_retention", tables, config, label="Net revenue retention"),
        kpi_metric("mrr_new", tables, config, label="New MRR"),
        kpi_metric("mrr_expansion", tables, config, label="Expansion MRR"),
    ]
    moves = {m.kpi: m.value for m in page.metrics if m.kpi in RETENTION_LABELS}
    moves["mrr_contraction"] = kpi_metric("mrr_contraction", tables, config).value
    if moves.get("mrr_new") is not None or moves.get("mrr_churned") is not None:
        net = sum(moves.get(k) or 0.0 for k in ("mrr_new", "mrr_expansion")) \
            - sum(moves.get(k) or 0.0 for k in ("mrr_contraction", "mrr_churned"))
        partial = moves.get("mrr_expansion") is None
        page.metrics.append(Metric(label="Net MRR movement", value=net, unit="currency",
                                   note="new - churned only: expansion and contraction need accounts.mrr_start"
                                   if partial else "new + expansion - contraction - churned"))
    skipped_all = []
    for key, name, title, unit in (("churn_trend", "churn_rate", "Churn rate by month (%)", "%"),
                                   ("revenue_churn_trend", "mrr_churned", "Revenue churn by month (MRR lost)",
                                    "currency"),
                                   ("nrr_trend", "net_revenue_retention", "Net revenue retention by month (%)", "%")):
        points, rows, skipped = monthly_kpis(filtered, [name], config)
        if len(points):
            page.charts.append(_trend_chart(key, title, points, rows, unit=unit))
        skipped_all += skipped
    points, rows, skipped = monthly_kpis(filtered, list(RETENTION_LABELS), config, label=RETENTION_LABELS)
    if len(points):
        sign = points["kpi"].map({"contraction": -1.0, "churned": -1.0}).fillna(1.0)
        data = points.assign(value=points["value"] * sign)
        net = data.groupby(MONTH, sort=True)["value"].sum(min_count=1).reset_index().assign(kpi="net", n=0)
        data = pd.concat([data, net[data.columns]], ignore_index=True)
        page.charts.append(Chart(key="mrr_movements", title="MRR movements by month (new, expansion, churned, net)",
                                 kind="bar", data=data, x=MONTH, y="value", series="kpi", rows=rows, drill=MONTH,
                                 unit="currency", note="Contraction and churned MRR are drawn below zero; "
                                                       "net = new + expansion - contraction - churned."))
    skipped_all += [(f"{what.split(' by month')[0]} MRR in the movements chart", need) for what, need in skipped]
    page.notes += missing_notes(page.metrics, skipped_all)
    return page


# ---------------------------------------------------------------- registry
PageFunction = Callable[[FilteredArchive, DashboardSettings], Page]

#: (key, title, function) in display order: the four classic dashboards first.
PAGES: tuple[tuple[str, str, PageFunction], ...] = (
    ("team_service", "Team service", team_service_page),
    ("customer_satisfaction", "Customer satisfaction", customer_satisfaction_page),
    ("support_kpis", "Support KPIs", support_kpis_page),
    ("retention", "Retention", retention_page),
    ("top_topics", "Top topics", topics_page),
    ("at_risk", "At-risk accounts", at_risk_page),
    ("quality", "Quality", quality_page),
)


def page_titles() -> dict[str, str]:
    """Page key -> title, in display order."""
    return {key: title for key, title, _ in PAGES}


def dashboard_page(key: str, archive: ScoredArchive | FilteredArchive, *, filters: DashboardFilters | None = None,
                   settings: DashboardSettings | None = None) -> Page:
    """One page by key, over the archive after ``filters``."""
    functions = {k: f for k, _, f in PAGES}
    if key not in functions:
        raise UnknownNameError(kind="dashboard page", name=key, known=functions)
    filtered = (archive if isinstance(archive, FilteredArchive)
                else filtered_archive(archive, filters or DashboardFilters()))
    return functions[key](filtered, settings or DashboardSettings())


def dashboard_pages(archive: ScoredArchive, *, filters: DashboardFilters | None = None,
                    settings: DashboardSettings | None = None) -> list[Page]:
    """Every page, in display order (the offline report shows them all)."""
    filtered = filtered_archive(archive, filters or DashboardFilters())
    return [dashboard_page(key, filtered, settings=settings) for key, _, _ in PAGES]
