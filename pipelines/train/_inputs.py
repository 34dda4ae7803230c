"""What every training job shares: its input table, read from a file (or given) with its columns checked,
and the record of a fitted model."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from cxlens.errors import MissingColumnsError

__all__ = ["TrainedModel", "input_frame"]

#: What :func:`source_name` records for data given as a frame rather than a file.
FRAME_SOURCE = "<DataFrame>"


def source_name(data: str | os.PathLike[str] | pd.DataFrame) -> str:
    """The path of ``data`` as text (what a tracked run records), or ``<DataFrame>`` for a frame."""
    return FRAME_SOURCE if isinstance(data, pd.DataFrame) else str(data)


def input_frame(data: str | os.PathLike[str] | pd.DataFrame, *, columns: Sequence[str]) -> pd.DataFrame:
    """The table in ``data`` (a file or folder read with :func:`cxlens.io.read_frame`, or a frame as given),
    after checking that it has ``columns``: :class:`~cxlens.errors.MissingColumnsError` names every missing one."""
    if isinstance(data, pd.DataFrame):
        frame, source = data, None
    else:
        from cxlens.io import read_frame

        frame, _ = read_frame(data)
        source = str(data)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise MissingColumnsError(table="input", missing=missing, source=source,
                                  present=[c for c in frame.columns if not str(c).startswith("_")])
    return frame


@dataclass(frozen=True)
class TrainedModel:
    """A fitted model and what it was fitted on: ``n_texts`` texts of column ``text_col`` of ``data``
    (a path, or ``<DataFrame>``) labelled by ``label_col``, in ``fit_seconds``; ``source_col``: the column whose
    values grouped the calibration folds (``None``: folds stratified by label)."""

    model: Any
    n_texts: int
    fit_seconds: float
    data: str
    text_col: str
    label_col: str
    source_col: str | None = None
