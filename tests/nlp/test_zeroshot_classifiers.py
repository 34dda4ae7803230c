"""Zero-shot (label descriptions) and few-shot (a handful of examples) classifiers."""

from __future__ import annotations


import numpy as np
import pytest
from sklearn.base import clone

from cxlens.errors import ConfigError, DataError, NotFittedError, UnknownNameError
from cxlens.nlp.classify import FewShotClassifier, ZeroShotClassifier, label_texts

LABELS = {"refund": "refund money back", "delivery": "delivery parcel package shipping",
          "password": "password login account"}


def test_zeroshot_label_texts_readable():
    out = label_texts({"shipping_delivery": "where is my parcel", "other": ""})
    assert out == {"shipping_delivery": "shipping delivery: where is my parcel", "other": "other"}
    with pytest.raises(ConfigError):
        label_texts(["only-one"])


def test_zeroshot_tfidf_descriptions_route_texts():
    clf = ZeroShotClassifier(labels=LABELS, encoder="tfidf", min_similarity=None)
    assert clf.fit() is clf
    pred = clf.predict(["I want my money back, refund please", "my parcel package is late", "login password reset"])
    assert list(pred) == ["refund", "delivery", "password"]
    proba = clf.predict_proba(["refund"])
    np.testing.assert_allclose(proba.sum(1), 1.0, atol=1e-6)
    assert clone(clf).get_params()["labels"] == LABELS


def test_zeroshot_other_when_nothing_is_similar():
    clf = ZeroShotClassifier(labels=LABELS, encoder="tfidf", min_similarity=0.5).fit()
    assert clf.predict(["xyzzy"])[0] == "other"


def test_zeroshot_not_fitted():
    with pytest.raises(NotFittedError):
        ZeroShotClassifier(labels=LABELS, encoder="tfidf").predict(["x"])


@pytest.mark.parametrize("method", ["prototype", "logreg", "both"])
def test_zeroshot_fewshot_methods(method):
    texts = ["refund my money", "I want a refund", "parcel is late", "where is my package", "reset password",
             "cannot login"]
    y = ["refund", "refund", "delivery", "delivery", "password", "password"]
    clf = FewShotClassifier(encoder="tfidf", method=method).fit(texts, y)
    assert list(clf.classes_) == ["delivery", "password", "refund"]
    assert list(clf.predict(["refund please", "package late"])) == ["refund", "delivery"]


def test_zeroshot_fewshot_descriptions_add_labels_without_examples():
    clf = FewShotClassifier(encoder="tfidf", method="prototype", descriptions={"password": "password login account"})
    clf.fit(["refund my money", "parcel is late"], ["refund", "delivery"])
    assert "password" in clf.classes_
    assert clf.predict(["login password"])[0] == "password"
    with pytest.raises(DataError, match="at least one example"):
        FewShotClassifier(encoder="tfidf", method="logreg", descriptions={"password": "login"}).fit(
            ["refund", "parcel"], ["refund", "delivery"])
    with pytest.raises(UnknownNameError):
        FewShotClassifier(encoder="tfidf", method="knn").fit(["a", "b"], ["x", "y"])


@pytest.mark.slow
@pytest.mark.needs_minilm
def test_zeroshot_minilm_request_types():
    from cxlens.nlp.classify import REQUEST_TYPES

    clf = ZeroShotClassifier(labels=REQUEST_TYPES, encoder="minilm-torch").fit()
    pred = clf.predict(["I want my money back for this broken blender", "how long does shipping to Canada take?",
                        "I can't log into my account, forgot my password"])
    assert list(pred) == ["refund", "shipping_delivery", "account"]
