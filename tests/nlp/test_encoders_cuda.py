"""The CUDA paths: skipped where torch sees no GPU (CI has none); run them on a GPU machine."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cxlens.nlp.encoders._encoders import cuda_available

pytestmark = [pytest.mark.needs_minilm, pytest.mark.slow,
              pytest.mark.skipif(not cuda_available(), reason="torch sees no CUDA device here")]

TEXTS = ["where is my parcel", "I want my money back", "the app crashes when I log in",
         "thanks, that fixed it", "can I change my delivery address", "cancel my subscription please"]


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CXLENS_CACHE_DIR", str(tmp_path / "cache"))


def test_the_encoder_on_cuda_gives_the_cpu_vectors():
    from cxlens.nlp.encoders import MiniLMEncoder

    cpu = MiniLMEncoder(backend="torch").encode(TEXTS)
    gpu_encoder = MiniLMEncoder(backend="torch")
    gpu_encoder.use_device("cuda")
    gpu = gpu_encoder.encode(TEXTS)
    assert gpu.shape == cpu.shape == (len(TEXTS), 384)
    assert float((cpu * gpu).sum(1).min()) > 0.999


def test_finetuning_runs_on_cuda_and_the_result_serves_on_cpu():
    from cxlens.nlp.encoders import MiniLMEncoder
    from cxlens.nlp.encoders import finetune_encoder

    y = np.array([0, 1, 0, 1, 0, 1])
    out = finetune_encoder(TEXTS, y, epochs=2, batch_size=2, device="cuda")
    assert json.loads((out / "finetune.json").read_text())["device"] == "cuda"
    vec = MiniLMEncoder(model_dir=out, backend="torch").encode(TEXTS[:2])
    assert vec.shape == (2, 384) and np.allclose(np.linalg.norm(vec, axis=1), 1, atol=1e-5)
