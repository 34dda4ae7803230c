"""One contract for every text component, and a pipeline that runs them over a frame in batches.

A *text component* (request types, topics, sentiment, script-QA step detection) follows scikit-learn's
estimator contract: keyword-only ``__init__`` that only stores its parameters, ``fit(X, y=None) -> self``,
``predict(X)`` / ``predict_proba(X)``, learned state ending in ``_``, ``clone``-able. ``X`` is a batch of
texts: a list of strings or a :class:`~cxlens.nlp.Texts`, which carries the vectors with it. Each
component also declares the encoder it reads (``text_encoder()``) and says what it attaches to a batch
(``annotate(X) -> DataFrame``), like spaCy's ``predict`` / ``set_annotations`` split.

:class:`TextPipeline` runs components over a frame's text column: one :class:`~cxlens.nlp.Texts` per
batch, shared by every component, so each text is encoded once per batch and per encoder. Components are
registered by name (:func:`get_text_component`); the contract test runs over all of them.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from cxlens.errors import UnknownNameError
from cxlens.nlp._texts import Texts, VectorStore

__all__ = ["TextComponent", "TextPipeline", "get_text_component", "get_text_component_names"]

#: Every text component, by name: (module, class). Imported only when asked for.
_COMPONENTS = {
    "request_type": ("cxlens.nlp.classify", "TextClassifier"),
    "topics": ("cxlens.nlp.topics", "TopicModel"),
    "sentiment": ("cxlens.nlp.sentiment", "SentimentClassifier"),
    "qa_steps": ("cxlens.nlp.qa", "StepDetector"),
}


@runtime_checkable
class TextComponent(Protocol):
    """What :class:`TextPipeline` needs of a component (besides the estimator contract)."""

    def fit(self, X: Any, y: Any = None) -> Any: ...

    def predict(self, X: Any) -> Any: ...

    def text_encoder(self) -> Any: ...

    def annotate(self, X: Any) -> Any: ...


def get_text_component_names() -> list[str]:
    return sorted(_COMPONENTS)


def get_text_component(name: str) -> type:
    """The class of the text component registered as ``name``."""
    if name not in _COMPONENTS:
        raise UnknownNameError(kind="text component", name=name, known=_COMPONENTS)
    module, cls = _COMPONENTS[name]
    return getattr(importlib.import_module(module), cls)


def _column(step: str, column: str) -> str:
    if column == "label":
        return step
    return column if column.startswith(step) else f"{step}_{column}"


class TextPipeline:
    """Fitted components run over texts in batches; their columns are attached to the frame.

    Parameters
    ----------
    steps : ``[(name, fitted component), ...]``; a component's ``label`` column becomes ``name``, its other
        columns ``name_<column>`` (e.g. ``("request_type", clf)`` gives ``request_type`` and
        ``request_type_confidence``).
    batch_size : texts per batch (one :class:`~cxlens.nlp.Texts`, encoded once, shared by every step).
        Results do not depend on it.
    store : an optional :class:`~cxlens.nlp.VectorStore` the caller owns, to reuse vectors across batches
        (used when ``annotate`` gets plain strings; a :class:`~cxlens.nlp.Texts` brings its own store).
    """

    def __init__(self, steps: Sequence[tuple[str, Any]], *, batch_size: int = 256,
                 store: VectorStore | None = None) -> None:
        self.steps = steps
        self.batch_size = batch_size
        self.store = store

    def annotate(self, texts: Any) -> Any:
        """Every step's columns for ``texts`` (strings or a :class:`~cxlens.nlp.Texts`), one row per text."""
        import pandas as pd

        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}.")
        texts = texts if isinstance(texts, Texts) else Texts(Texts.of(texts), store=self.store)
        parts = []
        # an empty input runs the steps once on the empty batch: no rows, the same columns
        for start in range(0, max(len(texts), 1), self.batch_size):
            batch = texts[start:start + self.batch_size]
            columns = {}
            for name, component in self.steps:
                frame = component.annotate(batch)
                for col in frame.columns:
                    # the component's Series keeps its dtype (an object column of labels with None stays one,
                    # rather than being re-inferred per batch)
                    columns[_column(name, col)] = frame[col].reset_index(drop=True)
            parts.append(pd.DataFrame(columns))
        return pd.concat(parts, ignore_index=True)

    def run(self, frame: Any, *, text_col: str = "text") -> Any:
        """``frame`` plus the steps' columns; rows without text get nulls."""
        out = frame.copy()
        has_text = out[text_col].notna().to_numpy(dtype=bool)
        annotated = self.annotate(out.loc[has_text, text_col].astype(str).tolist())
        for col in annotated.columns:
            values = annotated[col].to_numpy()
            numeric = np.issubdtype(values.dtype, np.number) and values.dtype != bool
            full = np.full(len(out), np.nan if numeric else None, dtype="float64" if numeric else object)
            full[has_text] = values
            out[col] = full
        return out
