"""The engine with the KPI modules: grouping by column and period, one-row groups, drill-down."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from cxlens.config import KPIConfig
from cxlens.io import validate_frame
from cxlens.metrics import compute_kpis, explain_kpi, make_tables
from cxlens.schema import SURVEYS, TICKETS


@pytest.fixture()
def tables():
    tickets, bad = validate_frame(pd.DataFrame([
        dict(ticket_id="e1", channel="email", created_at="2026-01-10T09:00:00Z",
             first_response_at="2026-01-10T09:01:00Z", resolved_at="2026-01-11T09:00:00Z", contacts=1),
        dict(ticket_id="e2", channel="email", created_at="2026-01-20T09:00:00Z", contacts=2),
        dict(ticket_id="e3", channel="email", created_at="2026-02-05T09:00:00Z",
             first_response_at="2026-02-05T09:02:00Z", resolved_at="2026-02-06T09:00:00Z", contacts=1),
        dict(ticket_id="c1", channel="chat", created_at="2026-01-15T09:00:00+01:00",
             first_response_at="2026-01-15T08:00:30Z"),
    ]), TICKETS)
    assert bad.empty
    surveys, bad = validate_frame(pd.DataFrame({
        "kind": "csat", "score": [5, 2], "ticket_id": ["e1", "c1"],
        "responded_at": ["2026-01-12T10:00:00Z", "2026-02-02T10:00:00Z"],
    }), SURVEYS)
    assert bad.empty
    return make_tables(tickets=tickets, surveys=surveys)


def _groups(report) -> dict:
    return {(g["channel"], g["period"]): g["kpis"] for g in report.groups}


def test_compute_grouping_by_channel_and_month(tables):
    report = compute_kpis(tables, by=["channel"], period="month")
    groups = _groups(report)
    assert set(groups) == {("email", "2026-01-01"), ("email", "2026-02-01"), ("chat", "2026-01-01"),
                           ("chat", "2026-02-01")}  # the last one holds only a survey answer
    assert report.kpis["ticket_volume"] == 4
    email_jan, email_feb = groups[("email", "2026-01-01")], groups[("email", "2026-02-01")]
    assert email_jan["ticket_volume"] == 2
    assert email_jan["first_response_time_mean_s"] == pytest.approx(60)
    assert email_jan["backlog"] == 1                              # e2 open at the end of January
    assert email_jan["resolution_rate"] == pytest.approx(100 * 1 / 2)
    assert email_jan["csat"] == 100.0                             # e1's answer, sliced through ticket_id
    assert email_feb["ticket_volume"] == 1
    assert email_feb["backlog"] == 1                              # e2 (created in January) still open
    assert email_feb["resolution_rate"] == pytest.approx(100.0)   # e3 resolved in February
    assert groups[("chat", "2026-02-01")]["csat"] == 0.0
    assert groups[("chat", "2026-02-01")]["ticket_volume"] == 0
    json.dumps(report.to_dict())  # the JSON contract holds


def test_compute_grouping_one_row_groups(tables):
    report = compute_kpis(tables, by=["channel"])
    chat = [g for g in report.groups if g["channel"] == "chat"][0]
    assert chat["kpis"]["ticket_volume"] == 1
    assert chat["kpis"]["first_response_time_mean_s"] == pytest.approx(30)  # 09:00+01:00 -> 08:00:30Z
    assert chat["kpis"]["first_response_time_p90_s"] == pytest.approx(30)
    assert chat["n"]["first_response_time_mean_s"] == 1
    frame = report.to_frame()
    assert list(frame["channel"]) == ["chat", "email"]


def test_compute_grouping_by_quarter(tables):
    report = compute_kpis(tables, period="quarter", names=["ticket_volume", "backlog"])
    assert [(g["period"], g["kpis"]["ticket_volume"]) for g in report.groups] == [("2026-01-01", 4)]


def test_compute_grouping_explain_returns_the_ticket_ids_behind_a_figure(tables):
    measure, rows = explain_kpi("first_contact_resolution_rate", tables)
    assert measure.value == pytest.approx(100.0)  # e1 and e3: resolved with one contact
    assert sorted(rows["ticket_id"]) == ["e1", "e3"]
    measure, rows = explain_kpi("first_response_time_mean_s", tables, config=KPIConfig())
    assert sorted(rows["ticket_id"]) == ["c1", "e1", "e3"]


def test_compute_grouping_scored_columns_read_from_csv(tmp_path):
    """Scored columns come back from CSV as strings; the KPIs coerce them."""
    from cxlens.dataset import load_dataset

    pd.DataFrame({
        "ticket_id": ["a", "b", "c"], "created_at": ["2026-03-02T10:00:00+01:00"] * 3,
        "sentiment": ["positive", "negative", "negative"], "script_adherence": ["70", "80.5", ""],
        "auto_fail": ["True", "False", ""], "agent_id": ["x", "x", "y"],
    }).to_csv(tmp_path / "tickets.csv", index=False)
    dataset = load_dataset(tickets=tmp_path / "tickets.csv")
    report = compute_kpis(make_tables(tickets=dataset.tickets), config=KPIConfig(top_performers_min_n=1))
    assert report.kpis["sentiment_index"] == pytest.approx(100 * 1 / 3 - 100 * 2 / 3)
    assert report.kpis["script_adherence_rate"] == pytest.approx((70 + 80.5) / 2)
    assert report.kpis["auto_fail_rate"] == pytest.approx(50.0)
    assert report.n["auto_fail_rate"] == 2
    assert report.kpis["agent_consistency"] == pytest.approx(0.0)  # only x has a score
