"""Reply-vs-reference similarity (Bitext-style reference replies per intent)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlens.errors import DataError, NotFittedError
from cxlens.nlp.encoders import TfidfEncoder
from cxlens.nlp.qa import ReferenceReplies, load_reference_replies

REFS = pd.DataFrame({
    "intent": ["cancel_order"] * 2 + ["track_refund"] * 2,
    "response": ["To cancel your order, open Order Details and press Cancel Order.",
                 "You can cancel the order from the Order Details page.",
                 "Your refund is on its way. Track the refund status in your account.",
                 "Refunds take 5 days. You can track the refund in Refund Status."],
})


def test_references_predict_and_score_conversations():
    refs = ReferenceReplies(encoder=TfidfEncoder()).fit(REFS["intent"], REFS["response"])
    assert list(refs.classes_) == ["cancel_order", "track_refund"]
    assert list(refs.predict(["press Cancel Order in Order Details", "track the refund status"])) == \
        ["cancel_order", "track_refund"]
    t0 = pd.Timestamp("2026-01-01", tz="UTC")
    messages = pd.DataFrame({
        "ticket_id": ["a", "a", "b", "c"], "sent_at": [t0] * 4,
        "author_role": ["customer", "agent", "agent", "agent"],
        "text": ["cancel pls", "Open Order Details and press Cancel Order.", "Track the refund status.", "hi"]})
    tickets = pd.DataFrame({"ticket_id": ["a", "b", "c"], "request_type": ["cancel_order", "cancel_order", "other"]})
    sims = refs.score_conversations(messages, tickets)
    assert sims["a"] > sims["b"]
    assert np.isnan(sims["c"])


def test_references_load_file_and_errors(tmp_path):
    path = tmp_path / "refs.csv"
    REFS.to_csv(path, index=False)
    frame = load_reference_replies(path)
    assert list(frame.columns) == ["intent", "response"] and len(frame) == 4
    with pytest.raises(DataError, match="reply"):
        load_reference_replies(path, text_col="reply")
    with pytest.raises(NotFittedError):
        ReferenceReplies(encoder=TfidfEncoder()).predict(["x"])


@pytest.mark.shared_data
def test_references_bitext_loads(shared_data):
    frame = load_reference_replies(shared_data / "bitext" / "bitext_customer_support.csv")
    assert frame["intent"].nunique() == 27
