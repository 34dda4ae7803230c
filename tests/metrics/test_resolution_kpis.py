"""Resolution KPIs on a small hand-computed table (expected values written from the formulas)."""

from __future__ import annotations

import pandas as pd
import pytest

from cxlens.config import KPIConfig
from cxlens.io import validate_frame
from cxlens.metrics import Tables, explain_kpi, get_kpi
from cxlens.schema import TICKETS

START = pd.Timestamp("2026-03-01", tz="UTC")
END = pd.Timestamp("2026-03-31 23:59:59", tz="UTC")


def _tickets(rows: list[dict]) -> pd.DataFrame:
    valid, bad = validate_frame(pd.DataFrame(rows), TICKETS)
    assert bad.empty, bad
    return valid


@pytest.fixture()
def tables() -> Tables:
    rows = [
        # created in March
        dict(ticket_id="t1", created_at="2026-03-02T09:00:00Z", resolved_at="2026-03-02T10:00:00Z", contacts=1,
             reopened=False, handle_time_s=300, agent_replies=1),
        dict(ticket_id="t2", created_at="2026-03-03T09:00:00Z", resolved_at="2026-04-02T09:00:00Z", contacts=2,
             handle_time_s=600, agent_replies=3),
        dict(ticket_id="t3", created_at="2026-03-04T09:00:00Z", resolved_at="2026-03-04T12:00:00Z",
             agent_replies=1, reopened=True, handle_time_s=0),
        dict(ticket_id="t4", created_at="2026-03-05T09:00:00Z", agent_replies=2),
        dict(ticket_id="t5", created_at="2026-03-10T09:00:00Z", resolved_at="2026-03-11T09:00:00Z",
             handle_time_s=900),
        dict(ticket_id="t8", created_at="2026-03-30T00:00:00Z"),
        dict(ticket_id="t9", created_at="2026-03-06T09:00:00Z", status="closed"),
        # created before March: only in tickets_all
        dict(ticket_id="t6", created_at="2026-02-20T09:00:00Z", resolved_at="2026-03-01T08:00:00Z"),
        dict(ticket_id="t7", created_at="2026-02-01T09:00:00Z", status="open"),
    ]
    everything = _tickets(rows)
    in_march = everything[everything["created_at"] >= START].reset_index(drop=True)
    return Tables(tickets=in_march, tickets_all=everything, period_start=START, period_end=END)


def _value(name: str, tables: Tables, config: KPIConfig | None = None):
    return get_kpi(name)(tables, config or KPIConfig())


def test_resolution_kpis_average_handle_time_counts_handled_tickets_only(tables):
    measure = _value("average_handle_time_s", tables)
    # t1 300, t2 600, t5 900 handled; t3 (0 s) and missing values are not handled
    assert measure.value == pytest.approx((300 + 600 + 900) / 3)
    assert measure.n == 3
    assert set(measure.ids) == {"t1", "t2", "t5"}


def test_resolution_kpis_first_contact_resolution(tables):
    measure = _value("first_contact_resolution_rate", tables)
    # resolved with a known contact count: t1 (contacts 1), t2 (contacts 2), t3 (1 reply, reopened);
    # t5 is resolved but its contacts are unknown -> left out. Only t1 counts.
    assert measure.value == pytest.approx(100 * 1 / 3)
    assert measure.n == 3
    assert set(measure.ids) == {"t1", "t2", "t3"}


def test_resolution_kpis_resolution_rate_counts_resolutions_in_the_period(tables):
    measure = _value("resolution_rate", tables)
    # resolved within March: t1, t3, t5 and t6 (created in February); t2 resolved in April.
    # received in March: t1, t2, t3, t4, t5, t8, t9 = 7
    assert measure.value == pytest.approx(100 * 4 / 7)
    assert measure.n == 7
    assert set(measure.ids) == {"t1", "t3", "t5", "t6"}


def test_resolution_kpis_backlog_at_period_end(tables):
    measure = _value("backlog", tables)
    # open at March 31: t2 (resolved in April), t4, t8, t7 (February); t9 is closed without a date
    assert measure.value == 4
    assert set(measure.ids) == {"t2", "t4", "t7", "t8"}


def test_resolution_kpis_backlog_aged_uses_the_configured_age(tables):
    measure = _value("backlog_aged", tables)
    # older than 7 days at March 31 23:59:59: t2, t4, t7; t8 was created March 30
    assert measure.value == 3
    assert set(measure.ids) == {"t2", "t4", "t7"}
    two_days = _value("backlog_aged", tables, KPIConfig(backlog_age_s=2 * 86400.0))
    assert two_days.value == 3  # t8 is 2 days minus one second old
    one_day = _value("backlog_aged", tables, KPIConfig(backlog_age_s=86400.0))
    assert one_day.value == 4


def test_resolution_kpis_replies_per_resolution(tables):
    measure = _value("replies_per_resolution", tables)
    # resolved tickets with a reply count: t1 1, t2 3, t3 1 (t5 unknown)
    assert measure.value == pytest.approx((1 + 3 + 1) / 3)
    assert measure.n == 3


def test_resolution_kpis_cost_per_resolution(tables):
    assert _value("cost_per_resolution", tables).value is None  # no cost configured
    measure = _value("cost_per_resolution", tables, KPIConfig(operating_cost=1000.0))
    assert measure.value == pytest.approx(1000.0 / 4)  # four resolutions in March
    assert measure.n == 4


def test_resolution_kpis_self_service_rate():
    tickets = _tickets([dict(ticket_id="a", created_at="2026-03-01", self_service="yes"),
                        dict(ticket_id="b", created_at="2026-03-01", self_service="no"),
                        dict(ticket_id="c", created_at="2026-03-01", self_service="false"),
                        dict(ticket_id="d", created_at="2026-03-01")])
    measure = _value("self_service_rate", Tables(tickets=tickets, tickets_all=tickets))
    assert measure.value == pytest.approx(100 * 1 / 3)
    assert measure.n == 3


def test_resolution_kpis_fcr_falls_back_to_agent_replies():
    tickets = _tickets([
        dict(ticket_id="a", created_at="2026-03-01", resolved_at="2026-03-02", agent_replies=1),
        dict(ticket_id="b", created_at="2026-03-01", resolved_at="2026-03-02", agent_replies=0),
        dict(ticket_id="c", created_at="2026-03-01", resolved_at="2026-03-02", agent_replies=1, contacts=3),
    ])
    measure = _value("first_contact_resolution_rate", Tables(tickets=tickets, tickets_all=tickets))
    # a: one reply -> yes; b: no reply -> no; c: contacts (3) wins over replies -> no
    assert measure.value == pytest.approx(100 * 1 / 3)


def test_resolution_kpis_explain_lists_the_backlog_tickets(tables):
    measure, rows = explain_kpi("backlog", tables)
    assert measure.value == 4
    assert sorted(rows["ticket_id"]) == ["t2", "t4", "t7", "t8"]
    assert "created_at" in rows  # full ticket rows, not only ids


def test_resolution_kpis_resolution_rate_without_tickets_is_none():
    empty = _tickets([dict(ticket_id="x", created_at="2026-03-01", resolved_at=None)]).iloc[0:0]
    tables = Tables(tickets=empty, tickets_all=empty)
    assert _value("resolution_rate", tables).value is None
    assert _value("backlog", tables).value == 0
    assert _value("backlog_aged", tables).value == 0
