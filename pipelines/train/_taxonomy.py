"""Taxonomy jobs: a team's taxonomy file as a classifier, trained on labelled files, and its review list.

* :func:`taxonomy_classifier` -- the classifier a taxonomy file allows as it is (trained, few-shot or zero-shot).
* :func:`trained_taxonomy_classifier` -- one trained on labelled files (rows with an empty label are skipped,
  so a half-filled review file can be fed back as it is).
* :func:`review_list` -- the messages of a file most worth a human label (:mod:`._review`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from cxlens.pipelines.train._inputs import TrainedModel, input_frame, source_name
from cxlens.pipelines.train._review import review_candidates

__all__ = ["labelled_texts", "review_list", "taxonomy_classifier", "trained_taxonomy_classifier"]

log = logging.getLogger(__name__)


def taxonomy_classifier(taxonomy: str | Path | None = None, *, mode: str = "auto", trust_model: bool = False,
                        secondary_min: float | None = 0.25):
    """A fitted :class:`~cxlens.nlp.classify.TaxonomyClassifier` of ``taxonomy`` (default: the shipped one)."""
    from cxlens.nlp.classify import TaxonomyClassifier

    return TaxonomyClassifier(taxonomy=taxonomy, mode=mode, trust_model=trust_model,
                              secondary_min=secondary_min).fit()


def labelled_texts(data: Sequence, *, text_col: str, label_col: str) -> tuple[list[str], list[str]]:
    """``(texts, labels)`` of every row with a label in the files (or frames) of ``data``."""
    texts, labels, _ = _labelled_rows(data, text_col=text_col, label_col=label_col)
    return texts, labels


def _labelled_rows(data: Sequence, *, text_col: str, label_col: str,
                   source_col: str | None = None) -> tuple[list[str], list[str], list | None]:
    """:func:`labelled_texts` and the ``source_col`` value of each of those rows (``None`` without it)."""
    texts: list[str] = []
    labels: list[str] = []
    sources: list | None = [] if source_col else None
    for item in data:
        frame = input_frame(item, columns=[text_col, label_col, *([source_col] if source_col else [])])
        label = frame[label_col].fillna("").astype(str).str.strip()
        keep = label != ""
        if (~keep).any():
            log.info("%s: %d rows without a label skipped", source_name(item), int((~keep).sum()))
        texts += frame.loc[keep, text_col].fillna("").astype(str).tolist()
        labels += label[keep].tolist()
        if sources is not None:
            sources += frame.loc[keep, source_col].tolist()  # as read: GroupFolds turns them into keys
    return texts, labels, sources


def trained_taxonomy_classifier(taxonomy: str | Path | None, data: Sequence, *, text_col: str, label_col: str,
                                encoder: str = "minilm", train_options: dict | None = None,
                                source_col: str | None = None) -> TrainedModel:
    """A :class:`~cxlens.nlp.classify.TaxonomyClassifier` trained on the labelled rows of ``data`` (files or
    frames); every label must be one of the taxonomy's (or its ``other`` label). ``source_col``: confidences
    calibrated for sources left out of training (:func:`cxlens.pipelines.train.trained_classifier`)."""
    from cxlens.nlp.classify import TaxonomyClassifier

    texts, labels, sources = _labelled_rows(data, text_col=text_col, label_col=label_col, source_col=source_col)
    model = TaxonomyClassifier(taxonomy=taxonomy, mode="trained", encoder=encoder, train_options=train_options)
    t0 = time.perf_counter()
    model.fit(texts, labels, calibration_groups=sources)
    return TrainedModel(model=model, n_texts=len(texts), fit_seconds=time.perf_counter() - t0,
                        data=", ".join(source_name(d) for d in data), text_col=text_col, label_col=label_col,
                        source_col=source_col)


def review_list(model, data, *, text_col: str, id_col: str | None = None, n: int = 200) -> pd.DataFrame:
    """The ``n`` messages of ``data`` most worth a human label (see :func:`._review.review_candidates`)."""
    frame = input_frame(data, columns=[text_col] + ([id_col] if id_col else []))
    texts = frame[text_col].fillna("").astype(str).tolist()
    ids = frame[id_col].tolist() if id_col else None
    return review_candidates(model, texts, n=n, ids=ids)
