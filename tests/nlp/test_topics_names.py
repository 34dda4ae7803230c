"""Plain-words topic names: candidate phrases, scoring against the cluster, uniqueness, capitals."""

from __future__ import annotations

import numpy as np
import pytest

from cxlens.nlp.topics._names import name_topics, phrase_candidates


@pytest.mark.parametrize("text, present, absent", [
    ("My refund not received yet!", {"refund not received", "refund"}, {"my refund", "not received"}),
    ("The app crashes on login, again", {"app crashes on login", "app crashes"}, {"crashes on", "the app"}),
    ("song song playlist", {"song playlist"}, {"song song", "song song playlist"}),
    ("@Brand http://x.co lost luggage 2 days", {"lost luggage"}, {"brand", "lost luggage days"}),
])
def test_topics_names_phrase_candidates_follow_the_rules(text, present, absent):
    candidates = phrase_candidates(text)
    assert present <= candidates
    assert not (absent & candidates)


def test_topics_names_pick_the_phrase_that_sets_a_topic_apart():
    texts = (["my refund not received", "refund not received after return", "still refund not received please"] * 4
             + ["lost luggage at the airport", "my lost luggage still missing", "lost luggage again"] * 4
             + ["card not received", "refund please"])
    labels = np.array([0] * 12 + [1] * 12 + [-1] * 2)
    names = name_topics(texts, labels, [0, 1])
    assert names == ["Refund not received", "Lost luggage"]


def test_topics_names_are_unique_and_fall_back():
    texts = ["password reset link"] * 6 + ["password reset link"] * 6 + ["and the of it"] * 3
    labels = np.array([0] * 6 + [1] * 6 + [2] * 3)
    names = name_topics(texts, labels, [0, 1, 2], fallbacks=["", "", "odd one"])
    assert len(set(n.lower() for n in names)) == 3
    assert names[2] == "Odd one"


def test_topics_names_keep_capitals_most_writers_use():
    texts = ["ATM swallowed my card", "the ATM swallowed card", "atm swallowed card today"] * 3
    names = name_topics(texts, np.zeros(len(texts), dtype=int), [0])
    assert names == ["ATM swallowed card"] or names[0].startswith("ATM")


def test_topics_names_rerank_by_meaning_with_an_encoder():
    class Toy:
        """Vectors: 'refund' words point one way, everything else another."""

        def encode(self, texts):
            return np.array([[1.0, 0.0] if "refund" in t else [0.0, 1.0] for t in texts], dtype=np.float32)

    texts = ["refund delayed order", "refund delayed order", "order status update", "order status update",
             "order status update", "refund delayed order"]
    labels = np.zeros(len(texts), dtype=int)
    centroid = np.array([[1.0, 0.0]], dtype=np.float32)
    name = name_topics(texts, labels, [0], centroids=centroid, encoder=Toy())[0]
    assert "refund" in name.lower()


def test_calendar_words_never_start_or_end_a_name():
    from cxlens.nlp.topics._names import phrase_candidates

    found = phrase_candidates("Refund on August, still waiting since Monday for refund on order")
    assert {"refund", "refund on order"} <= found
    assert not [p for p in found if p.split()[0] in ("august", "monday") or p.split()[-1] in ("august", "monday")]
