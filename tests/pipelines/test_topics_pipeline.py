"""The topic-discovery job: trends, emerging topics, and ``cxlens topics discover`` end to end."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from cxlens.cli import main
from cxlens.pipelines.topics import emerging_topics, topic_trends

VOCAB = {
    "refund": ["refund", "money", "charged", "twice", "billing", "payment"],
    "login": ["login", "password", "reset", "account", "locked", "email"],
    "shuffle": ["shuffle", "playlist", "song", "repeat", "queue", "order"],
    "offline": ["offline", "download", "storage", "sdcard", "cache", "sync"],
}


def _messages(n_per_topic: int = 50, seed: int = 0, *, late_topic: str | None = None) -> pd.DataFrame:
    """Tiny support-message table; ``late_topic`` only appears (and grows) in the last week."""
    rng = np.random.default_rng(seed)
    rows = []
    start = pd.Timestamp("2024-03-04", tz="UTC")  # a Monday
    for topic, words in VOCAB.items():
        for i in range(n_per_topic):
            day = int(rng.integers(14, 21)) if topic == late_topic else int(rng.integers(0, 21))
            text = "@Brand " + " ".join(rng.choice(words, 4)) + " " + " ".join(rng.choice(["hi", "please", "app"], 2))
            rows.append({"id": f"m{len(rows)}", "text": text, "inbound": "True",
                         "created_at": (start + pd.Timedelta(days=day, hours=int(rng.integers(0, 24)))).isoformat()})
    rows.append({"id": "empty", "text": "", "inbound": "True", "created_at": start.isoformat()})
    rows.append({"id": "agent", "text": "@user we are sorry", "inbound": "False", "created_at": start.isoformat()})
    return pd.DataFrame(rows)


def test_topics_pipeline_trends_counts_and_shares():
    assignments = pd.DataFrame({"topic_id": pd.array([0, 0, 1, -1, 1, 1], dtype="Int64"),
                                "topic": ["a", "a", "b", "outlier", "b", "b"]})
    times = pd.Series(pd.to_datetime(["2024-03-04", "2024-03-05", "2024-03-06", "2024-03-11", "2024-03-12",
                                      "2024-03-13"], utc=True))
    trends = topic_trends(assignments, times, period="week")
    week1 = trends[trends["period"] == "2024-03-04"].set_index("topic_id")
    week2 = trends[trends["period"] == "2024-03-11"].set_index("topic_id")
    assert week1.loc[0, "count"] == 2 and week1.loc[1, "count"] == 1 and week1.loc[-1, "count"] == 0
    assert week2.loc[0, "count"] == 0 and week2.loc[1, "count"] == 2
    assert week1["share"].sum() == pytest.approx(1.0) and week2["share"].sum() == pytest.approx(1.0)


def test_topics_pipeline_emerging_needs_growth_and_min_count():
    trends = pd.DataFrame({
        "period": ["w1", "w2", "w1", "w2", "w1", "w2", "w1", "w2"],
        "topic_id": [0, 0, 1, 1, 2, 2, -1, -1],
        "topic": ["steady", "steady", "surge", "surge", "small", "small", "outlier", "outlier"],
        "count": [100, 200, 5, 40, 1, 6, 4, 4],
    })
    trends["share"] = trends["count"] / trends.groupby("period")["count"].transform("sum")
    found = emerging_topics(trends, min_count=10, min_growth=2.0)
    assert found["topic"].tolist() == ["surge"]  # steady doubled in count but not in share; small has < 10
    row = found.iloc[0]
    assert (row["period"], row["count"], row["previous_count"]) == ("w2", 40, 5)
    assert row["growth"] == pytest.approx((40 / 250) / (5 / 110), rel=1e-3)
    assert len(emerging_topics(trends, min_count=10, min_growth=5.0)) == 0


def test_topics_pipeline_emerging_from_nothing_needs_volume_before():
    trends = pd.DataFrame({"period": ["w1", "w2", "w1", "w2"], "topic_id": [3, 3, 0, 0],
                           "topic": ["new", "new", "a", "a"],
                           "count": [0, 25, 100, 100]})
    trends["share"] = trends["count"] / trends.groupby("period")["count"].transform("sum")
    found = emerging_topics(trends, min_count=10)
    assert found["reason"].tolist() == ["appeared this period"]
    quiet = trends.assign(count=[0, 25, 20, 100])  # only 20 messages the week before: too few to tell
    quiet["share"] = quiet["count"] / quiet.groupby("period")["count"].transform("sum")
    assert emerging_topics(quiet, min_count=10).empty


@pytest.fixture()
def tiny_csv(tmp_path):
    path = tmp_path / "messages.csv"
    _messages(late_topic="offline").to_csv(path, index=False)
    return path


def test_topics_pipeline_cli_end_to_end(tiny_csv, tmp_path, capsys):
    out = tmp_path / "run1"
    rc = main(["topics", "discover", "--input", str(tiny_csv), "--text-col", "text", "--out", str(out),
               "--time-col", "created_at", "--period", "week", "--encoder", "tfidf", "--where", "inbound=true",
               "--min-count", "5", "--format", "csv"])
    assert rc == 0
    assert "topics in" in capsys.readouterr().err
    topics = pd.read_csv(out / "topics.csv")
    assert {"id", "label", "keywords", "size", "share", "representative_1"} <= set(topics.columns)
    assert 3 <= len(topics) <= 8
    assignments = pd.read_csv(out / "assignments.csv", dtype={"id": str})
    assert len(assignments) == 201  # the agent reply is filtered out; the empty text stays, without topic
    assert assignments.loc[assignments["id"] == "empty", "topic"].isna().all()
    modelled = assignments[assignments["id"] != "empty"]
    assert modelled["topic"].notna().all() and modelled["topic_confidence"].between(0, 1).all()
    assert (modelled["topic_id"] == -1).mean() <= 0.15
    trends = pd.read_csv(out / "trends.csv")
    assert trends.groupby("period")["count"].sum().sum() == 200
    emerging = pd.read_csv(out / "emerging.csv")
    offline_ids = modelled.loc[modelled["text"].str.contains("offline|download|storage|sdcard"), "topic_id"]
    assert emerging["topic_id"].isin(offline_ids.mode()).any()
    offline = emerging.loc[emerging["topic_id"].isin(offline_ids.mode())].iloc[0]
    samples = [offline[f"sample_{i}"] for i in (1, 2, 3)]
    assert all(isinstance(t, str) and t for t in samples) and len(set(samples)) == 3
    assert modelled.set_index("text").loc[samples, "topic_id"].eq(offline["topic_id"]).all()
    assert {"baseline_share", "baseline_count", "z", "baseline_periods"} <= set(emerging.columns)
    meta = json.loads((out / "model" / "topic_model.json").read_text())
    assert meta["format"] == "cxlens.topic_model" and meta["encoder"] == "tfidf"

    # run 2: the same messages shuffled, with --previous: ids persist
    shuffled = tmp_path / "shuffled.csv"
    pd.read_csv(tiny_csv, dtype=str).sample(frac=1.0, random_state=3).to_csv(shuffled, index=False)
    out2 = tmp_path / "run2"
    assert main(["topics", "discover", "--input", str(shuffled), "--text-col", "text", "--out", str(out2),
                 "--encoder", "tfidf", "--previous", str(out / "model"), "--where", "inbound=true",
                 "--random-state", "1"]) == 0
    second = pd.read_parquet(out2 / "assignments.parquet")
    merged = modelled.merge(second[["id", "topic_id"]], on="id", suffixes=("", "_2"))
    both = merged[(merged["topic_id"] >= 0) & (merged["topic_id_2"] >= 0)]
    assert (both["topic_id"] == both["topic_id_2"]).mean() > 0.95
    assert not pd.read_csv(out2 / "topics.csv")["is_new"].any()


def test_topics_pipeline_cli_seeds_and_merge(tiny_csv, tmp_path):
    seeds = tmp_path / "seeds.json"
    seeds.write_text(json.dumps([{"label": "billing", "description": "refund charged payment",
                                  "examples": ["refund money charged twice", "billing payment refund"]}]))
    out = tmp_path / "seeded"
    assert main(["topics", "discover", "--input", str(tiny_csv), "--text-col", "text", "--out", str(out),
                 "--encoder", "tfidf", "--seed-topics", str(seeds), "--n-topics", "3", "--format", "csv"]) == 0
    topics = pd.read_csv(out / "topics.csv")
    assert len(topics) == 3 and "billing" in topics["label"].tolist()
    rows = pd.read_csv(out / "assignments.csv")
    refunds = rows[rows["text"].str.contains("refund") & rows["text"].str.contains("charged|billing|payment")]
    assert (refunds["topic"] == "billing").mean() > 0.8


def test_topics_pipeline_cli_reports_missing_column(tiny_csv, tmp_path, capsys):
    rc = main(["topics", "discover", "--input", str(tiny_csv), "--text-col", "body", "--out", str(tmp_path / "x"),
               "--encoder", "tfidf"])
    assert rc == 2
    assert "body" in capsys.readouterr().err


def test_topics_pipeline_cli_rejects_a_bad_alert_rule_before_clustering(tiny_csv, tmp_path, capsys):
    rc = main(["topics", "discover", "--input", str(tiny_csv), "--text-col", "text", "--out", str(tmp_path / "x"),
               "--encoder", "tfidf", "--cooldown", "-1"])
    assert rc == 2
    assert "cooldown" in capsys.readouterr().err
    assert not (tmp_path / "x" / "topics.csv").exists()
