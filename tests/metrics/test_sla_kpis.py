"""SLA compliance: targets per channel and priority, pauses, pending tickets, business hours, holidays."""

from __future__ import annotations

import pandas as pd
import pytest

from cxlens.config import BusinessHours, KPIConfig, SLAPolicy
from cxlens.io import validate_frame
from cxlens.metrics import Tables, explain_kpi, get_kpi
from cxlens.metrics.sla import sla_targets
from cxlens.schema import TICKETS

END = pd.Timestamp("2026-03-31 23:59:59", tz="UTC")
POLICY = SLAPolicy(first_response_s=(("email", 3600.0), ("chat", 60.0), ("email.urgent", 600.0)),
                   resolution_s=(("email", 86400.0),))


def _tickets(rows: list[dict]) -> pd.DataFrame:
    valid, bad = validate_frame(pd.DataFrame(rows), TICKETS)
    assert bad.empty, bad
    return valid


def _tables(rows: list[dict], end: pd.Timestamp = END) -> Tables:
    tickets = _tickets(rows)
    return Tables(tickets=tickets, tickets_all=tickets, period_start=tickets["created_at"].min(), period_end=end)


@pytest.fixture()
def tables() -> Tables:
    day = "2026-03-02T"
    return _tables([
        # met: 30 min reply (target 1 h), resolved in 10 h (target 24 h)
        dict(ticket_id="s1", channel="email", priority="normal", created_at=day + "10:00:00Z",
             first_response_at=day + "10:30:00Z", resolved_at=day + "20:00:00Z"),
        # breached: urgent email target is 10 min
        dict(ticket_id="s2", channel="email", priority="urgent", created_at=day + "10:00:00Z",
             first_response_at=day + "10:30:00Z", resolved_at=day + "11:00:00Z"),
        # met: 48 h to resolve minus 25 h paused = 23 h
        dict(ticket_id="s3", channel="email", priority="normal", created_at=day + "10:00:00Z",
             first_response_at=day + "10:30:00Z", resolved_at="2026-03-04T10:00:00Z", paused_s=25 * 3600),
        # breached: 48 h to resolve, nothing paused
        dict(ticket_id="s4", channel="email", priority="normal", created_at=day + "10:00:00Z",
             first_response_at=day + "10:30:00Z", resolved_at="2026-03-04T10:00:00Z"),
        # chat: reply in 50 s met, in 120 s breached (no resolution target for chat)
        dict(ticket_id="s5", channel="chat", created_at=day + "10:00:00Z", first_response_at=day + "10:00:50Z"),
        dict(ticket_id="s6", channel="chat", created_at=day + "10:00:00Z", first_response_at=day + "10:02:00Z"),
        # phone: no target in this policy -> not counted
        dict(ticket_id="s7", channel="phone", created_at=day + "10:00:00Z", first_response_at=day + "11:00:00Z"),
        # pending: created 30 min before the period end, no reply yet, still inside its targets
        dict(ticket_id="s8", channel="email", created_at="2026-03-31T23:30:00Z"),
        # breached: no reply at all and long past the 1 h target at the period end
        dict(ticket_id="s9", channel="email", created_at=day + "10:00:00Z"),
    ])


def test_sla_kpis_compliance_per_channel_and_priority(tables):
    config = KPIConfig(sla=POLICY)
    measure = get_kpi("sla_compliance_rate")(tables, config)
    # met s1, s3, s5; breached s2, s4, s6, s9; s7 has no target, s8 is pending
    assert measure.value == pytest.approx(100 * 3 / 7)
    assert measure.n == 7
    assert set(measure.ids) == {"s1", "s2", "s3", "s4", "s5", "s6", "s9"}
    breaches = get_kpi("sla_breaches")(tables, config)
    assert breaches.value == 4
    assert set(breaches.ids) == {"s2", "s4", "s6", "s9"}


def test_sla_kpis_targets_fall_back_from_priority_to_channel_to_star():
    tickets = _tickets([
        dict(ticket_id="a", created_at="2026-03-02", channel="email", priority="urgent"),
        dict(ticket_id="b", created_at="2026-03-02", channel="email", priority="low"),
        dict(ticket_id="c", created_at="2026-03-02", channel="fax"),
        dict(ticket_id="d", created_at="2026-03-02"),
    ])
    targets = sla_targets(tickets, (("email", 3600.0), ("email.urgent", 600.0), ("*", 7200.0)))
    assert list(targets) == [600.0, 3600.0, 7200.0, 7200.0]
    without_star = sla_targets(tickets, (("Email", 3600.0),))  # keys are case-insensitive
    assert without_star[:2].tolist() == [3600.0, 3600.0]
    assert pd.isna(without_star[2:]).all()


def test_sla_kpis_default_policy_follows_the_benchmarks():
    # default: email 24 h, chat 60 s, phone 180 s, social 1 h
    tables = _tables([
        dict(ticket_id="e", channel="email", created_at="2026-03-02T10:00:00Z",
             first_response_at="2026-03-03T09:00:00Z"),  # 23 h: met
        dict(ticket_id="c", channel="chat", created_at="2026-03-02T10:00:00Z",
             first_response_at="2026-03-02T10:01:30Z"),  # 90 s: breached
        dict(ticket_id="p", channel="phone", created_at="2026-03-02T10:00:00Z",
             first_response_at="2026-03-02T10:02:00Z"),  # 120 s: met
    ])
    assert get_kpi("sla_compliance_rate")(tables, KPIConfig()).value == pytest.approx(100 * 2 / 3)


def test_sla_kpis_resolved_without_reply_inside_target_is_not_judged():
    tables = _tables([
        dict(ticket_id="quick", channel="email", created_at="2026-03-02T10:00:00Z",
             resolved_at="2026-03-02T10:20:00Z", first_response_at=None),
        dict(ticket_id="slow", channel="email", created_at="2026-03-02T10:00:00Z",
             resolved_at="2026-03-02T13:00:00Z"),
    ])
    policy = SLAPolicy(first_response_s=(("email", 3600.0),))
    measure = get_kpi("sla_compliance_rate")(tables, KPIConfig(sla=policy))
    # "quick" was solved before any reply was due; "slow" passed 1 h with no reply -> breached
    assert measure.value == 0.0
    assert list(measure.ids) == ["slow"]


def test_sla_kpis_business_hours_across_a_weekend():
    # Friday 16:00 -> Monday 10:00 is 66 wall-clock hours but 2 business hours (09-17 Mon-Fri)
    tables = _tables([dict(ticket_id="w", channel="email", created_at="2026-03-06T16:00:00Z",
                           first_response_at="2026-03-09T10:00:00Z")])
    policy = SLAPolicy(first_response_s=(("email", 4 * 3600.0),))
    wall = get_kpi("sla_compliance_rate")(tables, KPIConfig(sla=policy))
    assert wall.value == 0.0
    hours = BusinessHours(timezone="UTC", days=("mon", "tue", "wed", "thu", "fri"), start="09:00", end="17:00")
    business = get_kpi("sla_compliance_rate")(tables, KPIConfig(sla=policy, business_hours=hours,
                                                                 use_business_hours=True))
    assert business.value == 100.0


def test_sla_kpis_business_hours_skip_holidays_in_local_time():
    # created Friday 16:00 Berlin (15:00 UTC), answered Tuesday 10:00 Berlin; Monday is a holiday:
    # 1 h on Friday + 1 h on Tuesday = 2 h -> meets a 3 h target, misses a 1.5 h one
    tables = _tables([dict(ticket_id="h", channel="email", created_at="2026-03-06T16:00:00+01:00",
                           first_response_at="2026-03-10T10:00:00+01:00")])
    hours = BusinessHours(timezone="Europe/Berlin", holidays=("2026-03-09",))
    for target, expected in ((3 * 3600.0, 100.0), (1.5 * 3600.0, 0.0)):
        config = KPIConfig(sla=SLAPolicy(first_response_s=(("email", target),)), business_hours=hours,
                           use_business_hours=True)
        assert get_kpi("sla_compliance_rate")(tables, config).value == expected


def test_sla_kpis_no_target_means_no_figure():
    tables = _tables([dict(ticket_id="x", channel="phone", created_at="2026-03-02T10:00:00Z",
                           first_response_at="2026-03-02T10:01:00Z")])
    measure = get_kpi("sla_compliance_rate")(tables, KPIConfig(sla=POLICY))
    assert measure.value is None
    assert measure.n == 0


def test_sla_kpis_explain_lists_the_judged_tickets(tables):
    measure, rows = explain_kpi("sla_compliance_rate", tables, config=KPIConfig(sla=POLICY))
    assert sorted(rows["ticket_id"]) == ["s1", "s2", "s3", "s4", "s5", "s6", "s9"]
    _, breached = explain_kpi("sla_breaches", tables, config=KPIConfig(sla=POLICY))
    assert sorted(breached["ticket_id"]) == ["s2", "s4", "s6", "s9"]


def test_sla_kpis_outcomes_follow_the_config_and_tables(tables):
    """The per-ticket outcomes are reused only for the very same tickets, config and period end."""
    strict = KPIConfig(sla=SLAPolicy(first_response_s=(("*", 1.0),)))
    lenient = KPIConfig(sla=SLAPolicy(first_response_s=(("*", 60 * 86400.0),)))
    assert get_kpi("sla_compliance_rate")(tables, strict).value == 0.0
    assert get_kpi("sla_breaches")(tables, lenient).value == 0
    assert get_kpi("sla_compliance_rate")(tables, lenient).value == 100.0
    later = Tables(tickets=tables.tickets, tickets_all=tables.tickets, period_end=END + pd.Timedelta(days=40))
    breaches = get_kpi("sla_breaches")(later, lenient)  # s9: 69 days without a reply; s8 only 40
    assert list(breaches.ids) == ["s9"]
