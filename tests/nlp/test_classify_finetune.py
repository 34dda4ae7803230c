"""head="finetune": the MiniLM encoder tuned end to end on the labels, then the usual calibrated head."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from cxlens.errors import ConfigError, DataError
from cxlens.nlp.classify import TextClassifier, load_classifier
from cxlens.nlp.encoders import finetune_encoder

pytestmark = [pytest.mark.needs_minilm, pytest.mark.slow]

# Two request types whose wording overlaps ("my order"), so the stock embeddings do not split them perfectly.
TEXTS = [
    "I want my money back for this order", "please refund my order", "refund the charge for my order",
    "can I get a refund on the jacket", "return the money for my order please", "I need a refund, the item broke",
    "where is my order", "my order has not arrived yet", "when will my order be delivered",
    "track my order please", "the parcel with my order is late", "has my order shipped yet",
]
LABELS = ["refund"] * 6 + ["shipping"] * 6


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CXLENS_CACHE_DIR", str(tmp_path / "cache"))


def test_finetune_encoder_writes_a_loadable_encoder_and_reuses_the_cache(tmp_path):
    from safetensors.numpy import load_file

    from cxlens.nlp.encoders import MiniLMEncoder, minilm_model_dir

    y = np.array([0] * 6 + [1] * 6)
    calls = []
    out = finetune_encoder(TEXTS, y, epochs=2, batch_size=4, progress=lambda *a: calls.append(a))
    assert (out / "config.json").is_file() and (out / "model.safetensors").is_file()
    assert (out / "tokenizer.json").is_file()
    assert out.stat().st_mode & 0o777 == 0o755  # readable by others, like any saved model folder
    info = json.loads((out / "finetune.json").read_text())
    assert info["texts"] == 12 and info["labels"] == 2 and info["epochs"] == 2
    assert calls[-1] == ("fine-tuning", 6, 6)  # 3 batches of 4, twice
    tuned = load_file(str(out / "model.safetensors"))
    base = load_file(str(minilm_model_dir() / "model.safetensors"))
    name = next(k for k in tuned if k.endswith("encoder.layer.5.output.dense.weight"))
    base_name = next(k for k in base if k.endswith("encoder.layer.5.output.dense.weight"))
    assert not np.allclose(tuned[name], base[base_name])
    vec = MiniLMEncoder(model_dir=out, backend="torch").encode(["where is my order"])
    assert vec.shape == (1, 384) and abs(float(np.linalg.norm(vec)) - 1) < 1e-5
    # same data and parameters: the cached folder comes back without training again
    again = finetune_encoder(TEXTS, y, epochs=2, batch_size=4, progress=lambda *a: calls.append(("again",)))
    assert again == out and ("again",) not in calls


def test_finetune_head_separates_the_labels_and_round_trips(tmp_path):
    model = TextClassifier(encoder="minilm-torch", head="finetune", epochs=4, calibration="none")
    model.fit(TEXTS, LABELS)
    assert model.encoder_dir_ is not None
    assert list(model.predict(TEXTS)) == LABELS
    proba = model.predict_proba(["refund my order", "where is my order"])
    assert proba[0, list(model.classes_).index("refund")] > 0.5
    assert proba[1, list(model.classes_).index("shipping")] > 0.5
    with pytest.raises(DataError, match="own fine-tuned encoder"):
        model.predict(np.zeros((2, 384), dtype=np.float32))  # stock-encoder vectors would be silently wrong
    saved = model.save(tmp_path / "model")
    assert (saved / "encoder" / "model.safetensors").is_file()
    assert model.encoder_dir_ == saved / "encoder"  # a pickled (MLflow) copy points at the saved folder
    loaded = load_classifier(saved)
    np.testing.assert_allclose(loaded.predict_proba(TEXTS), model.predict_proba(TEXTS), atol=1e-5)
    (saved / "encoder" / "config.json").unlink()
    with pytest.raises(DataError, match="fine-tuned encoder folder"):
        load_classifier(saved)


def test_contrastive_loss_pulls_a_label_together():
    import torch

    from cxlens.nlp.encoders._finetune import _class_batches, _contrastive_loss

    labels = torch.tensor([0, 0, 1, 1])
    together = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    mixed = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.9, 0.1], [0.1, 0.9]])
    assert float(_contrastive_loss(together, labels)) < float(_contrastive_loss(mixed, labels))
    y = np.array([0] * 10 + [1] * 3 + [2] * 7)
    batches = _class_batches(y, 8, np.random.default_rng(0))
    assert sorted(np.concatenate(batches).tolist()) == list(range(20))  # every text once per epoch
    assert all(np.bincount(y[b]).max() <= 4 for b in batches)


def test_finetune_contrastive_trains_and_rejects_multi_label():
    y = np.array([0] * 6 + [1] * 6)
    out = finetune_encoder(TEXTS, y, epochs=1, batch_size=8, loss="contrastive")
    assert json.loads((out / "finetune.json").read_text())["loss"] == "contrastive"
    with pytest.raises(ConfigError, match="single-label"):
        finetune_encoder(TEXTS, np.eye(2, dtype=int)[y], multi_label=True, loss="contrastive")


def test_finetune_soft_targets_follow_the_teacher_and_bad_ones_are_refused():
    from cxlens.nlp.encoders import student_model_dir
    from cxlens.nlp.encoders import MiniLMEncoder

    # a teacher sure of the first six texts, unsure of the rest: the student learns from its probabilities
    soft = np.array([[0.9, 0.1]] * 6 + [[0.2, 0.8]] * 6)
    out = finetune_encoder(TEXTS, soft, epochs=3, batch_size=4, lr=2e-4, base="minilm-l2")
    info = json.loads((out / "finetune.json").read_text())
    assert info["labels"] == 2 and info["soft_targets"] is True
    vec = MiniLMEncoder(model_dir=out, backend="torch").encode(TEXTS)
    base = MiniLMEncoder(model_dir=student_model_dir(), backend="torch").encode(TEXTS)

    def gap(v):  # how far apart the two groups' centroids are
        return float(np.linalg.norm(v[:6].mean(0) - v[6:].mean(0)))

    assert gap(vec) > gap(base)
    # soft targets are a single-label matter, and must be probabilities
    with pytest.raises(ConfigError, match="class indices"):
        finetune_encoder(TEXTS, soft, loss="contrastive")
    with pytest.raises(DataError, match="sum to 1"):
        finetune_encoder(TEXTS, soft * 2)
    with pytest.raises(DataError, match="sum to 1"):
        finetune_encoder(TEXTS, np.full((12, 2), np.nan))


def test_finetune_head_bad_input_is_a_clear_error():
    emb = np.random.default_rng(0).normal(size=(12, 384)).astype(np.float32)
    with pytest.raises(DataError, match="raw texts"):
        TextClassifier(encoder="minilm-torch", head="finetune").fit(emb, LABELS)
    with pytest.raises(ConfigError, match="unknown"):
        TextClassifier(encoder="minilm-torch", head="finetune", finetune_options={"bogus": 1}).fit(TEXTS, LABELS)
    with pytest.raises(ConfigError, match="cannot be tuned"):
        TextClassifier(encoder="tfidf", head="finetune").fit(TEXTS, LABELS)
    from cxlens.nlp.encoders._encoders import cuda_available

    if not cuda_available():
        with pytest.raises(ConfigError, match="no CUDA"):
            TextClassifier(encoder="minilm-torch", head="finetune", device="cuda").fit(TEXTS, LABELS)


def test_cli_train_classifier_finetune(tmp_path):
    data = tmp_path / "labelled.csv"
    pd.DataFrame({"text": TEXTS, "type": LABELS}).to_csv(data, index=False)
    out = tmp_path / "model"
    run = subprocess.run([sys.executable, "-m", "cxlens", "train", "classifier", "--data", str(data),
                          "--text-col", "text", "--label-col", "type", "--head", "finetune", "--epochs", "2",
                          "--encoder", "minilm-torch", "--no-tracking", "--out", str(out)],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    assert "trained finetune classifier on 12 texts" in run.stderr
    assert (out / "encoder" / "finetune.json").is_file()
    assert json.loads((out / "params.json").read_text())["params"]["epochs"] == 2
