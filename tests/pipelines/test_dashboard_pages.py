"""The dashboard pages as plain data: figures checked against the KPI engine and by hand, and the
drill-down rows behind each chart adding up to what the chart draws."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cxlens.errors import UnknownNameError
from cxlens.metrics import compute_kpis, make_tables
from cxlens.pipelines.dashboard import RUN_SCORE_FIRST, conversation_with_evidence, highlight_evidence
from cxlens.pipelines.dashboard import DashboardFilters, DashboardSettings, filter_choices, filtered_archive
from cxlens.pipelines.dashboard import PAGES, SOLVED_ON, dashboard_page, dashboard_pages
from cxlens.pipelines.score import read_scored

REPO = Path(__file__).resolve().parents[2]
COST = 40000.0


@pytest.fixture(scope="module")
def archive(dashboard_score_dir):
    return read_scored(dashboard_score_dir)


@pytest.fixture(scope="module")
def pages(archive):
    settings = DashboardSettings(monthly_cost=COST, cost_per_ticket_target=200.0)
    return {page.key: page for page in dashboard_pages(archive, settings=settings)}


@pytest.fixture(scope="module")
def monthly(archive):
    """The engine's own month-by-month report over the whole archive."""
    tables = make_tables(tickets=archive.tickets, messages=archive.messages, accounts=archive.accounts,
                         surveys=archive.surveys, mentions=archive.mentions)
    report = compute_kpis(tables, names=["nps", "csat", "sla_compliance_rate", "backlog", "churn_rate", "mrr_churned"],
                          period="month")
    return {group["period"][:7]: group["kpis"] for group in report.groups}, compute_kpis(tables)


def _trend(page, key: str, kpi: str | None = None) -> dict[str, float]:
    data = page.chart(key).data
    if kpi is not None:
        data = data.loc[data["kpi"] == kpi]
    return dict(zip(data["month"], data["value"]))


def test_dashboard_pages_every_page_in_order(pages):
    assert list(pages) == [key for key, _, _ in PAGES]
    assert [key for key, _, _ in PAGES][:4] == ["team_service", "customer_satisfaction", "support_kpis", "retention"]
    for page in pages.values():
        assert page.metrics, page.key
        assert page.charts, page.key
        for chart in page.charts:
            assert chart.x in chart.data.columns and chart.y in chart.data.columns, (page.key, chart.key)
            assert chart.rows is not None and chart.drill in chart.rows.columns, (page.key, chart.key)


def test_dashboard_pages_headline_figures_are_the_engines(pages, monthly):
    _, overall = monthly
    team = pages["team_service"]
    assert team.metric("First contact resolution").value == pytest.approx(overall.kpis["first_contact_resolution_rate"])
    assert team.metric("Tickets").value == overall.kpis["ticket_volume"]
    assert team.metric("CSAT").value == pytest.approx(overall.kpis["csat"])
    support = pages["support_kpis"]
    assert support.metric("SLA compliance").value == pytest.approx(overall.kpis["sla_compliance_rate"])
    assert support.metric("Backlog").value == overall.kpis["backlog"]
    assert pages["retention"].metric("Churn rate").value == pytest.approx(overall.kpis["churn_rate"])
    assert pages["quality"].metric("Script adherence").value == pytest.approx(overall.kpis["script_adherence_rate"])


def test_dashboard_pages_solved_on_contact_matches_fcr(pages, archive):
    chart = pages["team_service"].chart("solved_on_contact")
    counts = dict(zip(chart.data["solved on"], chart.data["tickets"]))
    solved = sum(counts.get(k, 0) for k in SOLVED_ON[:3])
    assert 100.0 * counts["1st contact"] / solved == pytest.approx(
        pages["team_service"].metric("First contact resolution").value)
    assert counts["unresolved"] == int(archive.tickets["resolved_at"].isna().sum())
    assert sum(counts.values()) == len(archive.tickets)
    for value, n in counts.items():
        assert len(chart.rows_for(value)) == n


def test_dashboard_pages_response_by_weekday_by_hand(pages, archive):
    chart = pages["team_service"].chart("response_by_weekday")
    t = archive.tickets.dropna(subset=["first_response_at"])
    hours = (t["first_response_at"] - t["created_at"]).dt.total_seconds() / 3600
    by_day = hours.groupby(t["created_at"].dt.day_of_week).mean()
    assert chart.data["hours"].tolist() == pytest.approx(by_day.sort_index().tolist())
    assert len(chart.rows_for("Mon")) == int((t["created_at"].dt.day_of_week == 0).sum())
    hour_chart = pages["team_service"].chart("contacts_by_hour")
    assert hour_chart.data["tickets"].sum() == len(archive.tickets)
    assert len(hour_chart.rows_for(14)) == hour_chart.data.set_index("hour").at[14, "tickets"]


def test_dashboard_pages_agents_and_top_performers(pages, archive):
    agents = pages["team_service"].chart("agents").data.set_index("agent_id")
    assert agents["tickets"].sum() == archive.tickets["agent_id"].notna().sum()
    some = agents.index[0]
    assert len(pages["team_service"].chart("agents").rows_for(some)) == agents.at[some, "tickets"]
    top = pages["team_service"].chart("top_performers").data
    assert top["rank"].tolist() == list(range(1, len(top) + 1))


def test_dashboard_pages_satisfaction_nps_groups_and_trends(pages, monthly):
    by_month, overall = monthly
    page = pages["customer_satisfaction"]
    promoters, detractors = page.metric("Promoters").value, page.metric("Detractors").value
    assert promoters - detractors == pytest.approx(page.metric("NPS").value)
    assert page.metric("NPS").value == pytest.approx(overall.kpis["nps"])
    groups = page.chart("nps_groups")
    assert groups.data["answers"].sum() == page.metric("NPS").n
    assert len(groups.rows_for("promoters")) == groups.data.set_index("group").at["promoters", "answers"]
    nps = _trend(page, "nps_csat_trend", "NPS")
    csat = _trend(page, "nps_csat_trend", "CSAT %")
    for month, kpis in by_month.items():
        assert nps[month] == pytest.approx(kpis["nps"]), month
        assert csat[month] == pytest.approx(kpis["csat"]), month


def test_dashboard_pages_support_kpis_costs_and_trends(pages, archive, monthly):
    by_month, _ = monthly
    page = pages["support_kpis"]
    resolved = archive.tickets["resolved_at"].notna().sum()
    months = page.metric("Cost per ticket")
    filtered = filtered_archive(archive, DashboardFilters())
    span_months = (filtered.end - filtered.start).total_seconds() / 86400 / (365.25 / 12)
    assert months.value == pytest.approx(COST * span_months / resolved)
    mrr = page.metric("Revenue (MRR)").value
    assert page.metric("Support cost % of revenue").value == pytest.approx(100 * COST / mrr)
    cost = page.chart("cost_per_ticket_trend")
    assert cost.target == 200.0
    first = cost.data.iloc[0]
    assert first["value"] == pytest.approx(COST / len(cost.rows_for(first["month"])))
    sla, backlog = _trend(page, "sla_trend"), _trend(page, "backlog_trend")
    for month, kpis in by_month.items():
        assert sla[month] == pytest.approx(kpis["sla_compliance_rate"]), month
        assert backlog[month] == kpis["backlog"], month
        assert len(page.chart("backlog_trend").rows_for(month)) == kpis["backlog"], month


def test_dashboard_pages_support_kpis_without_a_cost_say_so(archive):
    page = dashboard_page("support_kpis", archive)
    assert page.metric("Cost per ticket").value is None
    assert "monthly support cost" in page.metric("Cost per ticket").note
    assert any("monthly support cost" in note for note in page.notes)
    assert all(chart.key != "cost_per_ticket_trend" for chart in page.charts)


def test_dashboard_pages_retention_trends_and_missing_inputs(pages, monthly, archive):
    by_month, _ = monthly
    page = pages["retention"]
    churn, lost = _trend(page, "churn_trend"), _trend(page, "revenue_churn_trend")
    for month, kpis in by_month.items():
        assert churn[month] == pytest.approx(kpis["churn_rate"]), month
        assert lost[month] == pytest.approx(kpis["mrr_churned"]), month
        assert page.chart("revenue_churn_trend").rows_for(month)["mrr"].sum() == pytest.approx(kpis["mrr_churned"])
    assert page.metric("Net revenue retention").value is None
    assert any("accounts.mrr_start" in note for note in page.notes)
    moves = page.chart("mrr_movements").data
    month = moves["month"].iloc[0]
    parts = moves.loc[moves["month"] == month].set_index("kpi")["value"]
    assert parts["net"] == pytest.approx(parts["new"] + parts["churned"])  # churned is drawn negative


def test_dashboard_pages_topics_top_level_shares_and_sentiment(pages, archive):
    page = pages["top_topics"]
    share = page.chart("topic_share")
    assert share.x == "topic_parent"  # the fixture's topics have two levels: the bars are the top level
    counts = archive.tickets["topic_parent"].value_counts()
    for topic, n in zip(share.data["topic_parent"], share.data["tickets"]):
        assert n == counts[topic]
        assert len(share.rows_for(topic)) == n
    assert share.data["share"].sum() == pytest.approx(100.0)
    sentiment = page.chart("sentiment_by_topic")
    first = sentiment.data["topic_parent"].iloc[0]
    assert len(sentiment.rows_for(first, "negative")) == int(
        sentiment.data.set_index(["topic_parent", "sentiment"]).loc[(first, "negative"), "tickets"])
    named = archive.tickets.loc[archive.tickets["topic_id"] >= 0]
    assert page.metric("Top-level topics").value == named["topic_parent"].nunique()
    assert page.metric("Subtopics").value == named["topic"].nunique()


def test_dashboard_pages_topic_kpis_are_the_engines(pages, archive):
    page = pages["top_topics"]
    named = archive.tickets.loc[archive.tickets["topic_id"] >= 0]
    tables = make_tables(tickets=named, messages=archive.messages, accounts=archive.accounts,
                         surveys=archive.surveys, mentions=archive.mentions)
    for key, column, heading in (("topic_kpis_top", "topic_parent", "top-level topic"),
                                 ("topic_kpis", "topic", "topic")):
        chart = page.chart(key)
        table = chart.data.set_index(heading)
        assert set(table.index) == set(named[column])
        assert table["tickets"].sum() == len(named)
        report = compute_kpis(tables, names=["ticket_volume", "csat", "csat_coverage", "reopen_rate",
                                             "negative_share", "resolution_time_median_s"], by=[column])
        for group in [g for g in report.groups if g[column] is not None]:  # None: surveys of outlier tickets
            row = table.loc[group[column]]
            assert row["tickets"] == group["kpis"]["ticket_volume"] == len(chart.rows_for(group[column]))
            for kpi, heading_ in (("csat", "CSAT %"), ("csat_coverage", "CSAT coverage %"),
                                  ("reopen_rate", "reopen %"), ("negative_share", "negative %")):
                assert row[heading_] == pytest.approx(group["kpis"][kpi], abs=0.01), (key, kpi)
            assert row["resolution median (h)"] == pytest.approx(group["kpis"]["resolution_time_median_s"] / 3600,
                                                                 abs=0.01)
    subtopics = page.chart("topic_kpis").data
    assert subtopics["top-level topic"].tolist() == sorted(subtopics["top-level topic"].tolist(),
                                                          key=subtopics["top-level topic"].tolist().index)
    parents = named.drop_duplicates("topic").set_index("topic")["topic_parent"]
    assert (subtopics["top-level topic"] == subtopics["topic"].map(parents)).all()
    top = page.chart("topic_kpis_top").data.set_index("top-level topic")
    assert top.loc["Product & account", "subtopics"] == 4
    assert top.loc["complaint questions", "subtopics"] == 1  # a topic without subtopics is its own parent


def test_dashboard_pages_topic_alerts_find_the_spike_once(pages, archive, dashboard_fixture):
    page = pages["top_topics"]
    alerts = page.chart("topic_alerts")
    spike = dashboard_fixture.SPIKE
    mine = alerts.data.loc[alerts.data["topic"] == spike["topic"]]
    assert mine["month"].tolist() == ["2025-11"]  # it spikes in November and December: one alert
    assert mine["reason"].iloc[0] == "appeared this period"
    assert mine["tickets"].iloc[0] == spike["months"]["2025-11"]
    assert set(mine[["sample 1", "sample 2", "sample 3"]].iloc[0]) == set(spike["texts"])
    rows = alerts.rows_for(spike["topic"])
    assert len(rows) == spike["months"]["2025-11"] and set(rows["month"]) == {"2025-11"}
    assert page.metric("Emerging-topic alerts").value == len(alerts.data)


def test_dashboard_pages_topics_without_parents_are_one_level(archive):
    flat = dataclasses.replace(archive, tickets=archive.tickets.drop(columns=["topic_parent", "topic_parent_id"]))
    page = dashboard_page("top_topics", flat)
    assert page.chart("topic_share").x == "topic"
    assert "topic_kpis_top" not in [c.key for c in page.charts]
    table = page.chart("topic_kpis").data
    assert "top-level topic" not in table.columns and table["tickets"].sum() == (flat.tickets["topic_id"] >= 0).sum()
    assert page.metric("Topics").value == flat.tickets.loc[flat.tickets["topic_id"] >= 0, "topic"].nunique()


def test_dashboard_pages_topic_alerts_follow_the_rule_setting(archive):
    from cxlens.pipelines.topics import TopicAlertRule

    strict = DashboardSettings(alert_rule=TopicAlertRule(min_count=1000))
    page = dashboard_page("top_topics", archive, settings=strict)
    assert "topic_alerts" not in [c.key for c in page.charts]
    assert page.metric("Emerging-topic alerts").value == 0
    assert any(note.startswith("Emerging-topic alerts: none") for note in page.notes)


def test_dashboard_pages_at_risk(pages, archive):
    page = pages["at_risk"]
    accounts = archive.accounts
    current = accounts["churned_at"].isna()
    assert page.metric("At-risk accounts").value == int((current & (accounts["churn_probability"] >= 0.5)).sum())
    ranked = page.chart("ranked_accounts")
    assert ranked.data["rank"].tolist() == sorted(ranked.data["rank"].tolist())
    account = ranked.data["account_id"].iloc[0]
    behind = ranked.rows_for(account)
    assert set(behind["account_id"]) <= {account}
    assert len(behind) == int((archive.tickets["account_id"] == account).sum())
    bands = page.chart("health_bands").data
    assert bands["accounts"].sum() == int(current.sum())


def test_dashboard_pages_quality(pages, archive):
    page = pages["quality"]
    by_agent = page.chart("adherence_by_agent").data.set_index("agent_id")
    qa = archive.qa_conversations
    expected = qa.groupby("agent_id")["script_adherence"].mean()
    agent = by_agent.index[0]
    assert by_agent.at[agent, "adherence"] == pytest.approx(expected[agent])
    steps = page.chart("steps").data.set_index("step")
    greet = archive.qa_steps.loc[archive.qa_steps["step"] == "greet", "found"]
    assert steps.at["greet", "found %"] == pytest.approx(100.0 * greet.mean())
    fails = page.chart("auto_fails")
    assert fails.data["conversations"].sum() >= int(qa["auto_fail"].sum())
    assert page.metric("Auto-fail rate").value == pytest.approx(100.0 * qa["auto_fail"].mean())


def test_dashboard_pages_conversation_evidence_is_marked(pages, archive):
    ticket = pages["quality"].chart("lowest_conversations").data["ticket_id"].iloc[0]
    convo = conversation_with_evidence(archive, ticket)
    assert len(convo) == int((archive.messages["ticket_id"] == ticket).sum())
    marked = convo.loc[convo["evidence"].map(len) > 0]
    assert len(marked)
    row = marked.iloc[0]
    assert "<mark>" in highlight_evidence(row["text"], row["evidence"])
    assert highlight_evidence("<b>sorry</b> see https://evil.test", ["sorry"]) == \
        "&lt;b&gt;<mark>sorry</mark>&lt;/b&gt; see evil.test"


def test_dashboard_pages_filters_follow_the_tickets(archive):
    choices = filter_choices(archive)
    assert "email" in choices["channels"] and choices["start"] == date(2025, 1, 1)
    filters = DashboardFilters(start=date(2025, 3, 1), end=date(2025, 4, 30), channels=("email",))
    filtered = filtered_archive(archive, filters)
    tickets = filtered.data.tickets
    assert set(tickets["channel"]) == {"email"}
    assert tickets["created_at"].min() >= pd.Timestamp("2025-03-01", tz="UTC")
    assert tickets["created_at"].max() < pd.Timestamp("2025-05-01", tz="UTC")
    assert set(filtered.data.messages["ticket_id"]) <= set(tickets["ticket_id"])
    assert set(filtered.data.qa_steps["ticket_id"]) <= set(tickets["ticket_id"])
    surveys = filtered.data.surveys
    assert surveys["ticket_id"].isin(filtered.tickets_all["ticket_id"]).all()
    page = dashboard_page("team_service", archive, filters=filters)
    assert page.metric("Tickets").value == len(tickets)
    months = dashboard_page("support_kpis", archive, filters=filters).chart("sla_trend").data["month"].tolist()
    assert months == ["2025-03", "2025-04"]


def test_dashboard_pages_raw_archive_says_run_score_first():
    raw = read_scored(REPO / "examples" / "archive")
    for key in ("top_topics", "at_risk", "quality"):
        page = dashboard_page(key, raw)
        assert not page.charts and not page.metrics
        assert any(RUN_SCORE_FIRST in note for note in page.notes), key
    team = dashboard_page("team_service", raw)
    assert team.metric("First contact resolution").value is not None


def test_dashboard_pages_unknown_page_is_named(archive):
    with pytest.raises(UnknownNameError, match="team_service"):
        dashboard_page("team_servce", archive)


def test_dashboard_pages_no_tickets_in_selection_is_a_note(archive):
    empty = DashboardFilters(channels=("no-such-channel",))
    page = dashboard_page("team_service", archive, filters=empty)
    assert page.notes and not page.charts
    assert np.isfinite(len(dashboard_page("retention", archive, filters=empty).metrics))


def test_dashboard_pages_conversation_without_evidence_marks_the_message(archive):
    """What `cxlens score` writes today: qa_steps with first_position but no evidence text."""
    import dataclasses

    bare = dataclasses.replace(archive, qa_steps=archive.qa_steps.drop(columns=["evidence", "message_id"]))
    found = archive.qa_steps.loc[archive.qa_steps["found"]].iloc[0]
    convo = conversation_with_evidence(bare, found["ticket_id"])
    row = convo.iloc[int(found["first_position"])]
    assert found["step"] in row["steps"].split(";")
    assert row["evidence"] == [row["text"]] * len(row["steps"].split(";"))


def test_dashboard_pages_conversation_says_what_found_each_step_and_its_score(archive):
    import dataclasses

    steps = archive.qa_steps.copy()
    found = steps["found"].astype(bool)
    steps["evidence_fired"] = np.where(found, "semantic", "")
    steps["evidence_score"] = np.where(found, 0.734, np.nan)
    first = steps.loc[found].iloc[0]
    convo = conversation_with_evidence(dataclasses.replace(archive, qa_steps=steps), first["ticket_id"])
    labels = ";".join(convo["found_by"])
    assert f"{first['step']}: semantic, 0.73" in labels
    bare = conversation_with_evidence(archive, first["ticket_id"])  # no audit columns: nothing invented
    assert (bare["found_by"] == "").all()
