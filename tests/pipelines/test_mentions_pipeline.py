"""The mentions job: flags, brands, spikes and the CLI end to end (lexicon path: no model needed)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from cxlens.cli import main
from cxlens.errors import ConfigError
from cxlens.pipelines.mentions import (
    brands_mentioned,
    complaint_flags,
    mentions_from_twcs,
    negative_spikes,
    parse_brands,
    question_flags,
    scored_mentions,
)


@pytest.mark.parametrize("text, expected", [
    ("@AcmeHelp where is my order?", True),
    ("How do I reset my password", True),
    ("can you check my account please", True),
    ("Love the new app https://t.co/x?y=1", False),
    ("My order arrived today.", False),
])
def test_mentions_question_flags(text, expected):
    assert question_flags([text]).tolist() == [expected]


def test_mentions_complaint_flags_read_support_phrases():
    texts = ["my router is not working again", "no problems at all, great service", "still waiting for my refund",
             "thanks, all good"]
    flags = complaint_flags(texts, ["negative", "positive", "negative", "positive"], [-0.6, 0.7, -0.5, 0.8])
    assert flags.tolist() == [True, False, True, False]


def test_mentions_brands_match_words_handles_and_hashtags():
    found = brands_mentioned(["I love @AcmeCloud", "acme cloud is down", "#acme rocks", "acmecorp news", None],
                             parse_brands("Acme Cloud, Acme"))
    assert found == ["acme cloud", "acme cloud", "acme", None, None]


def _spike_frame(counts: list[int]) -> pd.DataFrame:
    rows = []
    start = pd.Timestamp("2024-01-01", tz="UTC")
    for day, n in enumerate(counts):
        for j in range(n):
            rows.append({"mention_id": f"{day}-{j}", "posted_at": start + pd.Timedelta(days=day, hours=j % 20),
                         "text": f"bad {day} {j}", "sentiment": "negative", "sentiment_score": -0.5 - j / 100})
        rows.append({"mention_id": f"{day}-pos", "posted_at": start + pd.Timedelta(days=day), "text": "fine",
                     "sentiment": "positive", "sentiment_score": 0.5})
    return pd.DataFrame(rows)


def test_mentions_spike_found_on_synthetic_counts():
    counts = [4, 5, 3, 4, 6, 5, 4, 4, 20, 5]
    spikes = negative_spikes(_spike_frame(counts), period="day", k=3, window=7)
    assert len(spikes) == 1
    spike = spikes.iloc[0]
    assert spike["period_start"] == pd.Timestamp("2024-01-09", tz="UTC")
    assert spike["negative_count"] == 20
    assert spike["threshold"] < 20
    assert spike["example_ids"].split("|")[0] == "8-19"  # the most negative post first


def test_mentions_no_spike_on_steady_counts_and_k_matters():
    steady = _spike_frame([5, 6, 5, 4, 5, 6, 5, 5, 6, 5])
    assert negative_spikes(steady, k=3).empty
    bumpy = _spike_frame([4, 5, 3, 4, 6, 5, 4, 4, 9, 5])
    assert negative_spikes(bumpy, k=1).shape[0] >= 1
    assert negative_spikes(bumpy, k=8).empty  # history 5,3,4,6,5,4,4: mean 4.4, std 0.9
    with pytest.raises(ConfigError):
        negative_spikes(steady, period="fortnight")


def test_mentions_scored_columns_keep_input(tmp_path):
    frame = pd.DataFrame({"mention_id": ["1", "2", "3"], "posted_at": pd.to_datetime(["2024-01-01"] * 3, utc=True),
                          "text": ["@Acme app not working!!", "Acme support was great, thank you", ""],
                          "custom": [1, 2, 3]})
    out = scored_mentions(frame, brands=["Acme"], fast=True)
    for col in ("custom", "sentiment", "sentiment_score", "sentiment_confidence", "language", "is_question",
                "is_complaint", "brand", "brands_mentioned"):
        assert col in out
    assert out["sentiment"].tolist() == ["negative", "positive", "neutral"]
    assert out["is_complaint"].tolist() == [True, False, False]
    assert out["sentiment_flag"].iloc[2] == "no_text"
    assert out["brand"].tolist()[:2] == ["acme", "acme"]
    assert np.all(np.abs(out["sentiment_score"]) <= 1)


def test_mentions_twcs_replies_give_brand_and_replied_at():
    raw = pd.DataFrame({
        "tweet_id": ["1", "2", "3"], "author_id": ["115712", "AcmeCares", "115713"],
        "inbound": ["True", "False", "True"],
        "created_at": ["Tue Oct 31 22:10:47 +0000 2017", "Tue Oct 31 22:12:00 +0000 2017",
                       "Tue Oct 31 23:00:00 +0000 2017"],
        "text": ["@AcmeCares my bill is wrong", "@115712 sorry, DM us", "thanks @AcmeCares"],
        "response_tweet_id": ["2", "", ""], "in_response_to_tweet_id": ["", "1", ""]})
    out = mentions_from_twcs(raw).set_index("mention_id")
    assert list(out.index) == ["1", "3"]
    assert out.loc["1", "brand"] == "AcmeCares"
    assert out.loc["1", "replied_at"].startswith("2017-10-31T22:12:00")
    assert pd.isna(out.loc["3", "replied_at"])


def test_mentions_cli_end_to_end(tmp_path, capsys):
    rows = []
    for day in range(10):
        n_neg = 12 if day == 8 else 2
        for j in range(n_neg):
            rows.append((f"n{day}-{j}", f"2024-03-{day + 1:02d}T10:{j:02d}:00Z", "@Acme my app is not working, fix it"))
        rows.append((f"p{day}", f"2024-03-{day + 1:02d}T12:00:00Z", "Acme support was great, thanks"))
    rows.append(("q1", "2024-03-02T09:00:00Z", "Does Acme ship to Canada?"))
    rows.append(("x1", "2024-03-02T09:00:00Z", "我的订单还没有到，太慢了"))
    path = tmp_path / "mentions.csv"
    pd.DataFrame(rows, columns=["mention_id", "posted_at", "text"]).to_csv(path, index=False)
    out = tmp_path / "out"
    code = main(["mentions", "score", "--input", str(path), "--out", str(out), "--fast", "--brands", "Acme",
                 "--spike-k", "3", "--period", "day"])
    assert code == 0
    scored = pd.read_csv(out / "mentions_scored.csv")
    assert len(scored) == len(rows)
    assert {"sentiment", "sentiment_score", "is_question", "is_complaint", "language", "brand"} <= set(scored)
    assert scored.set_index("mention_id").loc["q1", "is_question"]
    chinese = scored.set_index("mention_id").loc["x1"]
    assert chinese["language"] == "zh" and chinese["sentiment_flag"] == "unsupported_language"
    spikes = pd.read_csv(out / "spikes.csv")
    assert (spikes["period_start"].str.startswith("2024-03-09")).any()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["mentions"] == len(rows) and summary["spikes"] >= 1
    assert "SPIKE" in capsys.readouterr().err


def test_twcs_export_of_customer_tweets_only_has_no_replies():
    """An export with no brand replies (e.g. only inbound tweets) used to crash on the empty reply table."""
    from cxlens.pipelines.mentions import mentions_from_twcs

    raw = pd.DataFrame({"tweet_id": ["1", "2"], "author_id": ["a", "b"], "inbound": ["True", "True"],
                        "created_at": ["Tue Oct 31 22:10:47 +0000 2017"] * 2, "text": ["x", "y"],
                        "in_response_to_tweet_id": [None, None]})
    out = mentions_from_twcs(raw)
    assert list(out["mention_id"]) == ["1", "2"]
    assert out["replied_at"].isna().all() and out["brand"].isna().all()


def test_mentions_cli_refuses_fast_with_an_encoder_before_reading(tmp_path, capsys):
    """--fast reads no model: an --encoder next to it was silently ignored, now it is refused up front."""
    out = tmp_path / "out"
    code = main(["mentions", "score", "--input", str(tmp_path / "absent.csv"), "--out", str(out), "--fast",
                 "--encoder", "minilm-l2"])
    assert code == 2 and not out.exists()
    assert "drop --encoder" in capsys.readouterr().err
