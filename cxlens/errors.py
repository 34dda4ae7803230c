"""The one place cxlens errors live.

Hierarchy (catch at any level)::

    CxlensError                      base of everything cxlens raises on purpose
    ├── DataError                    the data is wrong; the message names file, column or row
    │   ├── MissingColumnsError      required columns are absent (all of them are listed)
    │   ├── UnreadableFileError      empty file, bad encoding, unparseable CSV/JSON, unknown format
    │   └── NoUsableRowsError        every row of a table was quarantined
    ├── ConfigError                  a configuration / scorecard / policy file is wrong
    │   └── InvalidConfigError       options that cannot work, all listed at once (``.problems``)
    ├── UnknownNameError             an unknown KPI, model, head or registry name (suggests close names)
    ├── MissingDependencyError       an optional package is not installed (says what to pip install)
    └── NotFittedError               a model or component was used before ``fit``

Messages are actionable: what is wrong, where, and what to do about it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ConfigError",
    "ConfigProblem",
    "CxlensError",
    "DataError",
    "InvalidConfigError",
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
    #: the problems one by one (:class:`InvalidConfigError` fills it; empty for a single message)
    problems: tuple[ConfigProblem, ...] = ()


@dataclass(frozen=True)
class ConfigProblem:
    """One problem with one option: ``param`` (its Python name), the ``value`` given, and ``message``.

    ``message`` says what is wrong and what to do, without naming ``param`` (the error puts it in
    front). It may refer to another option as ``{name}`` or ``{name=value}``: in Python the error
    writes ``name`` / ``name=value``, on the command line the option's flag (see
    :meth:`InvalidConfigError.for_cli`).
    """

    param: str
    value: Any
    message: str


_REF = re.compile(r"\{([a-z][a-z0-9_]*)(?:=([^{}]*))?\}")


class InvalidConfigError(ConfigError):
    """Options that cannot work, found before any data is read; every problem is listed at once.

    In Python the options are named as parameters (``encoder='minilm-x'``); the command line turns
    them into its flags (``--encoder minilm-x``) with :meth:`for_cli`.
    """

    def __init__(self, problems: Iterable[ConfigProblem], *, subject: str = "options",
                 params: Iterable[str] = (), flags: Mapping[str, str] | None = None) -> None:
        self.problems = tuple(problems)
        self.subject = subject
        self.params = frozenset(params) | {p.param for p in self.problems}
        self.flags = dict(flags or {})
        super().__init__(self._render())

    def for_cli(self, flags: Mapping[str, str]) -> InvalidConfigError:
        """The same problems, naming each option by its command-line flag (``{"encoder": "--encoder"}``)."""
        return InvalidConfigError(self.problems, subject=self.subject, params=self.params, flags=flags)

    def _name(self, param: str, value: Any, *, given: bool) -> str:
        flag = self.flags.get(param)
        if flag is None:
            return f"{param}={value!r}" if given else param
        if not given or value is None or isinstance(value, bool):
            return flag
        return f"{flag} {value}"

    def _refs(self, message: str) -> str:
        def ref(match: re.Match) -> str:
            name, value = match.group(1), match.group(2)
            if name not in self.params:
                return match.group(0)
            if value is None:
                return self.flags.get(name, name)
            flag = self.flags.get(name)
            if flag is None:
                return f"{name}={value}"
            return flag if value in ("True", "False") else f"{flag} {value}"

        return _REF.sub(ref, message)

    def _render(self) -> str:
        lines = [f"{self._name(p.param, p.value, given=p.value is not None)}: {self._refs(p.message)}"
                 for p in self.problems]
        if len(lines) == 1:
            return lines[0]
        return f"{len(lines)} problems with the {self.subject}:\n" + "\n".join(f"  - {line}" for line in lines)


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
