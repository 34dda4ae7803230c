"""Class-based TF-IDF keywords, labels and representative messages."""

from __future__ import annotations

import numpy as np

from cxlens.nlp.topics import class_tfidf_keywords, clean_text, representative_indices, topic_label


def test_topics_labels_clean_text_drops_handles_urls_entities_digits():
    assert clean_text("@SpotifyCares my Premium &amp; 2 songs https://t.co/x").split() == ["my", "premium", "songs"]


def test_topics_labels_keywords_are_distinctive():
    texts = ["refund my payment please", "refund charged twice payment", "payment refund now",
             "login password reset", "password reset login again", "cannot login password"]
    labels = np.array([0, 0, 0, 1, 1, 1])
    keywords = class_tfidf_keywords(texts, labels, n_keywords=3, min_df=1)
    assert {w for w, _ in keywords[0]} <= {"refund", "payment", "charged", "twice", "refund payment", "payment refund"}
    assert keywords[0][0][0] in ("refund", "payment")
    assert keywords[1][0][0] in ("login", "password")
    weights = [w for _, w in keywords[0]]
    assert weights == sorted(weights, reverse=True)


def test_topics_labels_outliers_and_stop_words_ignored():
    texts = ["hi thanks please help", "thanks help please hi", "offline download", "download offline storage"]
    keywords = class_tfidf_keywords(texts, np.array([-1, -1, 2, 2]), min_df=1)
    assert list(keywords) == [2]
    assert keywords[2][0][0] in ("offline", "download")


def test_topics_labels_label_skips_repeated_words():
    assert topic_label(["premium", "premium account", "family plan", "student"]) == "premium / family plan / student"
    assert topic_label([], fallback="topic 3") == "topic 3"


def test_topics_labels_representatives_nearest_and_distinct():
    x = np.array([[1, 0], [0.9, 0.1], [0.9, 0.1], [0, 1]], dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    texts = ["a", "b", "b", "c"]
    reps = representative_indices(x, np.array([1.0, 0.0]), np.arange(4), texts, n=3)
    assert reps == [0, 1, 3]


def test_channel_tags_and_speaker_labels_are_not_topic_words():
    from cxlens.nlp.topics._labels import clean_text, embedding_text

    text = "[call transcript] Customer: my parcel is late. Agent: checking. Customer: thanks"
    assert embedding_text(text) == "my parcel is late. checking. thanks"
    assert "transcript" not in clean_text(text) and "customer" not in clean_text(text)
    assert embedding_text("Customer service: terrible") == "Customer service: terrible"  # a label only after a tag or a sentence end
