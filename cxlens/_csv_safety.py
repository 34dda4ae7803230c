"""Safe CSV/TSV output: cells that a spreadsheet would run as a formula are written as text.

CSV (formula) injection: Excel, LibreOffice Calc and Google Sheets evaluate a cell that starts with ``=``,
``+``, ``-``, ``@``, TAB or CR, so a ticket subject like ``=HYPERLINK("http://evil","click")`` or
``=cmd|' /C calc'!A0`` becomes a live formula in whoever opens the export. Following OWASP
(https://owasp.org/www-community/attacks/CSV_Injection), every *text* cell that starts with one of those
characters gets a single quote ``'`` in front: spreadsheets read the cell as text and hide the quote; a
plain-text reader sees it (the accepted cost).

* **Typed, not textual.** The rule applies to text cells (object, ``str``, ``string`` and categorical
  columns), the column labels and a text index. Numeric, bool and datetime columns are left alone, so a
  number stays a number: ``-1.5`` in a float column is written as is, while the *string* ``"-1.5"`` in a
  text column becomes ``'-1.5`` (OWASP accepts that cost: a text column can carry any payload).
* **Idempotent.** A cell already starting with ``'`` is not a trigger, so neutralising twice changes
  nothing (a quarantine part read back and written again keeps one quote).
* **Separator.** OWASP also warns that a separator, quote or line break inside a cell could start a new
  cell (or row) whose first character is a trigger. pandas and :mod:`csv` quote (RFC 4180) every cell that
  holds the file's separator, a double quote or a line break, so a cell never splits for a reader using the
  file's own separator. Python before 3.11.9 / 3.12.3 leaves a bare CR unquoted (CPython gh-67044), which a
  spreadsheet reads as a new row: there, a frame with a CR in a text cell is written with every text cell
  quoted. Not covered: a reader forced onto another separator (e.g. Excel in a ``;`` locale opening a comma
  file), which splits unquoted cells like ``a;=1+2``.

:func:`write_csv` is the one way cxlens writes a frame as CSV/TSV (``tests/core/test_csv_safety.py``
fails on a bare ``.to_csv(`` or ``csv.writer(``); :func:`write_rows` writes rows of cells, and
:func:`safe_cell` is for other row-by-row writers (the CLI's TSV).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import cache
from numbers import Number
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["TRIGGERS", "neutralise_formulas", "safe_cell", "write_csv", "write_rows"]

#: first characters that make a spreadsheet read a cell as a formula (OWASP)
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PATTERN = "[" + re.escape("".join(TRIGGERS)) + "]"  # TRIGGERS, for ``Series.str.match`` (anchored at the start)


def _missing(value: Any) -> bool:
    """None, NaN, NaT or pd.NA (without importing pandas: the CLI prints tables without it)."""
    if value is None:
        return True
    try:
        return bool(value != value)
    except TypeError:  # pd.NA: its comparisons are NA, whose truth value is undefined
        return True
    except ValueError:  # an array or a list-like: not a missing scalar
        return False


def safe_cell(value: Any) -> str:
    """``value`` as CSV cell text: ``""`` for None/NaN/NaT/NA, a number as ``str``, any other value as
    ``str`` with ``'`` in front when it starts with a trigger."""
    if _missing(value):
        return ""
    text = str(value)
    if isinstance(value, Number):  # int, float, bool, numpy scalars: left alone as in a numeric column
        return text
    return "'" + text if text[:1] in TRIGGERS else text


def _is_text(dtype: Any) -> bool:
    """Object, ``str``, ``string`` or categorical: a column that may hold text (numbers, bools and dates
    have their own dtypes and are left alone)."""
    import pandas as pd

    return isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_object_dtype(dtype) \
        or pd.api.types.is_string_dtype(dtype)


def _text_hits(values: pd.Series, test: Callable[[Any], pd.Series]) -> pd.Series | None:
    """``test(values.str)`` as a bool mask (False where a cell is not a string) for a text column; None for
    a column that is not text or holds no string."""
    import pandas as pd

    if not _is_text(values.dtype):
        return None
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(object)
    try:
        return test(values.str).astype(bool)
    except AttributeError:  # an object column without any string in it
        return None


def _neutralise_text(values: pd.Series) -> pd.Series | None:
    """The series with triggers quoted, or None when no cell needs it."""
    import pandas as pd

    hit = _text_hits(values, lambda text: text.match(_PATTERN, na=False))
    if hit is None or not hit.any():
        return None
    out = values.astype(object) if isinstance(values.dtype, pd.CategoricalDtype) else values.copy()
    out[hit] = "'" + out[hit].astype(str)
    return out


def _neutralise_index(index: pd.Index) -> pd.Index:
    import pandas as pd

    if isinstance(index, pd.MultiIndex):
        return index.set_levels([_neutralise_index(level) for level in index.levels], verify_integrity=False)
    fixed = _neutralise_text(pd.Series(index, dtype=index.dtype)) if _is_text(index.dtype) else None
    return index if fixed is None else pd.Index(fixed, name=index.name)


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` in which every text cell, column label and text index value that starts with
    ``=``, ``+``, ``-``, ``@``, TAB or CR has ``'`` in front; numeric, bool and datetime columns and missing
    values are unchanged. ``frame`` itself is never modified."""
    out = frame.copy(deep=False)  # isetitem always inserts a new array, never writes into frame's
    for i in range(frame.shape[1]):
        fixed = _neutralise_text(frame.iloc[:, i])
        if fixed is not None:
            out.isetitem(i, fixed.array)  # positional: no alignment on a duplicated index
    out.columns = _neutralise_index(frame.columns)
    out.index = _neutralise_index(frame.index)
    return out


@cache
def _bare_cr_quoted() -> bool:
    """Whether this Python's :mod:`csv` quotes a cell holding a bare CR (3.11.9+, 3.12.3+)."""
    import csv
    import io

    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(["a\rb"])
    return out.getvalue().startswith('"')


def _has_cr(frame: pd.DataFrame) -> bool:
    """Whether a column label or a text cell holds a CR."""
    if any(isinstance(c, str) and "\r" in c for c in frame.columns):
        return True
    masks = (_text_hits(frame.iloc[:, i], lambda text: text.contains("\r", regex=False, na=False))
             for i in range(frame.shape[1]))
    return any(mask is not None and mask.any() for mask in masks)


def write_csv(frame: pd.DataFrame, target: Any = None, **to_csv_kwargs: Any) -> str | None:
    """``frame.to_csv(target, index=False, **to_csv_kwargs)`` after :func:`neutralise_formulas`.

    ``target`` is a path, a text stream (``sys.stdout``) or None (the CSV text is returned); pass
    ``sep="\\t"`` for TSV and ``index=True`` to write the (neutralised) index.
    """
    import csv

    to_csv_kwargs.setdefault("index", False)
    if not _bare_cr_quoted() and _has_cr(frame):
        to_csv_kwargs.setdefault("quoting", csv.QUOTE_NONNUMERIC)
    return neutralise_formulas(frame).to_csv(target, **to_csv_kwargs)


def write_rows(rows: Iterable[Iterable[Any]], stream: TextIO, **writer_kwargs: Any) -> None:
    """Rows of cells (the header row first) as CSV on a text stream, each cell through :func:`safe_cell`;
    ``writer_kwargs`` go to :func:`csv.writer` (``lineterminator`` defaults to ``"\\n"``)."""
    import csv

    cells = [[safe_cell(v) for v in row] for row in rows]
    writer_kwargs.setdefault("lineterminator", "\n")
    if not _bare_cr_quoted() and any("\r" in cell for row in cells for cell in row):
        writer_kwargs.setdefault("quoting", csv.QUOTE_ALL)
    csv.writer(stream, **writer_kwargs).writerows(cells)
