"""Full fine-tuning of the MiniLM encoder on a label set (CPU works, slowly; a GPU when there is one).

:func:`finetune_encoder` trains all-MiniLM-L6-v2 end to end -- mean pooling, dropout and a linear layer
on top, cross-entropy (single-label) or binary cross-entropy (multi-label) -- and writes the tuned
*encoder* (config, weights, tokenizer) to a folder. The linear layer is only scaffolding: the
classifier that uses the folder (``TextClassifier(head="finetune")``) fits its calibrated logistic head
on the tuned embeddings, so every downstream part (int8 ONNX export, the vectors a batch carries, ``other``
thresholds, anchors) works exactly as for the stock encoder.

``base="minilm-l2"`` tunes the shipped two-layer student (:mod:`cxlens.nlp.encoders._student`) instead, with its
token embeddings frozen: about three times faster to train and to run, and a saved model stores only
the two tuned layers in fp16 (:func:`store_tuned_encoder`, about 7 MB instead of a 90 MB folder).

Batches are built from length-sorted buckets (shuffled within and across buckets each epoch) with
dynamic padding; the learning rate warms up linearly over the first 10 % of steps and decays linearly
to zero. Runs are reproducible for a given ``seed`` on a given device. The training steps (:func:`bucketed_batches`,
:func:`padded_tensors`, :func:`mean_pooled`, :func:`warmup_optimiser`, :func:`optimiser_step`) are shared with
distillation (:mod:`cxlens.nlp.encoders._distill`).

The output folder is keyed by a hash of the training data and the parameters inside the user cache
(``$CXLENS_CACHE_DIR/encoders``) unless ``out_dir`` is given, so fitting the same model twice reuses
the first run.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from cxlens.errors import ConfigError, DataError
from cxlens.nlp.encoders._folders import load_folder, load_teacher, prepare_torch, save_encoder_folder
from cxlens.nlp.encoders._runtime import cache_dir, minilm_model_dir

__all__ = ["BASES", "FINETUNE_DEFAULTS", "finetune_encoder", "finetune_key", "store_tuned_encoder",
           "stored_tuned_encoder", "tuning_base"]

log = logging.getLogger(__name__)

#: Defaults of :func:`finetune_encoder` (also what ``TextClassifier(head="finetune")`` passes).
FINETUNE_DEFAULTS = {"epochs": 4, "lr": 5e-5, "batch_size": 32, "max_length": 64, "seed": 0, "loss": "cross-entropy"}
LOSSES = ("cross-entropy", "contrastive")
#: Encoders :func:`finetune_encoder` can start from.
BASES = ("minilm", "minilm-l2")
_PER_CLASS = 4  # contrastive batches hold up to this many texts of each label they contain
_TAU = 0.1
_WEIGHTS = "model.safetensors"

Progress = Callable[[str, int, int], None]


def tuning_base(encoder: str) -> str:
    """The :data:`BASES` entry a head on the registered ``encoder`` tunes from (the student for ``minilm-l2``)."""
    return "minilm-l2" if encoder == "minilm-l2" else "minilm"


def finetune_key(texts: Sequence[str], targets: np.ndarray, params: dict) -> str:
    """Hash of the training data and parameters: the cache key of a fine-tuned encoder."""
    h = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode())
    h.update(str(minilm_model_dir()).encode())
    for t in texts:
        h.update(t.encode("utf-8", "replace"))
        h.update(b"\x00")
    h.update(np.ascontiguousarray(targets).tobytes())
    return h.hexdigest()[:16]


def training_device(device: str) -> str:
    """``cpu`` or ``cuda`` for ``device`` (``auto``: CUDA when torch sees a GPU); :class:`ConfigError` otherwise."""
    from cxlens.nlp.encoders._encoders import cuda_available

    if device == "auto":
        return "cuda" if cuda_available() else "cpu"
    if device not in ("cpu", "cuda"):
        raise ConfigError(f"device must be 'auto', 'cpu' or 'cuda', got {device!r}.")
    if device == "cuda" and not cuda_available():
        raise ConfigError("device 'cuda': torch sees no CUDA device here; use cpu or auto.")
    return device


def bucketed_batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Length-bucketed batches: sort a shuffled order by length in windows of 50 batches, then shuffle batches."""
    order = rng.permutation(len(lengths))
    window = batch_size * 50
    batches = []
    for start in range(0, len(order), window):
        part = order[start:start + window]
        part = part[np.argsort(lengths[part], kind="stable")]
        batches.extend(part[i:i + batch_size] for i in range(0, len(part), batch_size))
    rng.shuffle(batches)
    return batches


def _class_batches(y: np.ndarray, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Batches of several labels with up to ``_PER_CLASS`` texts each (so every text has in-batch positives)."""
    chunks = []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        chunks.extend(idx[i:i + _PER_CLASS] for i in range(0, len(idx), _PER_CLASS))
    order = rng.permutation(len(chunks))
    per_batch = max(2, batch_size // _PER_CLASS)
    return [np.concatenate([chunks[j] for j in order[i:i + per_batch]]) for i in range(0, len(order), per_batch)]


def _contrastive_loss(pooled, labels):
    """Supervised contrastive loss (Khosla et al., 2020) over the batch's normalised embeddings."""
    import torch

    z = torch.nn.functional.normalize(pooled, dim=1)
    sim = z @ z.T / _TAU
    eye = torch.eye(len(z), dtype=torch.bool, device=z.device)
    sim = sim.masked_fill(eye, float("-inf"))
    log_prob = sim - torch.logsumexp(sim, dim=1, keepdim=True)
    pos = (labels[:, None] == labels[None, :]) & ~eye
    has = pos.any(1)
    per_row = -(log_prob.masked_fill(~pos, 0.0).sum(1)[has] / pos.sum(1)[has])
    return per_row.mean() if has.any() else pooled.sum() * 0.0


def finetune_encoder(texts: Sequence[str], targets: np.ndarray, *, multi_label: bool = False,
                     epochs: int = FINETUNE_DEFAULTS["epochs"], lr: float = FINETUNE_DEFAULTS["lr"],
                     batch_size: int = FINETUNE_DEFAULTS["batch_size"],
                     max_length: int = FINETUNE_DEFAULTS["max_length"], seed: int = FINETUNE_DEFAULTS["seed"],
                     loss: str = FINETUNE_DEFAULTS["loss"], base: str = "minilm", device: str = "auto",
                     threads: int | None = None, out_dir: str | Path | None = None,
                     progress: Progress | None = None) -> Path:
    """Fine-tune MiniLM on ``texts`` and write the tuned encoder folder; returns its path.

    ``targets``: class index per text (single-label, ``0..k-1``), a 0/1 indicator matrix (``multi_label=True``),
    or a matrix of class probabilities per text (single-label soft targets, rows summing to 1: a teacher's
    predictions to distil, possibly mixed with the gold labels). ``loss``: ``"cross-entropy"`` through a linear
    layer (BCE when multi-label), or ``"contrastive"``: supervised contrastive loss on the pooled vectors,
    batches of several labels with up to four texts each (single-label only; pulls a label's texts together,
    which helps with a handful of examples per label). ``base``: ``"minilm"`` (all-MiniLM-L6-v2, every weight
    trained) or ``"minilm-l2"`` (the shipped two-layer student, :mod:`cxlens.nlp.encoders._student`; its token
    embeddings stay frozen, so the tuned layers can be stored as a 7 MB student artifact).
    ``progress(stage, done, total)`` is called after every batch.
    """
    texts = [str(t) for t in texts]
    targets = np.asarray(targets)
    if len(texts) != len(targets):
        raise DataError(f"{len(texts)} texts but {len(targets)} targets.")
    if len(texts) < 2:
        raise DataError("fine-tuning needs at least two labelled texts.")
    if epochs < 1 or batch_size < 1 or lr <= 0:
        raise ConfigError(f"epochs and batch_size must be >= 1 and lr > 0 (got {epochs}, {batch_size}, {lr}).")
    if loss not in LOSSES:
        from cxlens.errors import UnknownNameError

        raise UnknownNameError(kind="fine-tuning loss", name=loss, known=LOSSES)
    if loss == "contrastive" and multi_label:
        raise ConfigError("loss='contrastive' is for single-label data; use 'cross-entropy' with multi_label.")
    soft = not multi_label and targets.ndim == 2
    if soft:
        if loss == "contrastive":
            raise ConfigError("loss='contrastive' needs class indices, not soft targets.")
        if not np.all(np.isfinite(targets)) or targets.min() < 0 or not np.allclose(targets.sum(1), 1, atol=1e-3):
            raise DataError("soft targets must be finite class probabilities whose rows sum to 1.")
    if base not in BASES:
        from cxlens.errors import UnknownNameError

        raise UnknownNameError(kind="fine-tuning base encoder", name=base, known=BASES)
    params = {"multi_label": multi_label, "epochs": epochs, "lr": lr, "batch_size": batch_size,
              "max_length": max_length, "seed": seed, "loss": loss}
    if base != "minilm":  # absent for the teacher, so caches written before this option stay valid
        from cxlens.nlp.encoders._student import student_model_dir

        params["base"] = base
        params["base_build"] = student_model_dir().name  # the student's folder is named by its content
    if out_dir is None:
        out_dir = cache_dir() / "encoders" / f"{base}-ft-{finetune_key(texts, targets, params)}"
        if (out_dir / _WEIGHTS).is_file():
            log.info("fine-tuned encoder found in the cache: %s", out_dir)
            return out_dir
    out_dir = Path(out_dir)
    dev = training_device(device)
    model_dir, tokenizer, model = _load_base(dev, threads, base=base)
    k = targets.shape[1] if multi_label or soft else int(targets.max()) + 1
    import torch

    torch.manual_seed(seed)
    head = torch.nn.Sequential(torch.nn.Dropout(0.1), torch.nn.Linear(model.config.hidden_size, k)).to(dev)
    ids = tokenizer(texts, truncation=True, max_length=max_length, padding=False,
                    return_attention_mask=False, return_token_type_ids=False)["input_ids"]
    lengths = np.array([len(x) for x in ids])
    rng = np.random.default_rng(seed)
    if loss == "contrastive":
        epoch_batches = [_class_batches(targets, batch_size, rng) for _ in range(epochs)]
    else:
        epoch_batches = [bucketed_batches(lengths, batch_size, rng) for _ in range(epochs)]
    total = sum(len(b) for b in epoch_batches)
    trainable = [p for p in model.parameters() if p.requires_grad]
    opt, sched = warmup_optimiser([{"params": trainable, "lr": lr},
                             {"params": head.parameters(), "lr": lr * 20}], total)
    loss_fn = torch.nn.BCEWithLogitsLoss() if multi_label else torch.nn.CrossEntropyLoss()
    # CrossEntropyLoss takes class probabilities as targets too (soft targets)
    y_all = torch.as_tensor(targets, dtype=torch.float32 if multi_label or soft else torch.long)
    pad = tokenizer.pad_token_id or 0
    model.train()
    head.train()
    step, seen, t0, running = 0, 0, time.perf_counter(), 0.0
    for epoch, batches in enumerate(epoch_batches):
        for idx in batches:
            input_ids, mask = (t.to(dev) for t in padded_tensors(ids, idx, pad))
            pooled = mean_pooled(model, input_ids, mask)
            y_batch = y_all[torch.as_tensor(idx)].to(dev)
            value_t = _contrastive_loss(pooled, y_batch) if loss == "contrastive" else loss_fn(head(pooled), y_batch)
            value = optimiser_step(value_t, trainable, opt, sched)
            step += 1
            seen += len(idx)
            running = 0.9 * running + 0.1 * value if step > 1 else value
            if progress is not None:
                progress("fine-tuning", step, total)
        log.info("fine-tune epoch %d/%d: loss %.4f, %.1f texts/s", epoch + 1, epochs, running,
                 seen / (time.perf_counter() - t0))
    info = {**params, "source": str(model_dir), "device": dev, "texts": len(texts), "labels": k,
            "seconds": round(time.perf_counter() - t0, 1), "final_loss": round(running, 4),
            **({"soft_targets": True} if soft else {})}
    if base != "minilm":
        # a tuned student is stored as its trained layers in fp16 (cxlens.nlp.encoders._student.save_tuned_student):
        # round them now, so the vectors a head is fitted on are exactly those of the stored model
        info["layers"] = json.loads((model_dir / "finetune.json").read_text())["layers"]
        with torch.no_grad():
            for p in trainable:
                p.copy_(p.half().float())
    save_encoder_folder(model, tokenizer, out_dir, info)
    return out_dir


def store_tuned_encoder(tuned: str | Path, dest: str | Path) -> Path:
    """Put the tuned encoder folder ``tuned`` into a saved model's ``dest``; returns the folder to run it from.

    A tuned student is stored as its trained layers (fp16, about 7 MB;
    :func:`cxlens.nlp.encoders._student.save_tuned_student`) and keeps running from ``tuned``, whose weights are the
    same; any other tuned encoder is copied whole (about 90 MB) and runs from ``dest``.
    """
    from cxlens.nlp.encoders._student import is_student_folder, save_tuned_student

    tuned, dest = Path(tuned), Path(dest)
    if tuned.resolve() == dest.resolve():
        return dest
    if is_student_folder(tuned):
        save_tuned_student(tuned, dest)
        return tuned
    import shutil

    shutil.copytree(tuned, dest, dirs_exist_ok=True)
    return dest


def stored_tuned_encoder(dest: str | Path, *, model: str | Path) -> Path:
    """The folder to run the tuned encoder stored in ``dest`` (by :func:`store_tuned_encoder`) of the saved
    ``model``; a stored student is rebuilt once in the cache. :class:`DataError` when it is missing."""
    dest = Path(dest)
    if (dest / "student.json").is_file():
        from cxlens.nlp.encoders._student import student_model_dir

        return student_model_dir(dest)
    if not (dest / "config.json").is_file():
        raise DataError(f"{model}: the fine-tuned encoder folder {dest} is missing or incomplete.")
    return dest


def padded_tensors(ids: list[list[int]], idx: np.ndarray, pad: int):
    """Token ids ``ids[idx]`` as a padded ``(input_ids, attention_mask)`` pair of torch tensors."""
    import torch

    from cxlens.nlp.encoders._encoders import padded_batch

    return tuple(torch.from_numpy(a) for a in padded_batch(ids, idx, pad))


def mean_pooled(model, input_ids, mask):
    """Mean of the token states under the mask (not normalised): the sentence vector MiniLM is trained for."""
    import torch

    hidden = model(input_ids=input_ids, attention_mask=mask,
                   token_type_ids=torch.zeros_like(input_ids)).last_hidden_state
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)


def warmup_optimiser(groups, total: int):
    """AdamW (weight decay 0.01) with a linear warm-up over 10 % of ``total`` steps, then linear decay to zero."""
    import torch

    opt = torch.optim.AdamW(groups, weight_decay=0.01)
    warm = max(1, total // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm))))
    return opt, sched


def optimiser_step(loss_t, params, opt, sched) -> float:
    """One optimisation step (gradients clipped at norm 1); returns the loss value."""
    import torch

    loss_t.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    opt.step()
    sched.step()
    opt.zero_grad(set_to_none=True)
    return loss_t.detach().item()


def _load_base(device: str, threads: int | None, *, base: str = "minilm"):
    """``(folder, tokenizer, model)`` of the base encoder on ``device``; the student's embeddings frozen."""
    if base == "minilm":
        return load_teacher(device, threads)
    from cxlens.nlp.encoders._student import freeze_untrained, student_model_dir

    prepare_torch(device, threads)
    model_dir = student_model_dir()
    tokenizer, model = load_folder(model_dir, device)
    freeze_untrained(model)
    return model_dir, tokenizer, model
