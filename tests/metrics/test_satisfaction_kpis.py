"""CSAT, NPS, CES and ESAT from ticket columns and from the surveys table."""

from __future__ import annotations

import pandas as pd
import pytest

from cxlens.config import KPIConfig
from cxlens.io import validate_frame
from cxlens.metrics import Tables, explain_kpi, get_kpi
from cxlens.schema import SURVEYS, TICKETS


def _tickets(**columns) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    raw = pd.DataFrame({"ticket_id": [f"t{i}" for i in range(n)], "created_at": "2026-03-02T10:00:00Z", **columns})
    valid, bad = validate_frame(raw, TICKETS)
    assert bad.empty
    return valid


def _surveys(kind: str, scores: list[float], **extra) -> pd.DataFrame:
    raw = pd.DataFrame({"kind": kind, "score": scores, "responded_at": "2026-03-03T10:00:00Z", **extra})
    valid, bad = validate_frame(raw, SURVEYS)
    assert bad.empty
    return valid


def _run(name: str, *, tickets=None, surveys=None, config=None):
    return get_kpi(name)(Tables(tickets=tickets, tickets_all=tickets, surveys=surveys), config or KPIConfig())


def test_satisfaction_kpis_csat_from_ticket_column():
    tickets = _tickets(csat=[5, 4, 3, 1, None])
    measure = _run("csat", tickets=tickets)
    assert measure.value == pytest.approx(100 * 2 / 4)  # 5 and 4 are >= 4, of four answers
    assert measure.n == 4
    assert list(measure.ids) == ["t0", "t1", "t2", "t3"]
    strict = _run("csat", tickets=tickets, config=KPIConfig(csat_threshold=5))
    assert strict.value == pytest.approx(100 * 1 / 4)


def test_satisfaction_kpis_csat_prefers_surveys_when_they_hold_csat():
    tickets = _tickets(csat=[5, 4, 3, 1])
    surveys = _surveys("csat", [5, 5, 2], ticket_id=["t0", "t1", "t2"])
    assert _run("csat", tickets=tickets, surveys=surveys).value == pytest.approx(100 * 2 / 3)
    only_nps = _surveys("nps", [10, 3])
    assert _run("csat", tickets=tickets, surveys=only_nps).value == pytest.approx(100 * 2 / 4)
    assert _run("csat", surveys=only_nps).value is None


def test_satisfaction_kpis_nps():
    tickets = _tickets(nps=[10, 9, 8, 7, 6, 0])
    assert _run("nps", tickets=tickets).value == pytest.approx(100 * (2 - 2) / 6)
    surveys = _surveys("nps", [10, 10, 9, 5])
    measure = _run("nps", surveys=surveys)
    assert measure.value == pytest.approx(100 * 3 / 4 - 100 * 1 / 4)
    assert measure.n == 4
    assert measure.ids is None  # these answers carry no ticket


def test_satisfaction_kpis_ces_is_the_mean():
    assert _run("ces", tickets=_tickets(ces=[1, 2, 6, None])).value == pytest.approx((1 + 2 + 6) / 3)
    assert _run("ces", surveys=_surveys("ces", [7, 5])).value == pytest.approx(6.0)


def test_satisfaction_kpis_esat_names_the_agents():
    surveys = _surveys("esat", [5, 4, 2, 3], agent_id=["a", "b", "c", "d"])
    measure = _run("esat", surveys=surveys)
    assert measure.value == pytest.approx(100 * 2 / 4)
    assert measure.id_kind == "agent_id"
    assert list(measure.ids) == ["a", "b", "c", "d"]


def test_satisfaction_kpis_all_null_answers_give_none():
    tickets = _tickets(csat=[None, None], nps=[None, None], ces=[None, None])
    for name in ("csat", "nps", "ces"):
        measure = _run(name, tickets=tickets)
        assert measure.value is None and measure.n == 0


def test_satisfaction_kpis_explain_csat_lists_the_rated_tickets():
    tickets = _tickets(csat=[5, None, 2])
    tables = Tables(tickets=tickets, tickets_all=tickets)
    measure, rows = explain_kpi("csat", tables)
    assert measure.value == pytest.approx(50.0)
    assert sorted(rows["ticket_id"]) == ["t0", "t2"]
