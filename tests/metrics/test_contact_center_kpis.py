"""Answered, abandoned and wait-time KPIs on a hand-computed table."""

from __future__ import annotations

import pandas as pd
import pytest

from cxlens.config import KPIConfig
from cxlens.io import validate_frame
from cxlens.metrics import Tables, get_kpi
from cxlens.schema import TICKETS


@pytest.fixture()
def tables() -> Tables:
    raw = pd.DataFrame([
        dict(ticket_id="c1", created_at="2026-03-02T10:00:00Z", answered="true", abandoned="false", wait_time_s=20),
        dict(ticket_id="c2", created_at="2026-03-02T10:00:00Z", answered="false", abandoned="true", wait_time_s=3),
        dict(ticket_id="c3", created_at="2026-03-02T10:00:00Z", answered="false", abandoned="true", wait_time_s=40),
        dict(ticket_id="c4", created_at="2026-03-02T10:00:00Z", answered="true", abandoned="false", wait_time_s=10),
        dict(ticket_id="c5", created_at="2026-03-02T10:00:00Z"),  # an email: not a live contact
        dict(ticket_id="c6", created_at="2026-03-02T10:00:00Z", answered="false", abandoned="true"),
    ])
    tickets, bad = validate_frame(raw, TICKETS)
    assert bad.empty
    return Tables(tickets=tickets, tickets_all=tickets)


def test_contact_center_kpis_answered_rate(tables):
    measure = get_kpi("answered_call_rate")(tables, KPIConfig())
    # offered: c1, c2, c3, c4, c6; answered: c1, c4
    assert measure.value == pytest.approx(100 * 2 / 5)
    assert measure.n == 5


def test_contact_center_kpis_abandonment_excludes_short_abandons(tables):
    measure = get_kpi("abandonment_rate")(tables, KPIConfig(abandon_short_s=5))
    # c2 abandoned after 3 s (< 5 s): out of both counts. Offered 4 (c1, c3, c4, c6); abandoned c3, c6
    assert measure.value == pytest.approx(100 * 2 / 4)
    assert measure.n == 4
    assert "c2" not in set(measure.ids)
    counted = get_kpi("abandonment_rate")(tables, KPIConfig(abandon_short_s=0))
    assert counted.value == pytest.approx(100 * 3 / 5)


def test_contact_center_kpis_average_wait(tables):
    measure = get_kpi("average_wait_time_s")(tables, KPIConfig())
    assert measure.value == pytest.approx((20 + 3 + 40 + 10) / 4)
    assert measure.n == 4
