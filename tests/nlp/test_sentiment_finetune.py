"""Sentiment with a tuned encoder: SentimentClassifier(finetune_epochs=N), `cxlens train sentiment --finetune-epochs`."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from cxlens.errors import ConfigError, DataError
from cxlens.nlp.encoders import STUDENT_DIR
from cxlens.nlp import Texts
from cxlens.nlp.sentiment import SentimentClassifier, load_sentiment_model

pytestmark = [pytest.mark.needs_minilm, pytest.mark.slow]

POSTS = ["love the new update, thanks!", "great support today", "you fixed it fast, amazing",
         "awesome service as always", "the app keeps crashing", "still no refund, terrible",
         "worst delivery ever", "this is broken again", "what time do you open", "is the store open sunday",
         "my order number is 123", "where do I find the settings"]
LABELS = ["positive"] * 4 + ["negative"] * 4 + ["neutral"] * 4


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CXLENS_CACHE_DIR", str(tmp_path / "cache"))


def test_tuned_sentiment_head_uses_its_own_encoder_and_round_trips(tmp_path):
    head = SentimentClassifier(encoder="minilm-torch", finetune_epochs=2, cv=0).fit(POSTS, LABELS)
    assert head.encoder_dir_ is not None
    proba = head.predict_proba(POSTS)
    assert head.text_encoder() is not SentimentClassifier(encoder="minilm-torch").text_encoder()  # its own
    # vectors of another encoder (the run's shared one) are not read by a tuned head: the result is the same
    stray = np.random.default_rng(0).normal(size=(len(POSTS), 384)).astype(np.float32)
    batch = Texts(POSTS, vectors={"minilm-torch": stray, "minilm": stray})
    np.testing.assert_allclose(head.predict_proba(batch), proba, atol=1e-6)
    saved = head.save(tmp_path / "model")
    assert (saved / "encoder" / "model.safetensors").is_file()
    loaded = load_sentiment_model(saved)
    np.testing.assert_allclose(loaded.predict_proba(POSTS), proba, atol=1e-5)
    (saved / "encoder" / "config.json").unlink()
    with pytest.raises(DataError, match="fine-tuned encoder folder"):
        load_sentiment_model(saved)


@pytest.mark.skipif(not (STUDENT_DIR / "student.safetensors").is_file(), reason="no shipped student artifact")
def test_tuned_student_is_stored_as_its_layers_and_serves_the_vectors_it_was_fitted_on(tmp_path):
    from safetensors.numpy import load_file

    head = SentimentClassifier(encoder="minilm-l2", finetune_epochs=2, cv=0).fit(POSTS, LABELS)
    proba = head.predict_proba(POSTS)
    saved = head.save(tmp_path / "model")
    stored = saved / "encoder"
    assert (stored / "student.safetensors").is_file() and not (stored / "model.safetensors").exists()
    assert sum(f.stat().st_size for f in stored.iterdir()) < 10e6  # two layers in fp16, not a 60 MB folder
    info = json.loads((stored / "student.json").read_text())
    assert info["layers"] == [0, 5] and info["finetuned"]["base"] == "minilm-l2" and info["finetuned"]["epochs"] == 2
    tuned, shipped = load_file(str(stored / "student.safetensors")), load_file(str(STUDENT_DIR / "student.safetensors"))
    assert tuned.keys() == shipped.keys()
    assert any(not np.array_equal(tuned[k], shipped[k]) for k in tuned)  # the layers were trained
    # the stored layers rebuild the very model the head was fitted on (weights rounded to fp16 before the fit)
    loaded = load_sentiment_model(saved)
    np.testing.assert_allclose(loaded.predict_proba(POSTS), proba, atol=1e-6)
    with pytest.raises(ConfigError, match="own fine-tuned encoder"):
        load_sentiment_model(saved, encoder="minilm")


@pytest.mark.skipif(not (STUDENT_DIR / "student.safetensors").is_file(), reason="no shipped student artifact")
def test_head_on_an_encoder_tuned_elsewhere(tmp_path):
    # tuned (say on a GPU machine) and stored as a student artifact; the head is fitted here on its vectors
    tuned = SentimentClassifier(encoder="minilm-l2", finetune_epochs=1, cv=0).fit(POSTS, LABELS)
    artifact = tuned.save(tmp_path / "tuned") / "encoder"
    head = SentimentClassifier(encoder="minilm-l2", encoder_dir=artifact, cv=0).fit(POSTS, LABELS)
    assert head.encoder_dir_.name.startswith("minilm-student-")  # rebuilt from the artifact, not tuned again
    np.testing.assert_allclose(head.predict_proba(POSTS), tuned.predict_proba(POSTS), atol=1e-6)
    saved = head.save(tmp_path / "model")
    assert json.loads((saved / "params.json").read_text())["params"]["encoder_dir"] is None  # no stray path
    info = json.loads((saved / "encoder" / "student.json").read_text())
    assert info["finetuned"]["epochs"] == 1  # the tuning's record survives the round trip
    np.testing.assert_allclose(load_sentiment_model(saved).predict_proba(POSTS), head.predict_proba(POSTS), atol=1e-6)
    with pytest.raises(ConfigError, match="finetune_epochs at 0"):
        SentimentClassifier(encoder="minilm-l2", encoder_dir=artifact, finetune_epochs=1).fit(POSTS, LABELS)
    with pytest.raises(ConfigError, match="encoder is 'tfidf'"):
        SentimentClassifier(encoder="tfidf", encoder_dir=artifact).fit(POSTS, LABELS)
    with pytest.raises(DataError, match="missing or incomplete"):
        SentimentClassifier(encoder="minilm-l2", encoder_dir=tmp_path / "nowhere").fit(POSTS, LABELS)


def test_frozen_head_has_no_tuned_encoder_and_tfidf_cannot_be_tuned():
    head = SentimentClassifier(encoder="tfidf", cv=0).fit(POSTS, LABELS)
    assert head.encoder_dir_ is None
    with pytest.raises(ConfigError, match="cannot be tuned"):
        SentimentClassifier(encoder="tfidf", finetune_epochs=1).fit(POSTS, LABELS)


def test_cli_train_sentiment_finetune(tmp_path):
    data = tmp_path / "posts.csv"
    pd.DataFrame({"text": POSTS, "label": LABELS}).to_csv(data, index=False)
    out = tmp_path / "model"
    run = subprocess.run([sys.executable, "-m", "cxlens", "train", "sentiment", "--data", str(data), "--text-col",
                          "text", "--label-col", "label", "--finetune-epochs", "1", "--encoder", "minilm-torch",
                          "--no-tracking", "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    assert "fine-tuned encoder (1 epochs) + head" in run.stderr
    assert json.loads((out / "params.json").read_text())["encoder_dir"] == "encoder"
    assert (out / "encoder" / "finetune.json").is_file()
