"""What the KPI modules share: reading optional columns and turning masks into a Measure.

Validated frames carry canonical types, but scored and extra columns (``sentiment``,
``script_adherence``, ``auto_fail``, ``mrr_start``...) are kept as read, so a CSV
gives strings.  :func:`numbers` and :func:`flags` coerce them cheaply (no-ops on
columns that already have the right dtype).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxlens.metrics._partials import Rows
from cxlens.metrics._registry import Measure, Tables

__all__ = ["flags", "mean_measure", "numbers", "share_measure", "share_rows", "tickets_all", "true_words"]

_TRUE = ("true", "t", "yes", "y", "1", "1.0")
_FALSE = ("false", "f", "no", "n", "0", "0.0")


def numbers(frame: pd.DataFrame, column: str) -> pd.Series:
    """``frame[column]`` as float64 (NaN where missing or not a number; all-NaN when absent)."""
    if column not in frame:
        return pd.Series(np.nan, index=frame.index, dtype="float64")
    values = frame[column]
    if values.dtype == "float64":
        return values
    if pd.api.types.is_bool_dtype(values) and not isinstance(values.dtype, pd.BooleanDtype):
        return values.astype("float64")
    return pd.to_numeric(values, errors="coerce").astype("float64")


def true_words(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(known, true) masks of a column of true/false words."""
    words = values.astype("string").str.strip().str.lower()
    true = words.isin(_TRUE).to_numpy(dtype=bool, na_value=False)
    false = words.isin(_FALSE).to_numpy(dtype=bool, na_value=False)
    return true | false, true


def flags(frame: pd.DataFrame, column: str) -> tuple[np.ndarray, np.ndarray]:
    """(known, true) boolean masks of a flag column; both all-False when the column is absent."""
    if column not in frame:
        empty = np.zeros(len(frame), dtype=bool)
        return empty, empty
    values = frame[column]
    if pd.api.types.is_bool_dtype(values):
        known = values.notna().to_numpy()
        return known, values.to_numpy(dtype=bool, na_value=False)
    if pd.api.types.is_numeric_dtype(values):
        known = values.notna().to_numpy()
        return known, known & (values.fillna(0).to_numpy() != 0)
    return true_words(values)


def share_measure(hit: np.ndarray, eligible: np.ndarray, ids: pd.Series | None, *,
                  id_kind: str = "ticket_id") -> Measure:
    """``100 x count(hit & eligible) / count(eligible)``; ``None`` when nothing is eligible."""
    eligible = np.asarray(eligible, dtype=bool)
    n = int(eligible.sum())
    if not n:
        return Measure(value=None, n=0, id_kind=id_kind)
    hits = int((np.asarray(hit, dtype=bool) & eligible).sum())
    return Measure(value=100.0 * hits / n, n=n, ids=None if ids is None else ids[eligible], id_kind=id_kind)


def share_rows(table: str, hit: np.ndarray, eligible: np.ndarray) -> Rows:
    """The per-row form of :func:`share_measure`: a 0/1 hit over the eligible rows, x 100."""
    eligible = np.asarray(eligible, dtype=bool)
    return Rows(table, np.where(eligible, np.asarray(hit, dtype=bool), np.nan), scale=100.0)


def mean_measure(values: pd.Series, ids: pd.Series | None, *, id_kind: str = "ticket_id") -> Measure:
    """Mean of the non-null ``values``; ``None`` when there are none."""
    used = values.notna().to_numpy()
    n = int(used.sum())
    if not n:
        return Measure(value=None, n=0, id_kind=id_kind)
    return Measure(value=float(values.to_numpy()[used].mean()), n=n,
                   ids=None if ids is None else ids[used], id_kind=id_kind)


def tickets_all(tables: Tables) -> pd.DataFrame:
    """Every ticket of the group whatever its creation date (falls back to ``tables.tickets``)."""
    return tables.tickets_all if tables.tickets_all is not None else tables.tickets
