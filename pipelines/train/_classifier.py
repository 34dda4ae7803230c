"""The text-classifier jobs: train one on labelled texts, log the run, evaluate a model, label texts with it.

Plain functions named for what they return (Hamilton style); ``cxlens train classifier``,
``cxlens train request-types``, ``cxlens evaluate`` and ``cxlens predict`` parse their arguments,
call them and write the results.

* :func:`trained_classifier` -- a fitted :class:`~cxlens.nlp.classify.TextClassifier` on a labelled
  file or frame (single-label, or multi-label from ``a|b`` cells or several 0/1 columns).
* :func:`tracked_classifier_run` -- the run logged to MLflow (params, metrics, the saved folder, the model).
* :func:`saved_classifier` -- a saved model folder, or the shipped request-type model.
* :func:`classifier_evaluation` -- accuracy, F1, per-class report and confusion of a model on labelled data.
* :func:`predicted_labels` -- the input table plus the predicted label(s) and confidence.
* :func:`trained_request_types` -- the shipped request-type model retrained from the public data sets.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from cxlens.pipelines.train._inputs import TrainedModel, input_frame, source_name

__all__ = ["classifier_evaluation", "classifier_labels", "label_columns", "predicted_labels", "saved_classifier",
           "tracked_classifier_run", "trained_classifier", "trained_request_types"]

#: Names that mean the shipped request-type model in :func:`saved_classifier`.
SHIPPED_NAMES = ("request-type", "request_type", "default")

Data = str | os.PathLike[str] | pd.DataFrame


def label_columns(label_col: str) -> list[str]:
    """The label column(s) named by ``label_col``: one name, or several 0/1 columns as ``a,b,c``."""
    return [c.strip() for c in label_col.split(",") if c.strip()]


def classifier_labels(frame: pd.DataFrame, label_col: str, *, multi_label: bool, sep: str = "|"):
    """The targets of ``frame``. Single-label: the column's values. Multi-label: a tuple of labels per row,
    from ``a|b`` cells (split on ``sep``) or from several 0/1 columns (``label_col="a,b,c"``)."""
    cols = label_columns(label_col)
    if multi_label and len(cols) > 1:
        flags = frame[cols].fillna(0).astype(str).isin(["1", "1.0", "True", "true", "yes"])
        return [tuple(c for c in cols if row[c]) for _, row in flags.iterrows()]
    values = frame[cols[0]].fillna("").astype(str)
    if multi_label:
        return [tuple(v.strip() for v in cell.split(sep) if v.strip()) for cell in values]
    return values.to_numpy(dtype=object)


def _texts(frame: pd.DataFrame, text_col: str) -> list[str]:
    return frame[text_col].fillna("").astype(str).tolist()


def trained_classifier(data: Data, *, text_col: str, label_col: str, multi_label: bool = False,
                       label_sep: str = "|", head: str = "logreg", encoder: str = "minilm",
                       threshold: float | str | None = None, C: float | None = None, epochs: int = 4,
                       learning_rate: float = 5e-5, loss: str = "cross-entropy", device: str = "auto",
                       random_state: int = 0, source_col: str | None = None,
                       progress: Callable[[str, int, int], None] | None = None) -> TrainedModel:
    """A :class:`~cxlens.nlp.classify.TextClassifier` fitted on the labelled texts in ``data`` (a file,
    a folder of files, or a frame).

    ``head``: ``logreg`` (on the encoder's vectors), ``tfidf``, ``ensemble`` or ``finetune`` (tunes the
    encoder itself first: ``epochs``, ``learning_rate``, ``loss``, ``device``). ``threshold``: the
    confidence below which the label is ``other`` (multi-label: the per-label keep threshold, or ``"auto"``).
    ``source_col``: a column naming where each text comes from (a channel, a brand, a data set); the
    confidences are then calibrated on predictions for sources left out of training, so that they hold on a
    source the model has not seen (``TextClassifier.fit(calibration_groups=...)``; single-label).
    ``progress(stage, done, total)`` is called as fitting goes.
    """
    from cxlens.nlp.classify import TextClassifier

    frame = input_frame(data, columns=[text_col, *label_columns(label_col), *([source_col] if source_col else [])])
    y = classifier_labels(frame, label_col, multi_label=multi_label, sep=label_sep)
    texts = _texts(frame, text_col)
    model = TextClassifier(encoder=encoder, head=head, multi_label=multi_label, threshold=threshold, C=C,
                           epochs=epochs, learning_rate=learning_rate, device=device, random_state=random_state,
                           finetune_options={"loss": loss} if head == "finetune" else None)
    t0 = time.perf_counter()
    groups = None if source_col is None else frame[source_col].to_numpy(dtype=object)  # keys: GroupFolds
    model.fit(texts, y, calibration_groups=groups, progress=progress)
    return TrainedModel(model=model, n_texts=len(texts), fit_seconds=time.perf_counter() - t0,
                        data=source_name(data), text_col=text_col, label_col=label_col, source_col=source_col)


def _calibration_groups(trained: TrainedModel) -> str:
    """What the run's confidences were calibrated on: the source column when its groups were used, else which
    folds stood in (a ``--source-col`` with one source, or whose held-out sources take a label away, falls back)."""
    used = getattr(trained.model, "calibration_folds_", None)
    if trained.source_col and used == "groups":
        return trained.source_col
    asked = f"; --source-col {trained.source_col} could not be used" if trained.source_col else ""
    return f"none ({used or 'unknown'} folds{asked})"


def tracked_classifier_run(trained: TrainedModel, *, model_dir: str | Path, experiment: str = "cxlens-classifier",
                           registered_name: str | None = None, tracking_uri: str | None = None):
    """The MLflow run of a trained classifier (:class:`~cxlens.tracking.TrackedRun`): its parameters, data and
    classes, its size and fit time, the saved ``model_dir`` and the model itself (sklearn flavour, so also a
    pyfunc), registered as ``registered_name`` when given."""
    from cxlens.tracking import log_run

    model = trained.model
    params = dict(model.get_params())
    params.update({"data": trained.data, "text_col": trained.text_col, "label_col": trained.label_col,
                   "classes": ",".join(map(str, model.classes_)),
                   "calibration_groups": _calibration_groups(trained)})
    metrics = {"n_texts": trained.n_texts, "n_labels": len(model.classes_), "fit_seconds": trained.fit_seconds,
               "temperature": model.temperature_}
    return log_run(experiment=experiment, params=params, metrics=metrics, artifacts=[model_dir], model=model,
                   registered_name=registered_name, tracking_uri=tracking_uri,
                   tags={"cxlens.model": "text_classifier"})


def saved_classifier(ref: str | Path, *, trust_model: bool = False):
    """The classifier saved in folder ``ref`` (by ``TextClassifier.save``), or the shipped request-type model
    for ``"request-type"`` (also ``request_type``, ``default``). ``trust_model``: load a folder of an older
    cxlens whose heads are pickled (``head.joblib``; see :func:`cxlens.nlp.classify.load_classifier`)."""
    if ref in SHIPPED_NAMES:
        from cxlens.nlp.classify import load_default_model

        return load_default_model()
    from cxlens.nlp.classify import load_classifier

    return load_classifier(ref, trust_model=trust_model)


def classifier_evaluation(model, data: Data, *, text_col: str, label_col: str, label_sep: str = "|",
                          quarantine: str | Path | None = None) -> dict:
    """Accuracy, macro-F1, per-class report and confusion matrix of ``model`` on the labelled texts in ``data``
    (see :func:`cxlens.nlp.classify.evaluate_classifier`; write it with ``write_evaluation``); ``quarantine``: where
    records of ``data`` that cannot be read are written (:func:`input_frame`)."""
    from cxlens.nlp.classify import evaluate_classifier

    frame = input_frame(data, columns=[text_col, *label_columns(label_col)], quarantine=quarantine)
    y = classifier_labels(frame, label_col, multi_label=model.multi_label, sep=label_sep)
    return evaluate_classifier(model, _texts(frame, text_col), y)


def predicted_labels(model, data: Data, *, text_col: str, label_col_name: str = "label",
                     quarantine: str | Path | None = None) -> pd.DataFrame:
    """The table in ``data`` (without ``_source`` / ``_row``) plus ``label_col_name`` and ``confidence``.

    Multi-label models add one 0/1 column and one ``<label>_confidence`` column per label, and the kept
    labels joined by ``|``. ``quarantine``: where records of ``data`` that cannot be read are written.
    """
    frame = input_frame(data, columns=[text_col], quarantine=quarantine)
    texts = _texts(frame, text_col)
    out = frame[[c for c in frame.columns if c not in ("_source", "_row")]].copy()
    if model.multi_label:
        proba = model.predict_proba(texts)
        keep = proba >= model.thresholds_
        for j, label in enumerate(model.classes_):
            out[str(label)] = keep[:, j].astype(int)
            out[f"{label}_confidence"] = proba[:, j].round(4)
        out[label_col_name] = ["|".join(s) for s in model.predict_label_sets(texts)]
        out["confidence"] = proba.max(axis=1).round(4)
    else:
        if hasattr(model, "annotate"):
            notes = model.annotate(texts)
        else:
            labels, conf = model.predict_confidence(texts)
            notes = pd.DataFrame({"label": labels, "confidence": conf})
        out[label_col_name] = notes["label"].to_numpy()
        out["confidence"] = notes["confidence"].round(4).to_numpy()
        if "secondary" in notes:
            out["secondary"] = notes["secondary"].to_numpy()
            out["secondary_confidence"] = notes["secondary_confidence"].round(4).to_numpy()
    return out


def trained_request_types(data_dir: str | Path, *, out_dir: str | Path, threshold: float | None = None,
                          C: float | None = None, min_similarity: float | None = None,
                          reviewed: list | None = None, text_col: str = "text",
                          label_col: str = "label") -> dict[str, Any]:
    """Retrain the request-type model from ``data_dir`` (``bitext/``, ``banking77/``, ``clinc150/``,
    ``ibm_twitter_cdp/``, plus the messages shipped with cxlens) into ``out_dir``, with its held-out metrics in
    ``out_dir/metrics.json`` and the default taxonomy file beside it; returns the metrics. ``None`` keeps the
    shipped settings (:data:`cxlens.nlp.classify.DEFAULT_PARAMS`). ``reviewed``: filled review files (their
    ``text_col`` / ``label_col``; rows without a label are skipped) added to the training data."""
    import json

    from cxlens.nlp.classify import DEFAULT_TAXONOMY, load_taxonomy, train_default_model, write_taxonomy

    overrides = {k: v for k, v in {"threshold": threshold, "C": C, "min_similarity": min_similarity}.items()
                 if v is not None}
    extra = None
    if reviewed:
        from cxlens.pipelines.train._taxonomy import labelled_texts

        texts, labels = labelled_texts(reviewed, text_col=text_col, label_col=label_col)
        extra = pd.DataFrame({"text": texts, "request_type": labels})
    _, metrics = train_default_model(data_dir, out_dir=out_dir, reviewed=extra, **overrides)
    out = Path(out_dir)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2, default=str) + "\n")
    if not (out / "taxonomy.yaml").is_file():
        write_taxonomy(load_taxonomy(DEFAULT_TAXONOMY), out / "taxonomy.yaml", model=".")
    return metrics
