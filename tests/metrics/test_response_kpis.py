"""Volume and speed KPIs (volume.py, response.py, durations.py): formulas, time zones, business hours."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlens.config import BusinessHours, KPIConfig
from cxlens.io import validate_frame
from cxlens.metrics import Tables, get_kpi
from cxlens.metrics.durations import business_seconds, elapsed_seconds
from cxlens.schema import TICKETS

HOURS = BusinessHours(timezone="UTC", days=("mon", "tue", "wed", "thu", "fri"), start="09:00", end="17:00")


def _tickets(rows: list[dict]) -> pd.DataFrame:
    valid, bad = validate_frame(pd.DataFrame(rows), TICKETS)
    assert bad.empty, bad
    return valid


def _stamps(*values: str) -> pd.Series:
    return pd.to_datetime(pd.Series(values), utc=True)


@pytest.fixture()
def tickets() -> pd.DataFrame:
    base = "2026-03-02T10:00:00Z"
    return _tickets([
        dict(ticket_id="a", created_at=base, channel="email", first_response_at="2026-03-02T10:01:00Z",
             resolved_at="2026-03-02T11:00:00Z"),
        dict(ticket_id="b", created_at=base, channel="email", first_response_at="2026-03-02T10:02:00Z",
             resolved_at="2026-03-02T12:00:00Z"),
        dict(ticket_id="c", created_at=base, channel="chat", first_response_at="2026-03-02T10:03:00Z"),
        dict(ticket_id="d", created_at=base, channel="email", first_response_at="2026-03-02T10:10:00Z",
             resolved_at="2026-03-02T14:00:00Z"),
        dict(ticket_id="e", created_at=base),
    ])


def _run(name, tickets, config=None):
    return get_kpi(name)(Tables(tickets=tickets, tickets_all=tickets), config or KPIConfig())


def test_response_kpis_volume_and_channels(tickets):
    assert _run("ticket_volume", tickets).value == 5
    assert _run("volume_by_channel", tickets).value == {"email": 3, "chat": 1, "unknown": 1}
    share = _run("channel_share", tickets).value
    assert share["preferred"] == "email"
    assert share["shares"]["email"] == pytest.approx(100 * 3 / 5)


def test_response_kpis_first_response_statistics(tickets):
    seconds = np.array([60.0, 120.0, 180.0, 600.0])
    assert _run("first_response_time_mean_s", tickets).value == pytest.approx(seconds.sum() / 4)
    assert _run("first_response_time_median_s", tickets).value == pytest.approx((120 + 180) / 2)
    # p90 by linear interpolation: position 0.9 * 3 = 2.7 -> 180 + 0.7 * (600 - 180)
    assert _run("first_response_time_p90_s", tickets).value == pytest.approx(180 + 0.7 * 420)
    measure = _run("first_response_time_mean_s", tickets)
    assert measure.n == 4 and list(measure.ids) == ["a", "b", "c", "d"]


def test_response_kpis_resolution_statistics(tickets):
    assert _run("resolution_time_mean_s", tickets).value == pytest.approx((3600 + 7200 + 14400) / 3)
    assert _run("resolution_time_median_s", tickets).value == pytest.approx(7200)
    assert _run("resolution_time_mean_s", tickets).n == 3


def test_response_kpis_time_zones_are_parsed_to_utc():
    # 10:00 at +02:00 is 08:00 UTC; the reply at 08:30Z is 30 minutes later
    tickets = _tickets([dict(ticket_id="z", created_at="2026-03-02T10:00:00+02:00",
                             first_response_at="2026-03-02T08:30:00Z",
                             resolved_at="2026-03-02T05:00:00-05:00")])  # 10:00 UTC
    assert str(tickets["created_at"].dt.tz) == "UTC"
    assert _run("first_response_time_mean_s", tickets).value == pytest.approx(1800)
    assert _run("resolution_time_mean_s", tickets).value == pytest.approx(2 * 3600)


def test_response_kpis_business_seconds_across_a_weekend():
    start, end = _stamps("2026-03-06T16:00:00Z"), _stamps("2026-03-09T10:00:00Z")  # Friday -> Monday
    assert business_seconds(start, end, HOURS).iloc[0] == pytest.approx(2 * 3600)
    wall = elapsed_seconds(start, end, KPIConfig())
    assert wall.iloc[0] == pytest.approx(66 * 3600)


def test_response_kpis_business_seconds_skip_holidays_and_closed_hours():
    hours = BusinessHours(timezone="UTC", holidays=("2026-03-09",))
    start, end = _stamps("2026-03-06T16:00:00Z"), _stamps("2026-03-10T10:00:00Z")  # Monday is a holiday
    assert business_seconds(start, end, hours).iloc[0] == pytest.approx(2 * 3600)
    night = business_seconds(_stamps("2026-03-02T18:00:00Z"), _stamps("2026-03-03T08:00:00Z"), HOURS)
    assert night.iloc[0] == 0.0
    saturday = business_seconds(_stamps("2026-03-07T10:00:00Z"), _stamps("2026-03-07T12:00:00Z"), HOURS)
    assert saturday.iloc[0] == 0.0


def test_response_kpis_business_hours_in_local_time():
    # 09-17 in New York (UTC-5 in early March before DST): 14:00Z is 09:00 local, 22:00Z is 17:00
    hours = BusinessHours(timezone="America/New_York")
    seconds = business_seconds(_stamps("2026-03-02T13:00:00Z"), _stamps("2026-03-02T23:00:00Z"), hours)
    assert seconds.iloc[0] == pytest.approx(8 * 3600)


def test_response_kpis_first_response_in_business_hours():
    tickets = _tickets([dict(ticket_id="w", created_at="2026-03-06T16:00:00Z",
                             first_response_at="2026-03-09T10:00:00Z")])
    config = KPIConfig(business_hours=HOURS, use_business_hours=True)
    assert _run("first_response_time_mean_s", tickets, config).value == pytest.approx(2 * 3600)


def test_response_kpis_missing_timestamps_give_nan():
    start, end = _stamps("2026-03-02T10:00:00Z", None), _stamps(None, "2026-03-02T10:00:00Z")
    assert elapsed_seconds(start, end, KPIConfig()).isna().all()
    assert business_seconds(start, end, HOURS).isna().all()
