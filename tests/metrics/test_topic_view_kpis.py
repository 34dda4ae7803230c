"""The KPIs a per-topic view adds (metrics/topics.py): reopen rate, CSAT coverage, accounts most affected."""

from __future__ import annotations

import pandas as pd
import pytest

from cxlens.config import KPIConfig
from cxlens.metrics import compute_kpis, get_kpi, make_tables

CONFIG = KPIConfig()


def _tickets() -> pd.DataFrame:
    return pd.DataFrame({
        "ticket_id": ["t1", "t2", "t3", "t4", "t5", "t6"],
        "created_at": pd.to_datetime(["2025-01-02"] * 6, utc=True),
        "topic": ["a", "a", "a", "b", "b", "b"],
        "reopened": pd.array([True, False, None, False, False, True], dtype="boolean"),
        "account_id": ["x", "y", "x", None, "z", "z"],
        "csat": [5.0, None, 2.0, None, None, 9.0],  # 9 is outside the 1-5 scale: not an answer
    })


def test_topic_view_kpis_reopen_rate_counts_known_flags_only():
    measure = get_kpi("reopen_rate")(make_tables(tickets=_tickets()), CONFIG)
    assert measure.n == 5
    assert measure.value == pytest.approx(100 * 2 / 5)
    assert set(measure.ids) == {"t1", "t2", "t4", "t5", "t6"}


def test_topic_view_kpis_csat_coverage_from_tickets_and_from_surveys():
    measure = get_kpi("csat_coverage")(make_tables(tickets=_tickets()), CONFIG)
    assert measure.n == 6 and measure.value == pytest.approx(100 * 2 / 6)
    surveys = pd.DataFrame({"survey_id": ["s1", "s2", "s3"], "kind": ["csat", "csat", "nps"],
                            "score": [4.0, 1.0, 10.0], "ticket_id": ["t4", "t4", "t5"],
                            "responded_at": pd.to_datetime(["2025-01-03"] * 3, utc=True)})
    from_surveys = get_kpi("csat_coverage")(make_tables(tickets=_tickets(), surveys=surveys), CONFIG)
    assert from_surveys.value == pytest.approx(100 * 1 / 6)  # surveys win; two answers on t4 cover one ticket


def test_topic_view_kpis_top_accounts_by_tickets_ranks_and_breaks_ties_by_id():
    measure = get_kpi("top_accounts_by_tickets")(make_tables(tickets=_tickets()), CONFIG)
    assert measure.value == {"x": 2, "z": 2, "y": 1}
    assert measure.n == 5 and set(measure.ids) == {"t1", "t3", "t2", "t5", "t6"}


def test_topic_view_kpis_per_topic_through_compute_kpis():
    report = compute_kpis(make_tables(tickets=_tickets()), names=["reopen_rate", "csat_coverage",
                                                                  "top_accounts_by_tickets"], by=["topic"])
    groups = {g["topic"]: g["kpis"] for g in report.groups}
    assert groups["a"]["reopen_rate"] == pytest.approx(50.0)
    assert groups["b"]["csat_coverage"] == pytest.approx(0.0)
    assert groups["b"]["top_accounts_by_tickets"] == {"z": 2}
