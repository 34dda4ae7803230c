"""TextClassifier: the scikit-learn contract, heads, calibration, 'other', multi-label, save/load (TF-IDF encoder)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from cxlens.errors import DataError, NotFittedError, UnknownNameError
from cxlens.nlp.classify import TextClassifier, fit_temperature, load_classifier
from cxlens.nlp.classify import evaluate_classifier, write_evaluation

BASE = {
    "cancel": ["cancel my order please", "i want to cancel", "cancel the subscription now", "stop my order",
               "please cancel it", "cancel my plan"],
    "delivery": ["where is my package", "package not delivered", "track my delivery", "delivery is late",
                 "my parcel has not arrived", "when will the parcel arrive"],
    "account": ["my password does not work", "cannot log in to my account", "reset password", "login failed",
                "forgot my password", "account locked after login"],
}
TEXTS = [t for ts in BASE.values() for t in ts]
LABELS = [lab for lab, ts in BASE.items() for _ in ts]


def make(**kw):
    return TextClassifier(encoder="tfidf", **kw)


def test_classify_contract_params_clone_and_fit_returns_self():
    clf = make(head="logreg", C=3.0)
    assert clf.get_params()["C"] == 3.0 and clf.get_params()["encoder"] == "tfidf"
    twin = clone(clf)
    assert twin.get_params() == clf.get_params() and not hasattr(twin, "classes_")
    assert clf.fit(TEXTS, LABELS) is clf
    assert list(clf.classes_) == ["account", "cancel", "delivery"]
    assert not hasattr(clone(clf), "heads_")


def test_classify_not_fitted_error():
    with pytest.raises(NotFittedError, match="not fitted yet"):
        make().predict(["hello"])


@pytest.mark.parametrize("head", ["logreg", "tfidf", "ensemble"])
def test_classify_heads_predict_and_proba(head):
    clf = make(head=head, threshold=0.0).fit(TEXTS, LABELS)
    proba = clf.predict_proba(["cancel my order", "where is my parcel"])
    assert proba.shape == (2, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    assert list(clf.predict(["cancel my order", "where is my parcel"])) == ["cancel", "delivery"]
    assert clf.temperature_ > 0


def test_classify_other_below_threshold():
    # strong regularisation, no calibration: every confidence is far below 0.9
    clf = make(threshold=0.9, C=0.01, calibration="none").fit(TEXTS, LABELS)
    labels, conf = clf.predict_confidence(["cancel my order", "zzz qqq"])
    assert (conf < 0.9).all()
    assert list(labels) == ["other", "other"]
    assert list(clf.predict(["cancel my order"])) == ["other"]
    low = make(threshold=0.0).fit(TEXTS, LABELS)
    assert low.predict(["zzz qqq"])[0] in low.classes_


def test_classify_precomputed_embeddings_match_texts():
    from cxlens.nlp.encoders import get_encoder

    emb = get_encoder("tfidf").encode(TEXTS)
    a = make(calibration="none").fit(TEXTS, LABELS)
    b = make(calibration="none").fit(emb, LABELS)
    np.testing.assert_allclose(a.predict_proba(TEXTS), b.predict_proba(emb), atol=1e-8)


def test_classify_tfidf_head_needs_texts():
    from cxlens.nlp.encoders import get_encoder

    with pytest.raises(DataError, match="raw texts"):
        make(head="tfidf").fit(get_encoder("tfidf").encode(TEXTS), LABELS)


def test_classify_unknown_head():
    with pytest.raises(UnknownNameError, match="logreg"):
        make(head="forest").fit(TEXTS, LABELS)


def test_classify_in_pipeline_and_model_selection():
    pipe = Pipeline([("lower", FunctionTransformer(lambda x: [t.lower() for t in x])), ("clf", make(threshold=0.0))])
    pipe.fit([t.upper() for t in TEXTS], LABELS)
    assert pipe.predict(["CANCEL MY ORDER"])[0] == "cancel"
    scores = cross_val_score(make(threshold=0.0, calibration="none"), np.array(TEXTS, dtype=object), LABELS, cv=2)
    assert scores.mean() > 0.5
    grid = GridSearchCV(make(calibration="none"), {"C": [1.0, 10.0]}, cv=2).fit(np.array(TEXTS, dtype=object), LABELS)
    assert grid.best_params_["C"] in (1.0, 10.0)


def test_classify_multilabel_per_label_thresholds():
    y = [(lab, "urgent") if i % 2 == 0 else (lab,) for i, lab in enumerate(LABELS)]
    clf = make(multi_label=True, threshold={"urgent": 0.9}).fit(TEXTS, y)
    assert list(clf.classes_) == ["account", "cancel", "delivery", "urgent"]
    assert list(clf.thresholds_) == [0.5, 0.5, 0.5, 0.9]
    Z = clf.predict(TEXTS[:2])
    assert Z.shape == (2, 4) and set(np.unique(Z)) <= {0, 1}
    assert clf.predict_label_sets(["cancel my order please"])[0][0] == "cancel"
    assert clf.predict_label_sets(["zzz"])[0] in (("other",),) or len(clf.predict_label_sets(["zzz"])[0]) >= 1
    auto = make(multi_label=True, threshold="auto").fit(TEXTS, ["|".join(t) for t in y])
    assert auto.thresholds_.shape == (4,) and ((auto.thresholds_ >= 0.1) & (auto.thresholds_ <= 0.9)).all()


def test_classify_save_load_round_trip(tmp_path):
    clf = make(head="ensemble", threshold=0.4).fit(TEXTS, LABELS)
    clf.save(tmp_path / "m")
    back = load_classifier(tmp_path / "m")
    assert back.get_params() == clf.get_params()
    np.testing.assert_allclose(back.predict_proba(TEXTS), clf.predict_proba(TEXTS))
    assert list(back.predict(TEXTS)) == list(clf.predict(TEXTS))
    with pytest.raises(DataError, match="not a saved cxlens classifier"):
        load_classifier(tmp_path)


def test_classify_fit_temperature_recovers_a_known_scale():
    rng = np.random.default_rng(0)
    true_logits = rng.normal(size=(4000, 4)) * 2
    p = np.exp(true_logits) / np.exp(true_logits).sum(1, keepdims=True)
    y = np.array([rng.choice(4, p=row) for row in p])
    assert fit_temperature(true_logits * 3, y) == pytest.approx(3.0, rel=0.15)


def test_classify_evaluate_writes_reports(tmp_path):
    clf = make(threshold=0.0).fit(TEXTS, LABELS)
    result = evaluate_classifier(clf, TEXTS, LABELS)
    assert result["accuracy"] == 1.0 and result["macro_f1"] == 1.0
    paths = write_evaluation(result, tmp_path)
    assert all(p.is_file() for p in paths.values())
    assert paths["confusion_png"].stat().st_size > 1000


def test_classify_min_similarity_sends_far_texts_to_other(tmp_path):
    clf = make(threshold=0.0, min_similarity=0.3, n_anchors=2).fit(TEXTS, LABELS)
    assert clf.anchors_.shape == (6, clf.encode(["x"]).shape[1])
    labels, _ = clf.predict_confidence(["cancel my order please", "xyzzy plugh"])
    assert list(labels) == ["cancel", "other"]
    sim = clf.similarity(["cancel my order please", "xyzzy plugh"])
    assert sim[0] > 0.3 > sim[1]
    clf.save(tmp_path / "m")
    assert list(load_classifier(tmp_path / "m").predict(["xyzzy plugh"])) == ["other"]
    assert make().fit(TEXTS, LABELS).anchors_ is None
