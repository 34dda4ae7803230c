"""top_performers: per-agent figures, the minimum-n rule and the percentile ranking."""

from __future__ import annotations

import pandas as pd
import pytest

from cxlens.config import KPIConfig
from cxlens.io import validate_frame
from cxlens.metrics import Tables, explain_kpi, get_kpi
from cxlens.schema import SURVEYS, TICKETS


def _tickets(rows: list[dict]) -> pd.DataFrame:
    valid, bad = validate_frame(pd.DataFrame(rows), TICKETS)
    assert bad.empty, bad
    return valid


@pytest.fixture()
def tickets() -> pd.DataFrame:
    day, done = "2026-03-02T10:00:00Z", "2026-03-02T12:00:00Z"
    return _tickets([
        # x: 3 tickets, all resolved, FCR 2/3, CSAT 2/3 satisfied, AHT 200
        dict(ticket_id="x1", agent_id="x", created_at=day, resolved_at=done, contacts=1, csat=5, handle_time_s=100),
        dict(ticket_id="x2", agent_id="x", created_at=day, resolved_at=done, contacts=1, csat=4, handle_time_s=200),
        dict(ticket_id="x3", agent_id="x", created_at=day, resolved_at=done, contacts=2, csat=2, handle_time_s=300),
        # y: 2 tickets, 1 resolved, FCR 1/1, CSAT 1/1, AHT 150
        dict(ticket_id="y1", agent_id="y", created_at=day, resolved_at=done, contacts=1, csat=5, handle_time_s=150),
        dict(ticket_id="y2", agent_id="y", created_at=day, handle_time_s=150),
        # z: one ticket, below the minimum of 2
        dict(ticket_id="z1", agent_id="z", created_at=day, resolved_at=done, contacts=1, csat=5, handle_time_s=10),
        dict(ticket_id="u1", created_at=day, resolved_at=done),  # unassigned
    ])


def test_agents_kpis_top_performers_ranking(tickets):
    measure = get_kpi("top_performers")(Tables(tickets=tickets, tickets_all=tickets),
                                        KPIConfig(top_performers_min_n=2))
    rows = measure.value
    assert [r["agent_id"] for r in rows] == ["y", "x"]
    y, x = rows
    assert x["tickets"] == 3 and x["resolved"] == 3
    assert x["fcr_rate"] == pytest.approx(100 * 2 / 3)
    assert x["csat"] == pytest.approx(100 * 2 / 3)
    assert x["average_handle_time_s"] == pytest.approx(200)
    assert y["fcr_rate"] == 100.0 and y["csat"] == 100.0 and y["resolved"] == 1
    # percentiles among 2 agents: best 1.0, other 0.5. y best on FCR, CSAT, AHT; x on resolved
    assert y["score"] == pytest.approx(100 * (1 + 1 + 0.5 + 1) / 4)
    assert x["score"] == pytest.approx(100 * (0.5 + 0.5 + 1 + 0.5) / 4)
    assert [r["rank"] for r in rows] == [1, 2]
    assert measure.id_kind == "agent_id" and list(measure.ids) == ["y", "x"]


def test_agents_kpis_top_performers_min_n(tickets):
    tables = Tables(tickets=tickets, tickets_all=tickets)
    assert get_kpi("top_performers")(tables, KPIConfig()).value is None  # default minimum 10
    everyone = get_kpi("top_performers")(tables, KPIConfig(top_performers_min_n=1)).value
    assert {r["agent_id"] for r in everyone} == {"x", "y", "z"}


def test_agents_kpis_top_performers_csat_from_surveys(tickets):
    surveys, bad = validate_frame(pd.DataFrame({
        "kind": "csat", "score": [1, 1, 5], "responded_at": "2026-03-03", "ticket_id": ["x1", "x2", "y1"],
    }), SURVEYS)
    assert bad.empty
    rows = get_kpi("top_performers")(Tables(tickets=tickets, tickets_all=tickets, surveys=surveys),
                                     KPIConfig(top_performers_min_n=2)).value
    by_agent = {r["agent_id"]: r for r in rows}
    assert by_agent["x"]["csat"] == 0.0  # the survey answers, tied to agents through their tickets
    assert by_agent["y"]["csat"] == 100.0


def test_agents_kpis_explain_top_performers_returns_their_tickets(tickets):
    tables = Tables(tickets=tickets, tickets_all=tickets)
    _, rows = explain_kpi("top_performers", tables, config=KPIConfig(top_performers_min_n=2))
    assert sorted(rows["ticket_id"]) == ["x1", "x2", "x3", "y1", "y2"]
