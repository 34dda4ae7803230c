"""AI-derived KPIs on hand-made scored columns: sentiment, topics, request types, QA, account risk."""

from __future__ import annotations

import pandas as pd
import pytest

from cxlens.config import KPIConfig
from cxlens.io import validate_frame
from cxlens.metrics import Tables, compute_kpis, get_kpi, make_tables
from cxlens.schema import ACCOUNTS, TICKETS


def _tickets(**columns) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    raw = pd.DataFrame({"ticket_id": [f"t{i}" for i in range(n)], "created_at": "2026-03-02T10:00:00Z"})
    for name, values in columns.items():
        raw[name] = values
    valid, bad = validate_frame(raw, TICKETS)
    assert bad.empty, bad
    return valid


def _run(name, tickets=None, accounts=None, config=None, end=None):
    tables = Tables(tickets=tickets, tickets_all=tickets, accounts=accounts, period_end=end)
    return get_kpi(name)(tables, config or KPIConfig())


def test_ai_kpis_sentiment_index_and_negative_share():
    tickets = _tickets(sentiment=["positive", "positive", "negative", "neutral", None])
    index = _run("sentiment_index", tickets)
    assert index.value == pytest.approx(100 * 2 / 4 - 100 * 1 / 4)
    assert index.n == 4
    assert _run("negative_share", tickets).value == pytest.approx(100 * 1 / 4)


def test_ai_kpis_topic_and_request_type_shares():
    tickets = _tickets(topic=["billing", "billing", "login", None],
                       request_type=["question", "complaint", "question", "question"])
    topics = _run("topic_share", tickets)
    assert topics.value == pytest.approx({"billing": 100 * 2 / 3, "login": 100 * 1 / 3})
    assert list(topics.value) == ["billing", "login"]  # largest first
    assert topics.n == 3
    assert _run("request_type_share", tickets).value == pytest.approx({"question": 75.0, "complaint": 25.0})


def _trend_tickets() -> pd.DataFrame:
    rows = [("2026-01-05", "billing"), ("2026-01-06", "billing"), ("2026-01-07", "login"),
            ("2026-02-02", "login"), ("2026-02-03", "login"), ("2026-02-04", "billing"), ("2026-02-05", "shipping")]
    raw = pd.DataFrame({"ticket_id": [f"t{i}" for i in range(len(rows))], "created_at": [r[0] for r in rows],
                        "topic": [r[1] for r in rows], "channel": "email"})
    valid, bad = validate_frame(raw, TICKETS)
    assert bad.empty
    return valid


def test_ai_kpis_topic_trend_shares_per_month_and_change():
    value = _run("topic_trend", _trend_tickets()).value
    assert value["periods"] == ["2026-01", "2026-02"]
    # January: billing 2/3, login 1/3; February: login 2/4, billing 1/4, shipping 1/4
    assert value["shares"]["billing"] == pytest.approx([100 * 2 / 3, 25.0])
    assert value["shares"]["shipping"] == pytest.approx([0.0, 25.0])
    assert value["change"]["login"] == pytest.approx(50.0 - 100 / 3)
    assert value["change"]["billing"] == pytest.approx(25.0 - 200 / 3)
    assert list(value["shares"]) == ["login", "billing", "shipping"]  # by last share, ties by name


def test_ai_kpis_topic_trend_per_month_group_compares_with_the_month_before():
    report = compute_kpis(make_tables(tickets=_trend_tickets()), names=["topic_trend"], period="month")
    february = [g for g in report.groups if g["period"] == "2026-02-01"][0]["kpis"]["topic_trend"]
    assert february["periods"] == ["2026-01", "2026-02"]
    assert february["change"]["login"] == pytest.approx(50.0 - 100 / 3)
    january = [g for g in report.groups if g["period"] == "2026-01-01"][0]["kpis"]["topic_trend"]
    assert january["periods"] == ["2026-01"] and january["change"]["billing"] is None


def test_ai_kpis_script_adherence_and_auto_fail():
    tickets = _tickets(script_adherence=["80", "90", None, "100"], auto_fail=["true", "false", None, "false"])
    adherence = _run("script_adherence_rate", tickets)
    assert adherence.value == pytest.approx((80 + 90 + 100) / 3)
    assert adherence.n == 3
    assert _run("auto_fail_rate", tickets).value == pytest.approx(100 * 1 / 3)


def test_ai_kpis_agent_consistency_is_the_spread_of_agent_means():
    tickets = _tickets(agent_id=["a", "a", "b", "b", "c"], script_adherence=[80, 90, 100, 60, 50])
    measure = _run("agent_consistency", tickets, config=KPIConfig(top_performers_min_n=2))
    # agent means: a 85, b 80 (c has one ticket: left out); population std of [85, 80] = 2.5
    assert measure.value == pytest.approx(2.5)
    assert measure.id_kind == "agent_id" and sorted(measure.ids) == ["a", "b"]
    alone = _run("agent_consistency", tickets, config=KPIConfig(top_performers_min_n=1))
    assert alone.value == pytest.approx(pd.Series([85.0, 80.0, 50.0]).std(ddof=0))


def _risk_accounts() -> pd.DataFrame:
    raw = pd.DataFrame({
        "account_id": ["a1", "a2", "a3", "a4", "a5"],
        "churned_at": [None, None, None, None, "2026-02-01"],
        "mrr": [100, 50, 30, 20, 70],
        "churn_probability": ["0.9", "0.5", "0.2", None, "0.8"],
        "health_score": [80, 50, 20, None, 90],
        "health_band": ["good", "average", "poor", None, "good"],
    })
    valid, bad = validate_frame(raw, ACCOUNTS)
    assert bad.empty
    return valid


def test_ai_kpis_churn_risk_kpis():
    accounts = _risk_accounts()
    end = pd.Timestamp("2026-03-01", tz="UTC")  # a5 churned before: not a current customer
    rate = _run("predicted_churn_rate", accounts=accounts, end=end)
    assert rate.value == pytest.approx(100 * 2 / 3)  # a1 (0.9), a2 (0.5 >= 0.5) of a1, a2, a3
    assert rate.id_kind == "account_id" and sorted(rate.ids) == ["a1", "a2"]
    assert _run("at_risk_accounts", accounts=accounts, end=end).value == 2
    assert _run("revenue_at_risk", accounts=accounts, end=end).value == pytest.approx(100 + 50)
    strict = _run("revenue_at_risk", accounts=accounts, end=end, config=KPIConfig(risk_threshold=0.6))
    assert strict.value == pytest.approx(100)


def test_ai_kpis_customer_health_score_distribution():
    value = _run("customer_health_score", accounts=_risk_accounts(), end=pd.Timestamp("2026-03-01", tz="UTC")).value
    assert value["mean"] == pytest.approx((80 + 50 + 20) / 3)
    assert value["median"] == pytest.approx(50)
    assert value["bands"] == {"good": 1, "average": 1, "poor": 1}
