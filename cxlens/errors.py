"""The one place cxlens errors live.

Hierarchy (catch at any level)::

    CxlensError                      base of everything cxlens raises on purpose
    ├── DataError                    the data is wrong; the message names file, column or row
    │   ├── MissingColumnsError      required columns are absent (all of them are listed)
    │   ├── UnreadableFileError      empty file, bad encoding, unparseable CSV/JSON, unknown format
    │   └── NoUsableRowsError        every row of a table was quarantined
    ├── ConfigError                  a configuration / scorecard / policy file is wrong
    ├── UnknownNameError             an unknown KPI, model, head or registry name (suggests close names)
    ├── MissingDependencyError       an optional package is not installed (says what to pip install)
    └── NotFittedError               a model or component was used before ``fit``

Messages are actionable: what is wrong, where, and what to do about it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "ConfigError",
    "CxlensError",
    "DataError",
    "MissingColumnsError",
    "MissingDependencyError",
    "NoUsableRowsError",
    "NotFittedError",
    "UnknownNameError",
    "UnreadableFileError",
]


class CxlensError(Exception):
    """Base class of every error cxlens raises on purpose."""

    exit_code = 1


class DataError(CxlensError):
    """The input data is wrong in a way that stops this step."""

    exit_code = 2


class MissingColumnsError(DataError):
    """A table lacks required columns; every missing column is named at once."""

    def __init__(self, *, table: str, missing: Iterable[str], source: str | None = None,
                 present: Iterable[str] = ()) -> None:
        self.table = table
        self.missing = sorted(missing)
        self.source = source
        where = f" in {source}" if source else ""
        present = list(present)
        hint = ""
        if present:
            guesses = []
            for col in self.missing:
                close = difflib.get_close_matches(col, present, n=1, cutoff=0.6)
                if close:
                    guesses.append(f"--map {close[0]}={col}")
            hint = f" Columns found: {', '.join(map(str, present[:20]))}."
            if guesses:
                hint += f" Perhaps: {' '.join(guesses)}."
            else:
                hint += " Use --map THEIR_COLUMN=OUR_COLUMN to rename columns."
        super().__init__(
            f"{table} table{where} is missing required column(s): {', '.join(self.missing)}.{hint}"
        )


class UnreadableFileError(DataError):
    """A file could not be read at all (empty, wrong encoding, broken CSV/JSON, unknown type)."""


class NoUsableRowsError(DataError):
    """Every row of a table was quarantined: nothing is left to compute on."""


class ConfigError(CxlensError):
    """A configuration, policy or scorecard file is invalid."""

    exit_code = 2


class UnknownNameError(CxlensError, KeyError):
    """A name looked up in a registry does not exist."""

    exit_code = 2

    def __init__(self, *, kind: str, name: str, known: Iterable[str]) -> None:
        known = sorted(known)
        close = difflib.get_close_matches(name, known, n=3)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        self.message = f"Unknown {kind} {name!r}.{hint} Known: {', '.join(known)}."
        super().__init__(self.message)

    def __str__(self) -> str:  # KeyError would quote the message
        return self.message


class MissingDependencyError(CxlensError, ImportError):
    """An optional dependency is needed for this feature and is not installed."""

    def __init__(self, *, package: str, feature: str, extra: str | None = None) -> None:
        how = f'pip install "cxlens[{extra}]"' if extra else f"pip install {package}"
        super().__init__(f"{feature} needs the package {package!r}, which is not installed. Run: {how}")


class NotFittedError(CxlensError, ValueError):
    """A component was used before it was fitted."""

    def __init__(self, obj: object) -> None:
        super().__init__(
            f"This {type(obj).__name__} instance is not fitted yet. "
            "Call 'fit' with appropriate arguments before using this estimator."
        )
