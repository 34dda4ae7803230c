"""A :class:`~cxlens.nlp.classify.TextClassifier` on disk, without pickle.

A saved classifier is a folder:

* ``params.json``: the format (``cxlens.text_classifier.v2``), the constructor parameters, the labels,
  temperatures and thresholds, the scikit-learn version;
* ``head.json`` + ``head.npz``: the fitted heads (logistic regressions, one-vs-rest, TF-IDF vocabularies)
  and the ``min_similarity`` anchors, written by :func:`cxlens._estimator_store.save_state`: JSON and
  arrays only, read back with ``np.load(allow_pickle=False)``, so loading runs no code from the file;
* ``encoder/``: the fine-tuned encoder (``head="finetune"`` only; safetensors weights).

Folders written by cxlens before this format (``cxlens.text_classifier.v1``) keep the heads in
``head.joblib``, a pickle: :func:`read_classifier` loads one only with ``trust_model=True`` and otherwise
raises :class:`~cxlens.errors.UntrustedModelError` before reading it. Saving such a model again writes
the new format (and removes the folder's old ``head.joblib``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from cxlens._estimator_store import load_pickle, load_state, save_state
from cxlens.errors import ConfigError, DataError

__all__ = ["CLASSIFIER_FILES", "FORMAT", "HEAD_FILES", "LEGACY_HEAD", "legacy_heads", "read_classifier",
           "write_classifier"]

FORMAT = "cxlens.text_classifier.v2"
LEGACY_FORMAT = "cxlens.text_classifier.v1"
_STEM = "head"
#: the files of a saved classifier's heads (besides ``params.json``)
HEAD_FILES = (f"{_STEM}.json", f"{_STEM}.npz")
#: every file of a saved classifier (a fine-tuned encoder adds its ``encoder/`` folder)
CLASSIFIER_FILES = ("params.json", *HEAD_FILES)
#: the pickled heads of a folder written before v2
LEGACY_HEAD = "head.joblib"
RESAVE = ("save it again without pickle (in Python: cxlens.nlp.classify.load_classifier(folder, trust_model=True)"
          ".save(folder)) or train it again with `cxlens train classifier`")


def write_classifier(model: Any, path: str | Path) -> Path:
    """Write the fitted ``model`` into the folder ``path`` (created): ``params.json``, ``head.json``, ``head.npz``."""
    import sklearn

    model._check_fitted()
    if not isinstance(model.encoder, str):
        raise ConfigError("Only classifiers whose encoder is a registered name can be saved.")
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    save_state({"heads": model.heads_, "anchors": model.anchors_}, path, _STEM)
    tuned = getattr(model, "encoder_dir_", None)
    if tuned is not None:
        from cxlens.nlp.encoders import store_tuned_encoder

        model.encoder_dir_ = store_tuned_encoder(tuned, path / "encoder")
    meta = {
        "format": FORMAT,
        "params": model.get_params(),
        "classes": [str(c) for c in model.classes_],
        "temperatures": model.temperatures_,
        "thresholds": [float(t) for t in model.thresholds_],
        "encoder_dir": "encoder" if tuned is not None else None,
        "sklearn_version": sklearn.__version__,
    }
    (path / "params.json").write_text(json.dumps(meta, indent=2, default=str) + "\n")
    (path / LEGACY_HEAD).unlink(missing_ok=True)  # the pickled heads of an older save, replaced now
    return path


def legacy_heads(path: str | Path) -> bool:
    """Whether the folder ``path`` is a classifier saved before v2: ``params.json`` and pickled heads only."""
    path = Path(path)
    return ((path / "params.json").is_file() and (path / LEGACY_HEAD).is_file()
            and not all((path / name).is_file() for name in HEAD_FILES))


def read_classifier(path: str | Path, cls: type, *, trust_model: bool = False) -> Any:
    """The classifier (an instance of ``cls``) saved in the folder ``path``; see the module docstring."""
    path = Path(path)
    meta_file = path / "params.json"
    safe = all((path / name).is_file() for name in HEAD_FILES)
    legacy = (path / LEGACY_HEAD).is_file()
    if not meta_file.is_file() or not (safe or legacy):
        raise DataError(f"{path} is not a saved cxlens classifier (expected params.json, head.json and head.npz).")
    meta = json.loads(meta_file.read_text())
    expected = FORMAT if safe else LEGACY_FORMAT
    if meta.get("format") != expected:
        raise DataError(f"{meta_file}: unknown model format {meta.get('format')!r} (expected {expected}).")
    if safe:
        state = load_state(path, _STEM)
    else:
        state = load_pickle(path / LEGACY_HEAD, trust_model=trust_model, resave=RESAVE)
    if not isinstance(state, dict) or not isinstance(state.get("heads"), dict):
        raise DataError(f"{path}: the saved heads are not a cxlens classifier's; train the model again.")
    model = cls(**meta["params"])
    model.heads_ = state["heads"]
    model.anchors_ = state.get("anchors")
    model.classes_ = np.asarray(meta["classes"], dtype=object)
    model.temperatures_ = {k: float(v) for k, v in meta["temperatures"].items()}
    model.temperature_ = float(np.mean([t for k, t in model.temperatures_.items() if k != "output"]))
    model.thresholds_ = np.asarray(meta["thresholds"], dtype=float)
    model.encoder_dir_ = None
    if meta.get("encoder_dir"):
        from cxlens.nlp.encoders import stored_tuned_encoder

        model.encoder_dir_ = stored_tuned_encoder(path / meta["encoder_dir"], model=path)
    model.n_features_in_ = 1
    return model
