"""Emerging-topic alerts that do not cry wolf, and KPIs per topic at both levels of the hierarchy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlens.config import KPIConfig
from cxlens.errors import ConfigError
from cxlens.metrics import make_tables
from cxlens.pipelines._topic_alerts import alert_samples
from cxlens.pipelines._topic_kpis import has_topic_hierarchy, monthly_topic_trends, topic_kpi_table
from cxlens.pipelines.topics import TopicAlertRule, emerging_topics, topic_alerts, topic_trends


def _trends(series: dict[str, list[int]], *, background: int = 200) -> pd.DataFrame:
    """Counts per period for each named topic, plus a steady background topic; shares of the period."""
    periods = [f"2025-{m:02d}" for m in range(1, len(next(iter(series.values()))) + 1)]
    rows = []
    for topic_id, (topic, counts) in enumerate({"background": [background] * len(periods), **series}.items()):
        rows += [{"period": p, "topic_id": topic_id, "topic": topic, "count": c} for p, c in zip(periods, counts)]
    frame = pd.DataFrame(rows)
    frame["share"] = frame["count"] / frame.groupby("period")["count"].transform("sum")
    return frame


def test_topic_alerts_a_spike_alerts_once_then_again_after_the_cooldown():
    counts = [10, 10, 10, 10, 60, 70, 65, 10, 10, 10, 10, 10, 60]
    alerts = topic_alerts(_trends({"spike": counts}), TopicAlertRule(cooldown=2))
    assert alerts["period"].tolist() == ["2025-13", "2025-05"]  # latest first; the 3-period spike alerts once
    first = alerts.loc[alerts["period"] == "2025-05"].iloc[0]
    assert first["count"] == 60 and first["previous_count"] == 10 and first["reason"] == "growth vs baseline"
    assert first["baseline_periods"] == 4 and first["growth"] > 2 and first["z"] > 3
    no_cooldown = topic_alerts(_trends({"spike": counts}), TopicAlertRule(cooldown=0))
    assert len(no_cooldown) > len(alerts)  # without a cooldown the same spike alerts in every period


def test_topic_alerts_a_low_volume_topic_does_not_alert():
    trends = _trends({"tiny": [0, 0, 1, 0, 8, 9]})
    assert topic_alerts(trends, TopicAlertRule(min_count=10)).empty
    assert not topic_alerts(trends, TopicAlertRule(min_count=5, min_z=0)).empty  # the volume rule is what held it


def test_topic_alerts_a_steadily_high_topic_does_not_alert():
    rng = np.random.default_rng(0)
    trends = _trends({"big": list(rng.poisson(150, 24))}, background=150)
    assert topic_alerts(trends).empty


def test_topic_alerts_the_median_baseline_is_not_set_by_one_earlier_spike():
    counts = [10, 10, 60, 10, 40]
    median = topic_alerts(_trends({"t": counts}), TopicAlertRule(cooldown=0, min_z=0, min_growth=2.0))
    mean = topic_alerts(_trends({"t": counts}), TopicAlertRule(cooldown=0, min_z=0, min_growth=2.0, baseline="mean"))
    assert "2025-05" in median["period"].tolist()
    assert "2025-05" not in mean["period"].tolist()  # the mean of 10, 10, 60, 10 hides the second rise


@pytest.mark.parametrize("bad", [{"baseline": "max"}, {"cooldown": -1}, {"baseline_periods": 0},
                                 {"min_z": float("nan")}])
def test_topic_alerts_rule_rejects_bad_settings(bad):
    with pytest.raises(ConfigError):
        TopicAlertRule(**bad)


def test_topic_alerts_samples_are_the_most_confident_messages_of_the_period():
    alerts = pd.DataFrame({"topic_id": [1], "topic": ["t"], "period": ["2025-02"]})
    messages = pd.DataFrame({"topic_id": [1, 1, 1, 1, 1, 2], "period": ["2025-02"] * 4 + ["2025-01", "2025-02"],
                             "text": ["low", "high", "mid", "high", "other month", "other topic"],
                             "topic_confidence": [0.1, 0.9, 0.5, 0.8, 1.0, 1.0]})
    out = alert_samples(alerts, messages, text_col="text", n=3)
    assert out[["sample_1", "sample_2", "sample_3"]].iloc[0].tolist() == ["high", "mid", "low"]


def test_topic_alerts_trends_and_alerts_carry_the_top_level_topic():
    n = 400
    rng = np.random.default_rng(1)
    weeks = rng.integers(0, 6, n)
    topic_id = np.where(rng.random(n) < 0.5, 0, 1)
    late = np.arange(n) < 60
    weeks[late], topic_id[late] = 5, 2  # topic 2 appears in the last week
    assignments = pd.DataFrame({"topic_id": pd.array(topic_id, dtype="Int64"),
                                "topic": np.array(["refunds", "login", "crash"])[topic_id],
                                "topic_parent_id": np.array([10, 11, 11])[topic_id],
                                "topic_parent": np.array(["billing", "app", "app"])[topic_id]})
    times = pd.Series(pd.Timestamp("2025-03-03", tz="UTC") + pd.to_timedelta(weeks * 7, unit="D"))
    trends = topic_trends(assignments, times, period="week")
    assert {"parent_id", "parent"} <= set(trends.columns)
    found = emerging_topics(trends)
    assert found["topic"].tolist() == ["crash"] and found["parent"].tolist() == ["app"]
    assert found["reason"].iloc[0] == "appeared this period"


def _tickets(with_parent: bool) -> pd.DataFrame:
    rows = []
    layout = [("refunds", "billing", 6), ("invoices", "billing", 3), ("login", "app", 4), ("praise", None, 2)]
    for topic, parent, n in layout:
        for i in range(n):
            rows.append({"ticket_id": f"{topic}{i}", "topic": topic, "topic_parent": parent or topic,
                         "created_at": pd.Timestamp("2025-01-05", tz="UTC") + pd.Timedelta(days=40 * (i % 2)),
                         "resolved_at": pd.Timestamp("2025-01-05", tz="UTC") + pd.Timedelta(days=40 * (i % 2),
                                                                                            hours=i + 1),
                         "reopened": i == 0, "account_id": f"A{i % 2}",
                         "sentiment": "negative" if i < 2 else "neutral"})
    rows.append({"ticket_id": "o1", "topic": "outlier", "topic_parent": "outlier", "topic_id": -1,
                 "created_at": pd.Timestamp("2025-01-05", tz="UTC")})
    frame = pd.DataFrame(rows)
    return frame if with_parent else frame.drop(columns="topic_parent")


def test_topic_kpi_table_two_levels():
    tickets = _tickets(with_parent=True)
    assert has_topic_hierarchy(tickets)
    tables = make_tables(tickets=tickets)
    top = topic_kpi_table(tables, KPIConfig(), level="topic_parent").set_index("top-level topic")
    assert top["tickets"].to_dict() == {"billing": 9, "app": 4, "praise": 2}  # outliers are not a topic
    assert top.loc["billing", "subtopics"] == 2 and top.loc["praise", "subtopics"] == 1
    assert top["share %"].sum() == pytest.approx(100.0)
    assert top.loc["billing", "reopen %"] == pytest.approx(100 * 2 / 9)
    assert top.loc["billing", "negative %"] == pytest.approx(100 * 4 / 9)
    sub = topic_kpi_table(tables, KPIConfig(), level="topic")
    assert sub["topic"].tolist() == ["refunds", "invoices", "login", "praise"]  # grouped by parent, largest first
    assert sub["top-level topic"].tolist() == ["billing", "billing", "app", "praise"]
    assert sub.set_index("topic").loc["refunds", "top accounts (tickets)"] == "A0 (3), A1 (3)"


def test_topic_kpi_table_one_level_when_tickets_have_only_topic():
    tickets = _tickets(with_parent=False)
    assert not has_topic_hierarchy(tickets)
    table = topic_kpi_table(make_tables(tickets=tickets), KPIConfig(), level="topic")
    assert "top-level topic" not in table.columns and "subtopics" not in table.columns
    parents = topic_kpi_table(make_tables(tickets=tickets), KPIConfig(), level="topic_parent")
    assert parents["top-level topic"].tolist() == table["topic"].tolist()  # each topic is its own parent


def test_monthly_topic_trends_fill_zeros_and_keep_outliers_negative():
    trends = monthly_topic_trends(_tickets(with_parent=True), KPIConfig())
    assert sorted(trends["period"].unique()) == ["2025-01", "2025-02"]
    assert len(trends) == 2 * 5  # four topics and the outlier bucket, in both months
    assert trends.groupby("period")["share"].sum().tolist() == pytest.approx([1.0, 1.0], abs=1e-5)
    assert (trends.loc[trends["topic"] == "outlier", "topic_id"] < 0).all()
    assert (trends.loc[trends["topic"] != "outlier", "topic_id"] >= 0).all()  # ids given to the unnumbered
    assert trends.loc[(trends["topic"] == "praise") & (trends["period"] == "2025-02"), "count"].item() == 1


def test_emerging_topics_adds_topics_new_vs_the_previous_model_with_samples_of_any_period():
    from cxlens.pipelines.topics import emerging_samples

    class NewTopicModel:
        topics_ = pd.DataFrame({"id": [5, 6], "label": ["brand new", "too small"], "size": [30, 3],
                                "share": [0.1, 0.01], "is_new": [True, True]})

    found = emerging_topics(_trends({"steady": [20] * 6}), model=NewTopicModel())
    assert found["topic"].tolist() == ["brand new"] and found["reason"].tolist() == ["new vs previous model"]
    assignments = pd.DataFrame({"topic_id": pd.array([5, 5, 1], dtype="Int64"), "text": ["a", "b", "c"],
                                "topic_confidence": [0.2, 0.9, 1.0]})
    times = pd.Series(pd.to_datetime(["2025-01-06", "2025-03-03", "2025-03-03"], utc=True))
    out = emerging_samples(found, assignments, times, text_col="text", period="week")
    assert out[["sample_1", "sample_2", "sample_3"]].iloc[0].tolist() == ["b", "a", ""]
