"""The distilled student encoder: training writes a small artifact, the artifact becomes an encoder folder."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cxlens.errors import ConfigError, DataError
from cxlens.nlp.encoders import STUDENT_DIR, distill_encoder, student_model_dir

pytestmark = [pytest.mark.needs_minilm, pytest.mark.slow]

TEXTS = [
    "I want my money back for this order", "please refund my order", "where is my parcel",
    "my order has not arrived yet", "how do I reset my password", "the app crashes when I log in",
    "cancel my subscription please", "do you ship to Canada?", "thanks, that fixed it!",
    "I was charged twice this month", "can I change my delivery address", "is the blue one back in stock?",
    "this is the worst service ever", "love the new update", "my card was declined at checkout",
    "how long does a return take",
]


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CXLENS_CACHE_DIR", str(tmp_path / "cache"))


def _teacher():
    from cxlens.nlp.encoders import MiniLMEncoder

    return MiniLMEncoder(backend="torch")


def test_distill_encoder_moves_the_student_towards_the_teacher(tmp_path):
    from safetensors.numpy import load_file

    from cxlens.nlp.encoders import MiniLMEncoder

    untrained = distill_encoder(TEXTS, out_dir=tmp_path / "s0", layers=[0, 5], epochs=1, lr=1e-9, batch_size=16)
    trained = distill_encoder(TEXTS, out_dir=tmp_path / "s1", layers=[0, 5], epochs=8, lr=3e-4, batch_size=16)
    teacher = _teacher().encode(TEXTS)
    cos = {}
    for name, art in (("untrained", untrained), ("trained", trained)):
        folder = student_model_dir(art)
        vectors = MiniLMEncoder(backend="torch", model_dir=folder).encode(TEXTS)
        assert vectors.shape == (len(TEXTS), 384)
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
        cos[name] = float((vectors * teacher).sum(1).mean())
    assert cos["trained"] > cos["untrained"] + 0.1, cos
    # only the kept layers are stored (fp16); the embeddings come from the teacher package
    state = load_file(str(trained / "student.safetensors"))
    assert state and all(k.startswith("encoder.layer.") for k in state)
    assert {k.split(".")[2] for k in state} == {"0", "1"}
    assert all(v.dtype == np.float16 for v in state.values())
    info = json.loads((trained / "student.json").read_text())
    assert info["layers"] == [0, 5] and info["texts"] == len(TEXTS) and info["epochs"] == 8


def test_student_model_dir_is_built_once_and_cached(tmp_path):
    art = distill_encoder(TEXTS, out_dir=tmp_path / "s", layers=[1], epochs=1, batch_size=16)
    first = student_model_dir(art)
    stamp = (first / "model.safetensors").stat().st_mtime_ns
    assert student_model_dir(art) == first
    assert (first / "model.safetensors").stat().st_mtime_ns == stamp
    assert json.loads((first / "config.json").read_text())["num_hidden_layers"] == 1


def test_distill_and_load_refuse_bad_input(tmp_path):
    with pytest.raises(ConfigError, match="distinct indices"):
        distill_encoder(TEXTS, out_dir=tmp_path / "x", layers=[0, 9], batch_size=4)
    with pytest.raises(DataError, match="at least batch_size"):
        distill_encoder(TEXTS[:3] + ["", "  "], out_dir=tmp_path / "x", batch_size=4)
    with pytest.raises(DataError, match="not a student encoder"):
        student_model_dir(tmp_path)
    art = distill_encoder(TEXTS, out_dir=tmp_path / "s", layers=[0], epochs=1, batch_size=16)
    info = json.loads((art / "student.json").read_text())
    (art / "student.json").write_text(json.dumps({**info, "teacher_fingerprint": "0" * 16}))
    with pytest.raises(DataError, match="different all-MiniLM-L6-v2"):
        student_model_dir(art)


@pytest.mark.skipif(not (STUDENT_DIR / "student.safetensors").is_file(), reason="no shipped student artifact")
def test_shipped_student_stays_close_to_the_teacher():
    from cxlens.nlp.encoders import STUDENT_ENCODER, get_encoder

    student = get_encoder(STUDENT_ENCODER)
    assert student.name == "minilm-l2"
    cos = (student.encode(TEXTS) * _teacher().encode(TEXTS)).sum(1)
    # measured 0.878 mean, 0.66 min ("thanks, that fixed it!"); the same layers untrained give about 0.37
    assert cos.mean() >= 0.85 and cos.min() >= 0.6, cos
