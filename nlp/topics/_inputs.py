"""The inputs of :class:`~cxlens.nlp.topics._model.TopicModel`: texts as a batch, embeddings checked and
normalised (or made by the encoder), the encoder's name, and labels made unique."""

from __future__ import annotations

from typing import Any

import numpy as np

from cxlens.errors import DataError
from cxlens.nlp import Texts
from cxlens.nlp.topics._clustering import normalise
from cxlens.nlp.topics._labels import embedding_text

__all__ = ["as_batch", "dedupe_labels", "embed", "encoder_name"]


def dedupe_labels(rows: list[dict[str, Any]]) -> None:
    """Two topics with the same label: extend the later one with its next keywords."""
    seen: set[str] = set()
    for row in rows:
        label = row["label"]
        extra = iter(row["keywords"][3:])
        while label in seen:
            nxt = next(extra, None)
            label = f"{label} / {nxt}" if nxt else f"{label} ({row['id']})"
        row["label"] = label
        seen.add(label)


def as_batch(X) -> Texts:
    if X is None:
        raise DataError("No texts given.")
    if isinstance(X, str):
        raise DataError("Pass a list of texts, not one string.")
    return Texts.of(X)


def embed(texts: Texts | None, embeddings: np.ndarray | None, encoder) -> np.ndarray:
    if embeddings is not None:
        x = np.asarray(embeddings, dtype=np.float32)
        if x.ndim != 2:
            raise DataError(f"embeddings must be a 2-d array (messages x dims); got shape {x.shape}.")
        if texts is not None and len(texts) != len(x):
            raise DataError(f"{len(texts)} texts but {len(x)} embedding rows.")
        return normalise(x)
    if not texts:
        raise DataError("No texts to model: the input is empty.")
    return normalise(texts.map(embedding_text).vectors(encoder))


def encoder_name(param: Any, encoder: Any) -> str | None:
    if isinstance(param, str):
        return param
    if encoder is None:
        return None
    return str(getattr(encoder, "name", type(encoder).__name__))
