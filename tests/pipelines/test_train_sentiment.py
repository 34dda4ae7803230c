"""The sentiment training job called as a plain function (TF-IDF encoder: no model needed)."""

from __future__ import annotations

import pandas as pd
import pytest

from cxlens.pipelines.train import trained_sentiment

pytest.importorskip("vaderSentiment")

TINY = [
    ("I love this, great service", "positive"), ("thank you so much, brilliant help", "positive"),
    ("awesome, works perfectly now", "positive"), ("best support ever", "positive"),
    ("my order is late again, terrible", "negative"), ("worst experience, never again", "negative"),
    ("the app keeps crashing, so annoying", "negative"), ("refund still not here, awful", "negative"),
    ("my order number is 12345", "neutral"), ("the store opens at 9am", "neutral"),
    ("I am flying to Boston tomorrow", "neutral"), ("new update released today", "neutral"),
]


def test_train_sentiment_fits_on_labelled_rows_only(tmp_path):
    frame = pd.DataFrame(TINY * 2 + [("no label here", None)], columns=["post", "mood"])
    path = tmp_path / "labelled.csv"
    frame.to_csv(path, index=False)
    trained = trained_sentiment(path, text_col="post", label_col="mood", encoder="tfidf")
    assert trained.n_texts == len(TINY) * 2  # the unlabelled row is left out
    assert trained.data == str(path) and trained.model.get_params()["encoder"] == "tfidf"
    assert trained.model.predict(["great service", "so annoying, crashing"]).tolist() == ["positive", "negative"]
