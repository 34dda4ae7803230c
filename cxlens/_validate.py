"""Validating a raw table against its schema: every problem of every row at once.

:func:`validate_frame` parses each column to its canonical type (:mod:`cxlens.schema`), flags every
problem of every row (a row may have several reasons) and splits the frame into valid rows and
quarantined rows as given, each with its ``_reason``. :mod:`cxlens.io` reads the files and calls it.

Values that would parse but break later are refused too: timestamps outside a plausible range, bare
numbers and day-month dates whose order the column does not show (:class:`ValueRules` sets both),
non-finite numbers, and control characters in ids and categories.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cxlens._keys import id_hashes
from cxlens._string_bytes import may_change_case, may_hold_control, may_need_strip
from cxlens.errors import DuplicateColumnsError, ConfigProblem, InvalidConfigError, MissingColumnsError
from cxlens.schema import Column, TableSchema

__all__ = ["REASON_COL", "ROW_COL", "SOURCE_COL", "ValueRules", "check_columns", "validate_frame"]

ROW_COL = "_row"
SOURCE_COL = "_source"
REASON_COL = "_reason"
TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1", "1.0"})
FALSE_WORDS = frozenset({"false", "f", "no", "n", "0", "0.0"})

#: the default earliest timestamp; the default latest is one year from today (UTC)
EARLIEST = "1990-01-01"
_FORMAT_EXAMPLE = "e.g. '%d.%m.%Y' or '%m/%d/%Y %H:%M'"
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_DAY_MONTH_START = r"\d{1,2}[./ -]\d{1,2}[./ -]\d{2,4}(?:[ T]|$)"
_DAY_MONTH = r"^(?P<a>\d{1,2})(?P<sep>[./ -])(?P<b>\d{1,2})(?P<sep2>[./ -])(?P<y>\d{4}|\d{2})(?P<rest>[ T].*)?$"
_CONTROL = r"[\x00-\x1f\x7f]"
_NAN_WORDS = ("nan", "+nan", "-nan")


# ---------------------------------------------------------------- options


@dataclass(frozen=True)
class ValueRules:
    """How timestamps that could be read more than one way are read, and which ones are plausible.

    date_format: a strptime format (``'%d.%m.%Y'``, ``'%m/%d/%Y %H:%M'``) for timestamps that are not
        ISO 8601 (ISO 8601 is always accepted). Without it a day-month-year date is read in the order
        its column shows (``13.03.2025`` is day first); one that could be either (``04.03.2025``), or
        has a two-digit year, is quarantined, and so is a bare number (``1700000000``).
    dates_between: ``(start, end)`` or ``"START..END"``, ISO 8601 dates or timestamps, both included
        (an end given as a date includes that day); a timestamp outside is quarantined. ``None`` (or an
        empty side) is the default: 1990-01-01 to one year from today (UTC).

    Options that cannot work raise :class:`~cxlens.errors.InvalidConfigError`, every problem at once.
    """

    date_format: str | None = None
    dates_between: tuple[Any, Any] | str | None = None

    def __post_init__(self) -> None:
        given = self.dates_between
        between, problems = _split_between(given)
        object.__setattr__(self, "dates_between", between)
        if between is not None and not problems:
            problems += _order_problems(self, given)
        problems += _format_problems(self.date_format)
        if problems:
            raise InvalidConfigError(problems, subject="value rules")

    def date_range(self) -> tuple[pd.Timestamp, pd.Timestamp, str]:
        """``(earliest, latest, "START..END")``: the timestamps allowed, both included, in UTC."""
        start, end = self.dates_between or (None, None)
        if end is None:
            end = (pd.Timestamp.now(tz="UTC").normalize() + pd.DateOffset(years=1)).date().isoformat()
        start = EARLIEST if start is None else start
        return _bound(start, end=False), _bound(end, end=True), f"{_text(start)}..{_text(end)}"


def _text(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value).strip()


def _bound(value: Any, *, end: bool) -> pd.Timestamp:
    """A bound as UTC; an end given as a date is the last instant of that day. ValueError if not ISO 8601."""
    text = _text(value)
    if isinstance(value, (bool, int, float)) or not _DAY.match(text):
        raise ValueError(text)
    stamp = pd.to_datetime(text, format="ISO8601", utc=True)
    if pd.isna(stamp):
        raise ValueError(text)
    return stamp + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1) if end and _DAY.fullmatch(text) else stamp


def _split_between(value: Any) -> tuple[tuple[Any, Any] | None, list[ConfigProblem]]:
    """``dates_between`` as a ``(start, end)`` tuple (``None`` for a default side), and its problems."""
    if value is None:
        return None, []
    how = "give (start, end) as ISO 8601 dates, e.g. ('1990-01-01', '2030-12-31'), or 'START..END'"
    if isinstance(value, str):
        if value.count("..") != 1:
            return None, [ConfigProblem("dates_between", value, f"not START..END: {how}.")]
        parts: Any = value.split("..")
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        parts = value
    else:
        return None, [ConfigProblem("dates_between", value, f"not a pair of dates: {how}.")]
    between = tuple(None if p is None or (isinstance(p, str) and not p.strip()) else p for p in parts)
    if between == (None, None):
        return None, []
    problems = []
    for side, bound in zip(("start", "end"), between):
        if bound is None:
            continue
        try:
            _bound(bound, end=side == "end")
        except (ValueError, TypeError):
            problems.append(ConfigProblem("dates_between", value, f"the {side} {_text(bound)!r} is not an ISO 8601 "
                                          "date or timestamp (YYYY-MM-DD, optionally with a time)."))
    return between, problems


def _order_problems(rules: ValueRules, given: Any) -> list[ConfigProblem]:
    earliest, latest, span = rules.date_range()
    if earliest <= latest:
        return []
    return [ConfigProblem("dates_between", given, f"the start is after the end ({span}): give START..END "
                          "with the earlier date first (an empty side keeps its default).")]


def _format_problems(fmt: Any) -> list[ConfigProblem]:
    """A usable ``date_format`` writes and reads back the day, month and year of a date."""
    if fmt is None:
        return []
    if not isinstance(fmt, str) or "%" not in fmt:
        return [ConfigProblem("date_format", fmt, f"not a strptime format: give day, month and year directives, "
                              f"{_FORMAT_EXAMPLE} (ISO 8601 is always read without one).")]
    sample = pd.Timestamp("2025-11-23 13:45:56", tz="UTC")
    try:
        back = pd.to_datetime(pd.Series([sample.strftime(fmt)]), format=fmt, utc=True)[0]
        ok = back.date() == sample.date()
    except (ValueError, TypeError, OverflowError):
        ok = False
    if ok:
        return []
    return [ConfigProblem("date_format", fmt, "cannot write and read back a whole date (2025-11-23): give day, "
                          f"month and year directives, {_FORMAT_EXAMPLE}.")]


# ---------------------------------------------------------------- parsing

Found = list[tuple[np.ndarray, str]]  # (bad rows, reason): why values of a column were not read


def _utc(values: pd.Series, fmt: str) -> pd.Series:
    return pd.to_datetime(values, errors="coerce", utc=True, format=fmt).astype("datetime64[us, UTC]")


def _parse_datetime(raw: pd.Series, name: str, rules: ValueRules) -> tuple[pd.Series, Found]:
    """ISO 8601 (or ``rules.date_format``) -> tz-aware UTC; naive means UTC; unread -> NaT, with the reasons
    found for bare numbers and day-month dates of unknown order."""
    if isinstance(raw.dtype, pd.DatetimeTZDtype):
        return raw.dt.tz_convert("UTC"), []
    if pd.api.types.is_datetime64_any_dtype(raw):
        return raw.dt.tz_localize("UTC"), []
    values = raw.astype("string").str.strip().reset_index(drop=True)
    values = values.where((values != "") & ~values.str.lower().isin(("now", "today")))  # pandas reads these
    given = values.notna().to_numpy()
    number = values.str.fullmatch(_NUMBER).fillna(False).to_numpy(dtype=bool)
    if rules.date_format:  # the format first (it may read numbers: '%Y%m%d'), then ISO 8601
        parsed = _utc(values, rules.date_format)
        rest = given & ~number & parsed.isna().to_numpy()
        parsed.loc[rest] = _utc(values[rest], "ISO8601")
        found: Found = []
    else:
        parsed = _utc(values.where(~number), "ISO8601")
        rest = given & ~number & parsed.isna().to_numpy()
        found = _read_other_forms(values, rest, parsed, name)
    unread_numbers = number & parsed.isna().to_numpy()
    if unread_numbers.any():
        found.append((unread_numbers, f"{name} is a bare number, not a date (epoch seconds?): write ISO 8601 "
                                      "(2025-03-04T10:00:00Z) or set date_format / --date-format"))
    parsed.index = raw.index
    return parsed, found


def _read_other_forms(values: pd.Series, rest: np.ndarray, parsed: pd.Series, name: str) -> Found:
    """Fill ``parsed`` for values that are not ISO 8601: day-month-year numbers in the column's order,
    then other forms with a four-digit year (``4 Mar 2025``, ``Wed Oct 11 06:55:44 +0000 2017``)."""
    if not rest.any():
        return []
    day_month = rest & values.str.match(_DAY_MONTH_START).fillna(False).to_numpy(dtype=bool)
    found: Found = []
    if day_month.any():
        iso, found = _day_month(values[day_month], name)
        parsed.loc[iso.index] = _utc(iso, "ISO8601")
        retry = iso[iso.notna() & parsed.loc[iso.index].isna()]
        if len(retry):  # 2025-03-04 10:00 PM
            parsed.loc[retry.index] = _utc(retry, "mixed")
        rows = np.flatnonzero(day_month)
        for i, (mask, reason) in enumerate(found):
            full = np.zeros(len(values), dtype=bool)
            full[rows[mask]] = True
            found[i] = (full, reason)
    loose = rest & ~day_month & values.str.contains(r"\d{4}").fillna(False).to_numpy(dtype=bool)
    if loose.any():
        parsed.loc[loose] = _utc(values[loose], "mixed")
    return found


def _day_month(values: pd.Series, name: str) -> tuple[pd.Series, Found]:
    """``dd.mm.yyyy`` / ``mm/dd/yyyy`` (``.``, ``/``, ``-`` or space; a time may follow) as ISO 8601 text,
    in the order the column shows: a first number over 12 says day first, a second one month first.
    Values of unknown order and two-digit years stay unread (NaN), with their reasons (masks over ``values``)."""
    parts = pc.extract_regex(pa.array(values.to_numpy(dtype=object, na_value=None), type=pa.string()), _DAY_MONTH)
    field = {f.name: parts.field(i) for i, f in enumerate(parts.type)}
    ok = pc.and_(parts.is_valid(), pc.equal(field["sep"], field["sep2"]))
    a, b = (pc.cast(pc.if_else(ok, field[k], "0"), pa.int64()).to_numpy() for k in ("a", "b"))
    ok = ok.to_numpy(zero_copy_only=False) & (a >= 1) & (b >= 1) & ((a <= 12) | (b <= 12))
    day_first = ok & (a > 12) & (a <= 31)
    month_first = ok & (b > 12) & (b <= 31)
    either = ok & (a <= 12) & (b <= 12) & (a != b)
    order = "day" if day_first.any() and not month_first.any() else (
        "month" if month_first.any() and not day_first.any() else None)
    short = ok & (pc.utf8_length(field["y"]).to_numpy() == 2)
    refused = (either & (order is None)) | short
    a_is_day = pa.array(day_first | (either & (order == "day")) | (a == b))
    first, second = (pc.utf8_lpad(field[k], 2, "0") for k in ("a", "b"))
    iso = pc.binary_join_element_wise(field["y"], pc.if_else(a_is_day, second, first),
                                      pc.if_else(a_is_day, first, second), "-")
    iso = pd.Series(pc.binary_join_element_wise(iso, field["rest"], "").to_numpy(zero_copy_only=False),
                    index=values.index, dtype="string")
    iso = iso.where(ok & ~refused)
    if not refused.any():
        return iso, []
    if order is None and day_first.any():
        why = (f"could be day-month or month-day, and the column has both orders ({values[day_first].iloc[0]} is "
               f"day first, {values[month_first].iloc[0]} month first)")
    else:
        why = "could be day-month or month-day, and no value of the column tells which"
    rows = np.flatnonzero(refused)
    rest = pd.Series(field["rest"].take(rows).to_pandas())
    clock = np.select([rest.str.fullmatch(r"[ T]\d{1,2}:\d{2}").to_numpy(dtype=bool),
                       rest.str.fullmatch(r"[ T]\d{1,2}:\d{2}:\d{2}").to_numpy(dtype=bool)],
                      [rest.str[0] + "%H:%M", rest.str[0] + "%H:%M:%S"], default="")
    row_order = np.where(day_first, "day", np.where(month_first, "month", order or ""))[rows]
    key = pd.Series(np.where(short[rows], "y", "u")) + "|" + row_order + "|" \
        + field["sep"].take(rows).to_numpy(zero_copy_only=False) + "|" + clock
    found: Found = []
    for k in pd.unique(key):
        kind, known, sep, clock_k = k.split("|")
        year = "%y" if kind == "y" else "%Y"
        formats = {"day": f"'%d{sep}%m{sep}{year}{clock_k}'", "month": f"'%m{sep}%d{sep}{year}{clock_k}'"}
        suggest = formats[known] if known else f"{formats['day']} (day first) or {formats['month']} (month first)"
        mask = np.zeros(len(values), dtype=bool)
        mask[rows[(key == k).to_numpy()]] = True
        reason = "has a two-digit year" if kind == "y" else why
        found.append((mask, f"{name} {reason}: set date_format / --date-format to {suggest}"))
    return iso, found


def _parse_number(raw: pd.Series, name: str) -> tuple[pd.Series, Found]:
    """Numbers as float64; ``inf``, ``-inf``, ``1e999`` and a spelled-out ``nan`` are refused (NaN, with a reason)."""
    values = pd.to_numeric(raw, errors="coerce").astype("float64")
    bad = np.isinf(values.to_numpy())
    if pd.api.types.is_string_dtype(raw) or raw.dtype == object:
        bad |= raw.astype("string").str.strip().str.lower().isin(_NAN_WORDS).fillna(False).to_numpy(dtype=bool)
    if not bad.any():
        return values, []
    return values.where(~bad), [(bad, f"{name} is not a finite number")]


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
    if values is not raw:  # a string column read as such keeps its own missing values
        values = values.where(raw.notna())
    if not may_need_strip(values):  # ids as exported: nothing to strip, none blank
        return values
    stripped = values.str.strip()
    return stripped.where(stripped != "")


def _parse_column(raw: pd.Series, col: Column, rules: ValueRules) -> tuple[pd.Series, Found]:
    """Parse one column to its canonical type; unread values become missing, with the reasons found."""
    kind = col.kind
    if kind == "datetime":
        return _parse_datetime(raw, col.name, rules)
    if kind in ("float", "int"):
        return _parse_number(raw, col.name)
    if kind == "bool":
        return _parse_bool(raw), []
    if kind in ("id", "category"):
        values = _strings(raw)
        if kind == "category" and may_change_case(values):
            values = values.str.lower().str.replace(" ", "_", regex=False)
        control = (values.str.contains(_CONTROL, regex=True).fillna(False).to_numpy(dtype=bool)
                   if may_hold_control(values) else np.zeros(len(values), dtype=bool))
        reason = f"{col.name} contains a control character (NUL, tab, line break, ...): remove it from the value"
        return values, [(control, reason)] if control.any() else []
    if pd.api.types.is_string_dtype(raw) and raw.dtype != object:  # text: keep as read
        return raw, []
    return raw.astype("str").where(raw.notna()), []


def _repeated_keys(keys: pd.Series) -> np.ndarray:
    """``keys.notna() & keys.duplicated(keep="first")``, compared as strings only where a 64-bit hash repeats (the
    rows of equal keys always do): hashing reads the Arrow buffers once, a string hash table costs twice that."""
    if not pd.api.types.is_string_dtype(keys) or keys.dtype == object:
        return (keys.notna() & keys.duplicated(keep="first")).to_numpy(dtype=bool)
    maybe = np.flatnonzero(pd.Series(id_hashes(keys), copy=False).duplicated(keep=False).to_numpy())
    out = np.zeros(len(keys), dtype=bool)
    if len(maybe):
        some = keys.iloc[maybe]
        out[maybe] = (some.notna() & some.duplicated(keep="first")).to_numpy(dtype=bool)
    return out


_NS_PER_UNIT = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}


def _outside(values: pd.Series, earliest: pd.Timestamp, latest: pd.Timestamp) -> np.ndarray:
    """Timestamps before ``earliest`` or after ``latest`` (missing ones are not), compared as integers in the
    column's own unit: pandas would convert the whole column to the bounds' finer unit first."""
    unit = getattr(values.dtype, "unit", None)
    if not pd.api.types.is_datetime64_any_dtype(values) or unit not in _NS_PER_UNIT:
        return (values.notna() & ((values < earliest) | (values > latest))).to_numpy(dtype=bool)
    per = _NS_PER_UNIT[unit]
    ints = values.array.asi8
    never = np.iinfo(np.int64)
    low = max(-(-_ns_int(earliest) // per), never.min + 1)  # the first and last whole units inside, as int64
    high = min(_ns_int(latest) // per, never.max)
    return (ints != never.min) & ((ints < low) | (ints > high))


def _ns_int(stamp: pd.Timestamp) -> int:
    """Nanoseconds since the epoch as a Python int: ``Timestamp.value`` overflows outside 1677..2262, which a
    bound such as ``--dates-between ..2999-12-31`` is."""
    return int(stamp.asm8.view("i8")) * _NS_PER_UNIT[stamp.unit]


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


def check_columns(columns, schema: TableSchema, *, source: str | None = None,
                  mapping: Mapping[str, str] | None = None) -> None:
    """Raise :class:`DuplicateColumnsError` or :class:`MissingColumnsError` (naming all of them) for a table's
    column names once ``mapping`` has renamed them (``columns``: already renamed)."""
    columns = pd.Index(columns)
    if columns.has_duplicates:
        repeated = sorted(set(columns[columns.duplicated()]))
        renamed = [f"{theirs!r} -> {ours!r}" for theirs, ours in (mapping or {}).items() if ours in repeated]
        raise DuplicateColumnsError(
            f"{source or schema.name}: the columns {', '.join(map(repr, repeated))} appear more than once"
            + (f" after the mapping renames {', '.join(renamed)}" if renamed else "")
            + ": which copy is meant cannot be guessed. Drop one of them, or map another column.")
    missing = [c for c in schema.required if c not in columns]
    if missing:
        present = [c for c in columns if c not in (ROW_COL, SOURCE_COL)]
        raise MissingColumnsError(table=schema.name, missing=missing, source=source, present=present)


def validate_frame(raw: pd.DataFrame, schema: TableSchema, *, source: str | None = None,
                   mapping: Mapping[str, str] | None = None,
                   rules: ValueRules | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Check ``raw`` against ``schema``, collecting every problem of every row.

    ``rules`` (:class:`ValueRules`, default ``ValueRules()``) says how timestamps are read and which are
    plausible. Returns ``(valid, quarantine)``. Raises :class:`MissingColumnsError` (naming all of them)
    when required columns are absent.
    """
    if rules is None:
        rules = ValueRules()
    elif not isinstance(rules, ValueRules):
        raise TypeError(f"rules must be a cxlens.io.ValueRules, not {type(rules).__name__}: "
                        "e.g. rules=ValueRules(date_format='%d.%m.%Y').")
    frame = raw.rename(columns=dict(mapping or {})) if mapping else raw
    check_columns(frame.columns, schema, source=source, mapping=mapping)

    earliest, latest, span = rules.date_range()
    unread = "" if rules.date_format is None else f" (neither date_format {rules.date_format!r} nor ISO 8601)"
    problems = _Problems(frame.index)
    parsed = frame.copy(deep=False)
    for col in schema.columns:
        if col.name not in frame:
            continue
        raw_col = frame[col.name]
        values, found = _parse_column(raw_col, col, rules)
        present_mask = _present(raw_col, values, col.kind)
        parsed[col.name] = values
        explained = np.zeros(len(frame), dtype=bool)
        for mask, reason in found:
            problems.flag(mask, reason)
            explained |= mask
        if col.required:
            problems.flag(~present_mask, f"{col.name} is empty")
        if col.kind in ("datetime", "float", "int", "bool"):
            problems.flag(present_mask & values.isna() & ~explained, f"{col.name} is not a valid {col.kind}"
                          + (unread if col.kind == "datetime" else ""))
        if col.kind == "datetime":
            problems.flag(_outside(values, earliest, latest),
                          f"{col.name} is outside {span} (set dates_between / --dates-between)")
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
        problems.flag(_repeated_keys(keys), f"duplicate {schema.key} (the first occurrence is kept)")

    bad = problems.bad()
    if not bad.any():
        return parsed.reset_index(drop=True), frame.iloc[0:0].assign(**{REASON_COL: pd.Series(dtype="str")})
    quarantine = frame.loc[bad].copy()
    quarantine[REASON_COL] = problems.reasons(bad)
    valid = parsed.loc[~bad].reset_index(drop=True)
    return valid, quarantine.reset_index(drop=True)
