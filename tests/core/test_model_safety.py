"""Saved models hold no pickle, and an old/foreign joblib file is never unpickled unless trusted.

A crafted ``head.joblib`` / ``model.joblib`` whose ``__reduce__`` creates a marker file stands in for a
malicious model: on each entry point that takes a model path (``cxlens predict --model``,
``cxlens accounts score --model``, ``cxlens score --request-type-model``) the marker must not appear, and
the error must say why and name ``--trust-model``. A genuine old joblib still loads with ``--trust-model``,
and saving it again writes the pickle-free format (JSON + ``.npz``), with identical predictions.
"""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest

from cxlens.cli import main
from cxlens.errors import DataError, UntrustedModelError
from cxlens.models.churn import ChurnModel
from cxlens.nlp.classify import TextClassifier, load_classifier
from cxlens.pipelines.accounts import load_churn_model

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
PICKLE_SUFFIXES = (".joblib", ".pkl", ".pickle", ".sav")


class Payload:
    """Unpickling this creates ``marker`` (``open(marker, "w")``): proof that the file's code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _classifier(**kw) -> TextClassifier:
    return TextClassifier(encoder="tfidf", **kw).fit(TEXTS, LABELS)


def _legacy_classifier_folder(folder: Path, clf: TextClassifier, heads=None) -> Path:
    """What ``TextClassifier.save`` wrote before the pickle-free format (``cxlens.text_classifier.v1``)."""
    folder.mkdir(parents=True)
    joblib.dump({"heads": clf.heads_, "anchors": clf.anchors_} if heads is None else heads,
                folder / "head.joblib", compress=3)
    meta = {"format": "cxlens.text_classifier.v1", "params": clf.get_params(),
            "classes": [str(c) for c in clf.classes_], "temperatures": clf.temperatures_,
            "thresholds": [float(t) for t in clf.thresholds_], "encoder_dir": None}
    (folder / "params.json").write_text(json.dumps(meta, default=str))
    return folder


@pytest.fixture
def crafted_classifier(tmp_path) -> tuple[Path, Path]:
    """A classifier folder whose head.joblib runs code when unpickled, and the marker that code would create."""
    marker = tmp_path / "pwned-classifier"
    folder = _legacy_classifier_folder(tmp_path / "evil-classifier", _classifier(), heads=Payload(marker))
    return folder, marker


@pytest.fixture
def crafted_churn(tmp_path) -> tuple[Path, Path]:
    marker = tmp_path / "pwned-churn"
    folder = tmp_path / "evil-churn"
    folder.mkdir()
    joblib.dump(Payload(marker), folder / "model.joblib")
    return folder, marker


def _churn_data(n: int = 600, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({
        "tickets": rng.poisson(3, n).astype(float),
        "csat": np.where(rng.random(n) < 0.3, np.nan, rng.uniform(1, 5, n)),
        "plan": rng.choice(["starter", "pro", "enterprise", "legacy"], n, p=[0.4, 0.3, 0.296, 0.004]).astype(object),
        "tenure": rng.uniform(10, 900, n),
    })
    logit = 0.4 * X["tickets"] - 0.6 * X["csat"].fillna(3) + (X["plan"] == "starter") * 0.8 - 0.001 * X["tenure"]
    y = (rng.random(n) < 1 / (1 + np.exp(-logit.to_numpy()))).astype(int)
    return X, y


def assert_no_pickle(folder: Path) -> None:
    """Every file of ``folder`` reads without pickle: no joblib/pickle file, every .npz with allow_pickle=False."""
    files = [p for p in Path(folder).rglob("*") if p.is_file()]
    assert files
    for path in files:
        assert path.suffix not in PICKLE_SUFFIXES, path
        assert path.read_bytes()[:1] != b"\x80", f"{path} starts like a pickle"
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as npz:
                assert all(npz[key].dtype != object for key in npz.files)
        elif path.suffix == ".json":
            json.loads(path.read_text(encoding="utf-8"))


# ---------------------------------------------------------------- a crafted file never runs


def test_model_safety_predict_refuses_a_pickled_classifier_before_unpickling(crafted_classifier, tmp_path, capsys):
    folder, marker = crafted_classifier
    texts = tmp_path / "texts.csv"
    pd.DataFrame({"text": TEXTS[:3]}).to_csv(texts, index=False)
    code = main(["predict", "--model", str(folder), "--input", str(texts), "--text-col", "text",
                 "--output", str(tmp_path / "out.csv")])
    err = capsys.readouterr().err
    assert not marker.exists(), "the crafted head.joblib was unpickled"
    assert code == 2 and not (tmp_path / "out.csv").exists()
    assert "can run any code" in err and "pass --trust-model to load it" in err
    with pytest.raises(UntrustedModelError, match=r"pass trust_model=True to load it") as info:
        load_classifier(folder)
    assert "--trust-model" in info.value.cli_message({"trust_model": "--trust-model"})
    assert not marker.exists()


def test_model_safety_accounts_score_refuses_a_pickled_churn_model(crafted_churn, tmp_path, capsys):
    folder, marker = crafted_churn
    for model in (folder, folder / "model.joblib"):
        code = main(["accounts", "score", "--accounts", str(tmp_path / "accounts.csv"), "--model", str(model),
                     "--out", str(tmp_path / "scored.csv")])
        err = capsys.readouterr().err
        assert not marker.exists(), f"the crafted model.joblib was unpickled ({model})"
        assert code == 2 and "can run any code" in err and "--trust-model" in err
    with pytest.raises(UntrustedModelError):
        load_churn_model(folder)
    code = main(["accounts", "at-risk", "--accounts", str(tmp_path / "accounts.csv"), "--model", str(folder),
                 "--out", str(tmp_path / "review")])
    assert code == 2 and not marker.exists()


def test_model_safety_score_refuses_a_pickled_request_type_model(crafted_classifier, tmp_path, capsys):
    from cxlens import ScoreConfig
    from cxlens.pipelines.score import HeadOptions, score_heads

    folder, marker = crafted_classifier
    tickets = tmp_path / "tickets.csv"
    tickets.write_text("ticket_id,created_at,text\nT1,2025-01-01,where is my package\n", encoding="utf-8")
    code = main(["score", "--tickets", str(tickets), "--out", str(tmp_path / "out"),
                 "--request-type-model", str(folder)])
    err = capsys.readouterr().err
    assert not marker.exists(), "the crafted head.joblib was unpickled"
    assert code == 2 and not (tmp_path / "out").exists()
    assert "can run any code" in err and "--trust-model" in err and "trust_model" not in err
    problems = ScoreConfig(tickets=str(tickets), out=str(tmp_path / "o"), request_type_model=str(folder)).problems()
    assert [p.param for p in problems] == ["request_type_model"]
    assert "can run any code" in problems[0].message and "{trust_model=True}" in problems[0].message
    # the heads refuse it too, whoever calls them
    with pytest.raises(UntrustedModelError):
        score_heads(HeadOptions(request_type_model=str(folder), encoder="tfidf", skip=("topic", "sentiment", "qa")))
    assert not marker.exists()


def test_model_safety_a_crafted_safe_format_file_cannot_name_code(tmp_path):
    clf = _classifier()
    folder = clf.save(tmp_path / "m")
    doc = json.loads((folder / "head.json").read_text())
    doc["root"] = {"object": "builtins.eval", "state": {}}
    (folder / "head.json").write_text(json.dumps(doc))
    with pytest.raises(DataError, match="is not one cxlens loads"):
        load_classifier(folder)
    clf.save(folder)  # an object array in the .npz: np.load(allow_pickle=False) refuses it
    np.savez(folder / "head.npz", a0=np.array([Payload(tmp_path / "pwned-npz")], dtype=object))
    with pytest.raises(UntrustedModelError, match="pickled objects"):
        load_classifier(folder)
    assert not (tmp_path / "pwned-npz").exists()


# ---------------------------------------------------------------- trusted old files still load


def test_model_safety_trusted_old_classifier_loads_and_resaves_without_pickle(tmp_path, capsys):
    clf = _classifier(head="ensemble", threshold=0.4)
    old = _legacy_classifier_folder(tmp_path / "old", clf)
    texts = tmp_path / "texts.csv"
    pd.DataFrame({"text": TEXTS}).to_csv(texts, index=False)
    out = tmp_path / "labelled.csv"
    assert main(["predict", "--model", str(old), "--trust-model", "--input", str(texts), "--text-col", "text",
                 "--output", str(out)]) == 0
    assert pd.read_csv(out)["label"].tolist() == list(clf.predict(TEXTS))
    trusted = load_classifier(old, trust_model=True)
    np.testing.assert_array_equal(trusted.predict_proba(TEXTS), clf.predict_proba(TEXTS))
    trusted.save(old)  # saving again writes the safe format and drops the pickle
    assert_no_pickle(old)
    assert json.loads((old / "params.json").read_text())["format"] == "cxlens.text_classifier.v2"
    np.testing.assert_array_equal(load_classifier(old).predict_proba(TEXTS), clf.predict_proba(TEXTS))


def test_model_safety_trusted_old_churn_model_loads_and_resaves_without_pickle(tmp_path):
    X, y = _churn_data()
    model = ChurnModel(model="logistic").fit(X, y)
    joblib.dump(model, tmp_path / "model.joblib")
    for ref in (tmp_path, tmp_path / "model.joblib"):
        trusted = load_churn_model(ref, trust_model=True)
        np.testing.assert_array_equal(trusted.predict_proba(X), model.predict_proba(X))
    out = tmp_path / "resaved"
    trusted.save(out)
    assert_no_pickle(out)
    np.testing.assert_array_equal(load_churn_model(out).predict_proba(X), model.predict_proba(X))


def test_model_safety_score_trust_model_is_checked_but_not_fingerprinted(tmp_path):
    from cxlens import ScoreConfig
    from cxlens.pipelines.score import HeadOptions, score_heads

    clf = _classifier()
    old = _legacy_classifier_folder(tmp_path / "old", clf)
    tickets = tmp_path / "tickets.csv"
    tickets.write_text("ticket_id,created_at,text\nT1,2025-01-01,where is my package\n", encoding="utf-8")
    common = dict(tickets=str(tickets), out=str(tmp_path / "o"), request_type_model=str(old))
    trusted, plain = ScoreConfig(**common, trust_model=True), ScoreConfig(**common)
    assert trusted.problems() == [] and [p.param for p in plain.problems()] == ["request_type_model"]
    assert asdict(trusted.head_options()) == asdict(plain.head_options())  # what the run's fingerprint reads
    assert trusted.head_options().trust_model is True and plain.head_options().trust_model is False
    assert "trust_model" in [p.param for p in ScoreConfig(**common, trust_model="yes").problems()]
    options = HeadOptions(request_type_model=str(old), encoder="tfidf", skip=("topic", "sentiment", "qa"))
    heads = score_heads(replace(options, trust_model=True))
    np.testing.assert_array_equal(heads.request_type.predict_proba(TEXTS), clf.predict_proba(TEXTS))
    with pytest.raises(UntrustedModelError):  # loaded once with trust: not handed out without it
        score_heads(options)


# ---------------------------------------------------------------- round trips are exact


@pytest.mark.parametrize("kw", [dict(head="logreg"), dict(head="tfidf"), dict(head="ensemble", threshold=0.4),
                                dict(head="logreg", min_similarity=0.3, n_anchors=2)])
def test_model_safety_classifier_round_trip_is_exact(tmp_path, kw):
    clf = _classifier(**kw)
    clf.save(tmp_path / "m")
    assert_no_pickle(tmp_path / "m")
    back = load_classifier(tmp_path / "m")
    probe = TEXTS + ["xyzzy plugh", "", "cancel the parcel"]
    np.testing.assert_array_equal(back.predict_proba(probe), clf.predict_proba(probe))
    assert list(back.predict(probe)) == list(clf.predict(probe))
    assert back.get_params() == clf.get_params()


@pytest.mark.filterwarnings("ignore:Label . is present in all training examples")
def test_model_safety_multi_label_round_trip_with_a_constant_label(tmp_path):
    y = [(lab, "any") if i % 2 else (lab,) for i, lab in enumerate(LABELS)]
    y_const = [(*labels, "always") for labels in y]  # a label on every text: a constant one-vs-rest head
    for head in ("logreg", "tfidf"):
        clf = TextClassifier(encoder="tfidf", head=head, multi_label=True, threshold="auto").fit(TEXTS, y_const)
        clf.save(tmp_path / head)
        assert_no_pickle(tmp_path / head)
        back = load_classifier(tmp_path / head)
        np.testing.assert_array_equal(back.predict_proba(TEXTS), clf.predict_proba(TEXTS))
        np.testing.assert_array_equal(back.thresholds_, clf.thresholds_)


@pytest.mark.parametrize("kind", ["logistic", "hgb"])
def test_model_safety_churn_round_trip_is_exact(tmp_path, kind):
    X, y = _churn_data()
    model = ChurnModel(model=kind, min_rows_for_trees=10).fit(X, y)
    model.permutation_importance_ = pd.Series([0.2, 0.1, 0.0, -0.01], index=list(X.columns))
    model.save(tmp_path)
    assert_no_pickle(tmp_path)
    back = load_churn_model(tmp_path)
    X_new, _ = _churn_data(200, seed=1)
    np.testing.assert_array_equal(back.predict_proba(X_new), model.predict_proba(X_new))
    np.testing.assert_array_equal(back.raw_decision_function(X_new), model.raw_decision_function(X_new))
    assert back.get_params() == model.get_params() and back.model_kind_ == kind
    assert back.categorical_ == model.categorical_ and back.calibration_ == model.calibration_
    pd.testing.assert_series_equal(back.permutation_importance_, model.permutation_importance_)
    np.testing.assert_array_equal(back.oof_proba_, model.oof_proba_)
    assert back.transformed_columns() == model.transformed_columns()


def test_model_safety_shipped_request_type_model_has_no_pickle():
    from cxlens.nlp.classify import DEFAULT_MODEL_DIR

    assert_no_pickle(DEFAULT_MODEL_DIR)
    model = load_classifier(DEFAULT_MODEL_DIR)  # no trust needed
    assert model.heads_["emb"].coef_.shape == (len(model.classes_), 384)
    assert set(model.heads_) == {"emb", "tfidf"} and model.anchors_ is None  # `other` is a class, no anchors
