"""The sentiment training job: a sentiment head (optionally on a fine-tuned encoder) fitted on labelled posts,
and its logged run.

``cxlens train sentiment`` parses its arguments, calls :func:`trained_sentiment`, saves the model and,
unless told not to, calls :func:`tracked_sentiment_run`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from cxlens.pipelines.train._inputs import TrainedModel, input_frame, source_name

__all__ = ["tracked_sentiment_run", "trained_sentiment"]


def trained_sentiment(data: str | os.PathLike[str] | pd.DataFrame, *, text_col: str, label_col: str,
                      encoder: str = "minilm", C: float = 2.0, lexicon_features: bool = True,
                      finetune_epochs: int = 0, learning_rate: float = 5e-5, device: str = "auto",
                      progress: Callable[[str, int, int], None] | None = None) -> TrainedModel:
    """A :class:`~cxlens.nlp.sentiment.SentimentClassifier` fitted on the labelled posts in ``data`` (a file, a folder
    of files, or a frame); rows without a label are left out.

    Labels are negative/neutral/positive (also neg/neu/pos or -1/0/1). ``lexicon_features``: the four lexicon
    numbers next to the encoder vector. ``finetune_epochs > 0`` tunes the encoder on the labels first
    (``learning_rate``, ``device``). ``progress(stage, done, total)`` is called as fitting goes.
    """
    from cxlens.nlp.sentiment import SentimentClassifier

    frame = input_frame(data, columns=[text_col, label_col])
    frame = frame[frame[label_col].notna()]
    texts = frame[text_col].fillna("").astype(str).tolist()
    t0 = time.perf_counter()
    model = SentimentClassifier(encoder=encoder, C=C, lexicon_features=lexicon_features,
                                finetune_epochs=finetune_epochs, learning_rate=learning_rate,
                                device=device).fit(texts, frame[label_col].tolist(), progress=progress)
    return TrainedModel(model=model, n_texts=len(texts), fit_seconds=time.perf_counter() - t0,
                        data=source_name(data), text_col=text_col, label_col=label_col)


def tracked_sentiment_run(trained: TrainedModel, *, model_dir: str | Path, experiment: str = "cxlens-sentiment",
                          registered_name: str | None = None, tracking_uri: str | None = None):
    """The MLflow run of a trained sentiment model (:class:`~cxlens.tracking.TrackedRun`): its parameters and
    data, its size and fit time, the saved ``model_dir`` and the model, registered as ``registered_name``."""
    from cxlens.tracking import log_run

    model = trained.model
    params = dict(model.get_params())
    params.update({"data": trained.data, "text_col": trained.text_col, "label_col": trained.label_col})
    return log_run(experiment=experiment, params=params,
                   metrics={"n_texts": trained.n_texts, "fit_seconds": trained.fit_seconds,
                            "temperature": model.temperature_},
                   artifacts=[model_dir], model=model, registered_name=registered_name,
                   tracking_uri=tracking_uri, tags={"cxlens.model": "sentiment"})
