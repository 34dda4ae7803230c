"""The request-type taxonomy, its data mapping and the shipped model."""

from __future__ import annotations

import json

import pytest

from cxlens.nlp.classify._request_types import BANKING77_MAP, BITEXT_MAP, DEFAULT_MODEL_DIR, REQUEST_TYPES, RETURN_PATTERN

TAXONOMY = {"cancellation", "refund", "return", "shipping_delivery", "order_status", "how_to", "product_availability",
            "sales_pricing", "technical_issue", "account", "billing_payment", "complaint", "feedback_praise", "other"}


def test_request_types_taxonomy_and_maps_use_only_its_labels():
    assert set(REQUEST_TYPES) == TAXONOMY
    assert set(BANKING77_MAP.values()) <= TAXONOMY and set(BITEXT_MAP.values()) <= TAXONOMY
    assert len(BANKING77_MAP) == 77 and len(BITEXT_MAP) == 27


def test_request_types_return_rule():
    assert RETURN_PATTERN.search("I received the wrong size, can I return it?")
    assert not RETURN_PATTERN.search("Why has my top up been returned?")


def test_request_types_maps_cover_the_data(shared_data):
    from cxlens.nlp.classify import build_training_frame

    categories = set(json.loads((shared_data / "banking77" / "categories.json").read_text()))
    assert categories == set(BANKING77_MAP)
    frame = build_training_frame(shared_data)
    assert set(frame["request_type"]) == TAXONOMY
    assert frame["text"].is_unique
    assert set(frame["source"]) == {"bitext", "banking77", "clinc150", "ibm", "written"}
    # every written and labelled message follows the guideline's labels, and every class has written examples
    ours = frame[frame["source"].isin(["ibm", "written"])]
    assert set(ours["request_type"]) == TAXONOMY and ours.groupby("request_type").size().min() >= 300
    assert set(ours["secondary"]) - {""} <= TAXONOMY


def test_request_types_training_data_never_holds_a_dev_set_message(shared_data, repo_root):
    """The dev set measures the model: none of its 388 messages (nor its 70 IBM conversations) is trained on."""
    import sys

    import pandas as pd

    from cxlens.nlp.classify import build_training_frame
    from cxlens.nlp.classify._request_type_data import TRAINING_DIR

    bench = repo_root / "benchmarks"
    sys.path.insert(0, str(bench))
    try:
        from request_type_dev_set import messages
    finally:
        sys.path.remove(str(bench))
    dev = messages(shared_data)
    frame = build_training_frame(shared_data)
    norm = lambda s: s.str.lower().str.split().str.join(" ")  # noqa: E731
    assert not set(norm(dev["text"])) & set(norm(frame["text"]))
    ibm_ids = set(pd.read_csv(TRAINING_DIR / "ibm_labels.csv")["id"])
    assert not ibm_ids & set(dev["id"])


def test_request_types_shipped_model_is_small_and_complete():
    files = {p.name: p.stat().st_size for p in DEFAULT_MODEL_DIR.iterdir()}
    assert {"head.json", "head.npz", "params.json", "MODEL_CARD.md"} <= set(files)
    assert not [name for name in files if name.endswith((".joblib", ".pkl", ".pickle"))]  # nothing pickled
    assert sum(files.values()) < 8_000_000  # the TF-IDF vocabulary grows with the written messages (6.1 MB, 7 Dec)
    meta = json.loads((DEFAULT_MODEL_DIR / "params.json").read_text())
    assert set(meta["classes"]) == TAXONOMY
    assert meta["params"]["encoder"] == "minilm"


@pytest.mark.slow
@pytest.mark.needs_minilm
def test_request_types_default_model_predicts_sensible_labels():
    from cxlens.nlp.classify import load_default_model

    model = load_default_model()
    texts = ["I want to cancel my order", "where is my package? it should have arrived", "I forgot my password",
             "I was charged twice for the same payment", "I'd like to get my money back"]
    expected = ["cancellation", "shipping_delivery", "account", "billing_payment", "refund"]
    labels, conf = model.predict_confidence(texts)
    assert list(labels) == expected
    assert ((conf > 0) & (conf <= 1)).all()
    # `other` is "not a support request"; thanks is feedback (the labelling guideline's rule)
    other, _ = model.predict_confidence(["hello", "thanks", "what's the weather like tomorrow"])
    assert list(other) == ["other", "feedback_praise", "other"]
