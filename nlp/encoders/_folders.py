"""Encoder folders (config, weights, tokenizer) in torch: load one to train it, write one atomically.

Shared by fine-tuning (:mod:`cxlens.nlp.encoders._finetune`), distillation
(:mod:`cxlens.nlp.encoders._distill`) and the student's folder (:mod:`cxlens.nlp.encoders._student`).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from cxlens.nlp.encoders._runtime import default_num_threads, minilm_model_dir, require_module

__all__ = ["load_folder", "load_teacher", "prepare_torch", "save_encoder_folder"]


def prepare_torch(device: str, threads: int | None) -> None:
    """Check that torch and transformers are installed, keep Hugging Face offline and quiet, and set the CPU
    threads (``threads``, else :func:`~cxlens.nlp.encoders._runtime.default_num_threads`) when on ``cpu``."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    require_module("torch", "torch", "Fine-tuning the encoder")
    require_module("transformers", "transformers", "Fine-tuning the encoder")
    import torch
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    if device == "cpu":
        torch.set_num_threads(threads or default_num_threads())


def load_folder(model_dir: Path, device: str):
    """``(tokenizer, model)`` of the encoder folder ``model_dir``, the model on ``device``."""
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
    model = AutoModel.from_pretrained(str(model_dir), local_files_only=True).to(device)
    return tokenizer, model


def load_teacher(device: str, threads: int | None):
    """``(folder, tokenizer, model)`` of the stock all-MiniLM-L6-v2 on ``device``."""
    prepare_torch(device, threads)
    model_dir = minilm_model_dir()
    tokenizer, model = load_folder(model_dir, device)
    return model_dir, tokenizer, model


def save_encoder_folder(model, tokenizer, out_dir: Path, info: dict) -> None:
    """Write the tuned encoder atomically: a sibling temp folder renamed into place."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir.parent, prefix=".ft-") as tmp:
        model.to("cpu").save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        (Path(tmp) / "finetune.json").write_text(json.dumps(info, indent=2) + "\n")
        if out_dir.exists():
            import shutil

            shutil.rmtree(out_dir)
        os.chmod(tmp, 0o755)  # TemporaryDirectory makes it private; a saved model is shared like any folder
        os.replace(tmp, out_dir)
        Path(tmp).mkdir()  # TemporaryDirectory cleans up a folder that must exist
