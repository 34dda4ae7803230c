"""What every training job shares: its input table, read from a file (or given) with its columns checked,
and the record of a fitted model."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from cxlens.errors import MissingColumnsError

__all__ = ["TrainedModel", "input_frame"]

log = logging.getLogger(__name__)

#: What :func:`source_name` records for data given as a frame rather than a file.
FRAME_SOURCE = "<DataFrame>"


def source_name(data: str | os.PathLike[str] | pd.DataFrame) -> str:
    """The path of ``data`` as text (what a tracked run records), or ``<DataFrame>`` for a frame."""
    return FRAME_SOURCE if isinstance(data, pd.DataFrame) else str(data)


def input_frame(data: str | os.PathLike[str] | pd.DataFrame, *, columns: Sequence[str],
                quarantine: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """The table in ``data`` (a file or folder read with :func:`cxlens.io.read_frame`, or a frame as given),
    after checking that it has ``columns``: :class:`~cxlens.errors.MissingColumnsError` names every missing one.

    Records that cannot be read (an unbalanced quote, a line that is not valid text) are left out with a warning
    that counts them and gives the commonest reasons; ``quarantine``: a file they are written to, with the
    reason and the raw line of each."""
    if isinstance(data, pd.DataFrame):
        frame, source = data, None
    else:
        from cxlens.io import read_frame

        frame, unreadable = read_frame(data)
        source = str(data)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise MissingColumnsError(table="input", missing=missing, source=source,
                                  present=[c for c in frame.columns if not str(c).startswith("_")])
    if source is not None and len(unreadable):
        _report_unreadable(unreadable, source=source, quarantine=quarantine, used=len(frame))
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


def _report_unreadable(unreadable: pd.DataFrame, *, source: str, quarantine, used: int) -> None:
    from cxlens.io import REASON_COL, write_table

    reasons = "; ".join(f"{reason} ({n})" for reason, n in unreadable[REASON_COL].value_counts().head(3).items())
    where = (f"; written to {write_table(unreadable, quarantine)}" if quarantine is not None else
             "; fix them and run again to include them")
    log.warning("%s: %d of %d records could not be read and are left out: %s%s", source, len(unreadable),
                used + len(unreadable), reasons, where)
