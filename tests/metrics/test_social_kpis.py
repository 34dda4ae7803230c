"""Social KPIs over the mentions table."""

from __future__ import annotations

import pandas as pd
import pytest

from cxlens.config import KPIConfig
from cxlens.io import validate_frame
from cxlens.metrics import Tables, compute_kpis, explain_kpi, get_kpi, make_tables
from cxlens.schema import MENTIONS


@pytest.fixture()
def mentions() -> pd.DataFrame:
    raw = pd.DataFrame({
        "mention_id": ["m1", "m2", "m3", "m4"],
        "posted_at": ["2026-03-02T10:00:00Z", "2026-03-02T11:00:00+01:00", "2026-03-03T10:00:00Z",
                      "2026-04-01T10:00:00Z"],
        "text": ["how do I reset?", "why is it down??", "you broke it", "ok"],
        "platform": ["twitter", "twitter", "reddit", "twitter"],
        "replied_at": ["2026-03-02T10:10:00Z", None, "2026-03-03T10:20:00Z", None],
        "sentiment": ["positive", "negative", "negative", None],
        "is_question": [True, True, False, None],
    })
    valid, bad = validate_frame(raw, MENTIONS)
    assert bad.empty
    return valid


def _run(name, mentions):
    return get_kpi(name)(Tables(mentions=mentions), KPIConfig())


def test_social_kpis_volume_and_sentiment(mentions):
    volume = _run("mention_volume", mentions)
    assert volume.value == 4 and volume.id_kind == "mention_id"
    assert _run("mention_sentiment_index", mentions).value == pytest.approx(100 * 1 / 3 - 100 * 2 / 3)
    assert _run("mention_negative_share", mentions).value == pytest.approx(100 * 2 / 3)


def test_social_kpis_questions_answered(mentions):
    measure = _run("questions_answered_rate", mentions)
    assert measure.value == pytest.approx(100 * 1 / 2)  # m1 answered, m2 not
    assert sorted(measure.ids) == ["m1", "m2"]


def test_social_kpis_first_response_time(mentions):
    measure = _run("social_first_response_time_mean_s", mentions)
    assert measure.value == pytest.approx((600 + 1200) / 2)
    assert measure.n == 2


def test_social_kpis_grouped_by_platform_and_month(mentions):
    report = compute_kpis(make_tables(mentions=mentions), by=["platform"], period="month",
                          names=["mention_volume", "questions_answered_rate"])
    volumes = {(g["platform"], g["period"]): g["kpis"]["mention_volume"] for g in report.groups}
    assert volumes == {("reddit", "2026-03-01"): 1, ("twitter", "2026-03-01"): 2, ("twitter", "2026-04-01"): 1}
    march = [g for g in report.groups if g["platform"] == "twitter" and g["period"] == "2026-03-01"][0]
    assert march["kpis"]["questions_answered_rate"] == pytest.approx(50.0)


def test_social_kpis_explain_lists_mentions(mentions):
    _, rows = explain_kpi("questions_answered_rate", make_tables(mentions=mentions))
    assert sorted(rows["mention_id"]) == ["m1", "m2"]
