"""Validating a raw table against its schema: every problem of every row at once.

:func:`validate_frame` parses each column to its canonical type (:mod:`cxlens.schema`), flags every
problem of every row (a row may have several reasons) and splits the frame into valid rows and
quarantined rows as given, each with its ``_reason``. :mod:`cxlens.io` reads the files and calls it.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from cxlens.errors import MissingColumnsError
from cxlens.schema import TableSchema

__all__ = ["REASON_COL", "ROW_COL", "SOURCE_COL", "validate_frame"]

ROW_COL = "_row"
SOURCE_COL = "_source"
REASON_COL = "_reason"
TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1", "1.0"})
FALSE_WORDS = frozenset({"false", "f", "no", "n", "0", "0.0"})


def _parse_datetime(raw: pd.Series) -> pd.Series:
    """ISO 8601 -> tz-aware UTC; naive means UTC; unparseable -> NaT."""
    if isinstance(raw.dtype, pd.DatetimeTZDtype):
        return raw.dt.tz_convert("UTC")
    if pd.api.types.is_datetime64_any_dtype(raw):
        return raw.dt.tz_localize("UTC")
    values = raw.astype("string").str.strip()
    parsed = pd.to_datetime(values, errors="coerce", utc=True, format="ISO8601")
    if parsed.isna().sum() > values.isna().sum():  # mixed forms: try element-wise parsing once
        retry = values[parsed.isna() & values.notna()]
        parsed.loc[retry.index] = pd.to_datetime(retry, errors="coerce", utc=True, format="mixed")
    return parsed


def _parse_bool(raw: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(raw):
        return raw.astype("boolean")
    words = raw.astype("string").str.strip().str.lower()
    out = pd.Series(pd.NA, index=raw.index, dtype="boolean")
    out[words.isin(TRUE_WORDS).fillna(False)] = True
    out[words.isin(FALSE_WORDS).fillna(False)] = False
    return out


def _strings(raw: pd.Series) -> pd.Series:
    """Any column as pandas' string dtype, blanks (after strip) as missing."""
    if pd.api.types.is_float_dtype(raw):  # 12.0 read from JSON/Parquet -> "12"
        whole = raw.notna() & (raw % 1 == 0)
        values = raw.astype("str").where(~whole, raw.where(whole).astype("Int64").astype("str"))
    else:
        values = raw.astype("str") if not pd.api.types.is_string_dtype(raw) or raw.dtype == object else raw
    values = values.where(raw.notna())
    stripped = values.str.strip()
    return stripped.where(stripped != "")


def _parse_column(raw: pd.Series, kind: str) -> pd.Series:
    """Parse one column to its canonical type; unparseable values become missing."""
    if kind == "datetime":
        return _parse_datetime(raw)
    if kind in ("float", "int"):
        return pd.to_numeric(raw, errors="coerce").astype("float64")
    if kind == "bool":
        return _parse_bool(raw)
    if kind == "id":
        return _strings(raw)
    if kind == "category":
        return _strings(raw).str.lower().str.replace(" ", "_", regex=False)
    if pd.api.types.is_string_dtype(raw) and raw.dtype != object:  # text: keep as read
        return raw
    return raw.astype("str").where(raw.notna())


def _present(raw: pd.Series, parsed: pd.Series, kind: str) -> pd.Series:
    """Non-missing, and for text not blank."""
    if kind in ("id", "category"):
        return parsed.notna()
    if pd.api.types.is_string_dtype(raw) or raw.dtype == object:
        return raw.notna() & (raw.astype("str").str.strip() != "").fillna(False)
    return raw.notna()


class _Problems:
    """Reasons per row, collected as (mask, reason) and joined only for the bad rows."""

    def __init__(self, index: pd.Index) -> None:
        self.index = index
        self.found: list[tuple[np.ndarray, str]] = []

    def flag(self, mask: pd.Series, reason: str) -> None:
        mask = np.asarray(pd.Series(mask, index=self.index).fillna(False), dtype=bool)
        if mask.any():
            self.found.append((mask, reason))

    def bad(self) -> np.ndarray:
        bad = np.zeros(len(self.index), dtype=bool)
        for mask, _ in self.found:
            bad |= mask
        return bad

    def reasons(self, bad: np.ndarray) -> list[str]:
        rows = np.flatnonzero(bad)
        texts: list[list[str]] = [[] for _ in rows]
        for mask, reason in self.found:
            for i in np.flatnonzero(mask[rows]):
                texts[i].append(reason)
        return ["; ".join(t) for t in texts]


def validate_frame(raw: pd.DataFrame, schema: TableSchema, *, source: str | None = None,
                   mapping: Mapping[str, str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Check ``raw`` against ``schema``, collecting every problem of every row.

    Returns ``(valid, quarantine)``.  Raises :class:`MissingColumnsError`
    (naming all of them) when required columns are absent.
    """
    frame = raw.rename(columns=dict(mapping or {})) if mapping else raw
    missing = [c for c in schema.required if c not in frame.columns]
    if missing:
        present = [c for c in frame.columns if c not in (ROW_COL, SOURCE_COL)]
        raise MissingColumnsError(table=schema.name, missing=missing, source=source, present=present)

    problems = _Problems(frame.index)
    parsed = frame.copy(deep=False)
    for col in schema.columns:
        if col.name not in frame:
            continue
        raw_col = frame[col.name]
        values = _parse_column(raw_col, col.kind)
        present_mask = _present(raw_col, values, col.kind)
        parsed[col.name] = values
        if col.required:
            problems.flag(~present_mask, f"{col.name} is empty")
        if col.kind in ("datetime", "float", "int", "bool"):
            problems.flag(present_mask & values.isna(), f"{col.name} is not a valid {col.kind}")
        if col.kind == "int":
            problems.flag(values.notna() & (values % 1 != 0), f"{col.name} is not a whole number")
        if col.minimum is not None:
            problems.flag(values < col.minimum, f"{col.name} is below {col.minimum:g}")
        if col.maximum is not None:
            problems.flag(values > col.maximum, f"{col.name} is above {col.maximum:g}")
        if col.allowed is not None:
            problems.flag(values.notna() & ~values.isin(col.allowed),
                          f"{col.name} is not one of {', '.join(col.allowed)}")

    for check in schema.checks:
        if all(c in parsed for c in check.columns):
            problems.flag(check.find_bad(parsed), check.description)

    if schema.key and schema.key in parsed:
        # among rows that are otherwise valid, the first occurrence of a key wins
        keys = parsed[schema.key]
        if problems.found:
            keys = keys.where(~problems.bad())
        problems.flag(keys.notna() & keys.duplicated(keep="first"),
                      f"duplicate {schema.key} (the first occurrence is kept)")

    bad = problems.bad()
    if not bad.any():
        return parsed.reset_index(drop=True), frame.iloc[0:0].assign(**{REASON_COL: pd.Series(dtype="str")})
    quarantine = frame.loc[bad].copy()
    quarantine[REASON_COL] = problems.reasons(bad)
    valid = parsed.loc[~bad].reset_index(drop=True)
    return valid, quarantine.reset_index(drop=True)
