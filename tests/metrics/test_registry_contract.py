"""Contract over every registered KPI: metadata, empty tables, all-null columns, modules listed once."""

from __future__ import annotations

import functools
import json

import pandas as pd
import pytest

import cxlens.metrics as metrics
from cxlens.config import KPIConfig
from cxlens.io import validate_frame
from cxlens.metrics import Measure, Tables, compute_kpis, get_kpi, get_kpi_names, make_tables
from cxlens.metrics._registry import DIRECTIONS, TABLE_NAMES, UNITS
from cxlens.metrics.compute import _plain
from cxlens.schema import SCHEMAS

# the scored columns of docs/architecture.md, plus the extra account columns some KPIs read
SCORED = {
    "tickets": ("request_type", "topic", "sentiment", "sentiment_score", "script_adherence", "auto_fail",
                "csat_good_probability"),
    "mentions": ("request_type", "topic", "sentiment", "sentiment_score", "is_question", "is_complaint"),
    "accounts": ("churn_probability", "health_score", "health_band", "mrr_start", "orders"),
    "surveys": (),
    "messages": (),
}
NAMES = get_kpi_names()
CONFIG = KPIConfig(operating_cost=100.0, top_performers_min_n=1)


def _frame(table: str, rows: list[dict]) -> pd.DataFrame:
    schema = SCHEMAS[table]
    columns = list(schema.names) + list(SCORED[table])
    raw = pd.DataFrame(rows, columns=columns) if rows else pd.DataFrame({c: pd.Series(dtype=object)
                                                                         for c in columns})
    valid, bad = validate_frame(raw, schema)
    assert bad.empty, bad
    return valid


PERIOD = {"period_start": pd.Timestamp("2026-01-01", tz="UTC"), "period_end": pd.Timestamp("2026-02-01", tz="UTC")}


@functools.cache
def _empty_tables(with_period: bool = False) -> Tables:
    """Every table with all its columns and no rows (built once; KPIs never modify their input)."""
    frames = {name: _frame(name, []) for name in TABLE_NAMES}
    return make_tables(**frames, **(PERIOD if with_period else {}))


@functools.cache
def _all_null_tables() -> Tables:
    """One row per table: the required columns set, every other column present but empty."""
    required = {
        "tickets": {"ticket_id": "t1", "created_at": "2026-03-02T10:00:00Z"},
        "messages": {"ticket_id": "t1", "sent_at": "2026-03-02T10:05:00Z", "author_role": "customer"},
        "accounts": {"account_id": "a1"},
        "surveys": {"kind": "csat", "score": 4, "responded_at": "2026-03-03T10:00:00Z"},
        "mentions": {"mention_id": "m1", "posted_at": "2026-03-02T12:00:00Z", "text": "hello"},
    }
    return make_tables(**{name: _frame(name, [row]) for name, row in required.items()})


def test_registry_contract_every_kpi_has_its_metadata():
    assert len(NAMES) >= 50
    for name in NAMES:
        kpi = get_kpi(name)
        assert kpi.summary and not kpi.summary.endswith(","), name
        assert kpi.unit in UNITS and kpi.direction in DIRECTIONS, name
        assert kpi.formula.strip() and kpi.requires and kpi.category, name


def test_registry_contract_issue_names_are_registered():
    expected = """ticket_volume volume_by_channel channel_share first_response_time_mean_s
        first_response_time_median_s first_response_time_p90_s resolution_time_mean_s resolution_time_median_s
        resolution_time_p90_s average_handle_time_s first_contact_resolution_rate resolution_rate backlog
        backlog_aged replies_per_resolution sla_compliance_rate answered_call_rate abandonment_rate
        average_wait_time_s self_service_rate cost_per_resolution csat nps ces esat churn_rate retention_rate
        mrr_new mrr_expansion mrr_churned net_revenue_retention customer_lifetime_value upsell_rate
        repurchase_rate top_performers sentiment_index negative_share topic_share topic_trend request_type_share
        script_adherence_rate auto_fail_rate agent_consistency predicted_churn_rate revenue_at_risk
        at_risk_accounts customer_health_score mention_volume mention_sentiment_index mention_negative_share
        questions_answered_rate social_first_response_time_mean_s""".split()
    assert not set(expected) - set(NAMES)


def test_registry_contract_every_module_is_listed_once():
    modules = {get_kpi(name).func.__module__.rsplit(".", 1)[-1] for name in NAMES}
    assert modules <= set(metrics._KPI_MODULES)
    assert len(metrics._KPI_MODULES) == len(set(metrics._KPI_MODULES))


@pytest.mark.parametrize("with_period", [False, True])
@pytest.mark.parametrize("name", NAMES)
def test_registry_contract_runs_on_empty_tables(name, with_period):
    tables = _empty_tables(with_period)
    kpi = get_kpi(name)
    assert kpi.missing_inputs(tables) == []
    measure = kpi(tables, CONFIG)
    assert isinstance(measure, Measure)
    assert measure.n == 0
    assert measure.value in (None, 0, 0.0, {}, [])


@pytest.mark.parametrize("name", NAMES)
def test_registry_contract_runs_on_all_null_columns(name):
    measure = get_kpi(name)(_all_null_tables(), CONFIG)
    assert isinstance(measure, Measure)
    assert measure.n >= 0
    json.dumps(_plain(measure.value))


def test_registry_contract_all_null_columns_give_no_figure():
    report = compute_kpis(_all_null_tables(), config=CONFIG)
    assert report.kpis["ticket_volume"] == 1 and report.kpis["mention_volume"] == 1
    for name in ("average_handle_time_s", "first_contact_resolution_rate", "sla_compliance_rate", "nps",
                 "sentiment_index", "predicted_churn_rate", "script_adherence_rate", "questions_answered_rate"):
        assert report.kpis[name] is None, name
    json.dumps(report.to_dict())


def test_registry_contract_compute_on_empty_tables_grouped():
    report = compute_kpis(_empty_tables(), config=CONFIG, by=["channel"], period="month")
    assert report.groups == []
    assert report.kpis["ticket_volume"] == 0
    assert report.skipped == {}
    json.dumps(report.to_dict())
