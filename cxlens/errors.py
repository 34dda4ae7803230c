"""The one place cxlens errors live.

Hierarchy (catch at any level)::

    CxlensError                      base of everything cxlens raises on purpose
    ├── DataError                    the data is wrong; the message names file, column or row
    │   ├── MissingColumnsError      required columns are absent (all of them are listed)
    │   ├── UnreadableFileError      empty file, bad encoding, unparseable CSV/JSON, unknown format
    │   ├── DuplicateColumnsError    a header names the same column twice (all repeats are listed)
    │   ├── RowAccountingError       records read != rows used + rows quarantined for a file (a bug: report it)
    │   └── NoUsableRowsError        every row of a table was quarantined
    ├── OutputPathError              an output folder/file cannot be used (read-only, a file, full, an input, locked)
    ├── UntrustedModelError          a model file would run code on load (pickle/joblib) and was not trusted
    ├── ConfigError                  a configuration / scorecard / policy file is wrong
    │   └── InvalidConfigError       options that cannot work, all listed at once (``.problems``)
    ├── UnknownNameError             an unknown KPI, model, head or registry name (suggests close names)
    ├── MissingDependencyError       an optional package is not installed (says what to pip install)
    └── NotFittedError               a model or component was used before ``fit``

Messages are actionable: what is wrong, where, and what to do about it.
"""

from __future__ import annotations

import ast
import difflib
import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ConfigError",
    "ConfigProblem",
    "CxlensError",
    "DataError",
    "DuplicateColumnsError",
    "InvalidConfigError",
    "MissingColumnsError",
    "MissingDependencyError",
    "NoUsableRowsError",
    "NotFittedError",
    "OutputPathError",
    "RowAccountingError",
    "UnknownNameError",
    "UnreadableFileError",
    "UntrustedModelError",
]


class CxlensError(Exception):
    """Base class of every error cxlens raises on purpose.

    A message that tells the user to set an option names it as a Python parameter: pass
    ``params=("encoding",)`` and write the option as ``{encoding}`` or ``{encoding='latin-1'}`` in the
    message; ``str(error)`` reads ``encoding`` / ``encoding='latin-1'``, and the command line prints the
    option's flag with :meth:`cli_message` (``--encoding`` / ``--encoding latin-1``).
    """

    exit_code = 1
    #: the options (Python parameter names) the message refers to
    params: frozenset[str] = frozenset()
    _template: str | None = None

    def __init__(self, *args: Any, params: Iterable[str] = ()) -> None:
        if params and args and isinstance(args[0], str):
            self.params = frozenset(params)
            self._template = args[0]
            args = (_render_refs(args[0], self.params, {}), *args[1:])
        super().__init__(*args)

    @property
    def template(self) -> str:
        """The message with its ``{option}`` references unrendered: what a wrapping error builds on (keeping
        :attr:`params`, its options still print as flags on the command line)."""
        return self._template if self._template is not None else str(self)

    def cli_message(self, flags: Mapping[str, str]) -> str:
        """The message with every option named by its command-line flag (``{"encoding": "--encoding"}``)."""
        if self._template is None:
            return str(self)
        return _render_refs(self._template, self.params, flags)


class DataError(CxlensError):
    """The input data is wrong in a way that stops this step."""

    exit_code = 2


class MissingColumnsError(DataError):
    """A table lacks required columns; every missing column is named at once.

    When the table has columns, the message lists them and suggests renames for close names: in Python
    as the ``mapping`` parameter (``mapping={'ticket_ids': 'ticket_id'}``), on the command line as its flag
    (``--map ticket_ids=ticket_id``, see :meth:`cli_message`).
    """

    def __init__(self, *, table: str, missing: Iterable[str], source: str | None = None,
                 present: Iterable[str] = ()) -> None:
        self.table = table
        self.missing = sorted(missing)
        self.source = source
        self.present = list(present)
        #: (their column, our column) renames that would probably fix it
        self.renames: list[tuple[str, str]] = []
        # compared case-, space- and punctuation-blind first: "Ticket ID" is ticket_id
        folded = {re.sub(r"[^a-z0-9]+", "_", str(p).lower()).strip("_"): p for p in self.present}
        for col in self.missing:
            close = difflib.get_close_matches(col, list(folded), n=1, cutoff=0.6)
            if close:
                self.renames.append((folded[close[0]], col))
        if self.present:
            self.params = frozenset({"mapping"})
        super().__init__(self._text(None))

    @property
    def template(self) -> str:
        """The message with its ``{option}`` references unrendered: what a wrapping error builds on (keeping
        :attr:`params`, its options still print as flags on the command line)."""
        return self._template if self._template is not None else str(self)

    def cli_message(self, flags: Mapping[str, str]) -> str:
        return self._text(flags.get("mapping"))

    def _text(self, flag: str | None) -> str:
        where = f" in {self.source}" if self.source else ""
        hint = ""
        if self.present:
            hint = f" Columns found: {', '.join(map(str, self.present[:20]))}."
            if self.renames and flag:
                hint += " Perhaps: " + " ".join(f"{flag} {shlex.quote(f'{theirs}={ours}')}"
                                                for theirs, ours in self.renames) + "."
            elif self.renames:
                hint += f" Perhaps: mapping={dict(self.renames)!r}."
            elif flag:
                hint += f" Use {flag} THEIR_COLUMN=OUR_COLUMN to rename columns."
            else:
                hint += " Use mapping={'THEIR_COLUMN': 'OUR_COLUMN'} to rename columns."
        return f"{self.table} table{where} is missing required column(s): {', '.join(self.missing)}.{hint}"


class UnreadableFileError(DataError):
    """A file could not be read at all (empty, wrong encoding, broken CSV/JSON, unknown type)."""


class DuplicateColumnsError(DataError):
    """A file's header names the same column more than once (after ``mapping``): which copy is meant cannot be
    guessed, so nothing of that file is used."""


class RowAccountingError(DataError):
    """The records counted in a file do not equal the rows used plus the rows quarantined. This is a bug in
    cxlens, not in the data: the run stops rather than lose rows silently."""


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


def _cli_value(value: str) -> str:
    """A value as written in a message (``'latin-1'``, ``90``, ``spark``) as typed after a flag (``latin-1``)."""
    try:
        literal = ast.literal_eval(value)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return value
    return literal if isinstance(literal, str) else value


def _render_refs(message: str, params: Iterable[str], flags: Mapping[str, str]) -> str:
    """``{name}`` / ``{name=value}`` of each option in ``params``: ``name`` / ``name=value`` in Python, its flag
    from ``flags`` (``--name`` / ``--name value``; a flag alone for ``True``/``False``) on the command line."""
    params = frozenset(params)

    def ref(match: re.Match) -> str:
        name, value = match.group(1), match.group(2)
        if name not in params:
            return match.group(0)
        if value is None:
            return flags.get(name, name)
        flag = flags.get(name)
        if flag is None:
            return f"{name}={value}"
        return flag if value in ("True", "False") else f"{flag} {_cli_value(value)}"

    return _REF.sub(ref, message)


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

    @property
    def template(self) -> str:
        """The message with its ``{option}`` references unrendered: what a wrapping error builds on (keeping
        :attr:`params`, its options still print as flags on the command line)."""
        return self._template if self._template is not None else str(self)

    def cli_message(self, flags: Mapping[str, str]) -> str:
        """The message with every option named by its flag: the flags given to :meth:`for_cli` first, then ``flags``."""
        return str(self.for_cli({**flags, **self.flags}))

    def _name(self, param: str, value: Any, *, given: bool) -> str:
        flag = self.flags.get(param)
        if flag is None:
            return f"{param}={value!r}" if given else param
        if not given or value is None or isinstance(value, bool):
            return flag
        return f"{flag} {value}"

    def _refs(self, message: str) -> str:
        return _render_refs(message, self.params, self.flags)

    def _render(self) -> str:
        lines = [f"{self._name(p.param, p.value, given=p.value is not None)}: {self._refs(p.message)}"
                 for p in self.problems]
        if len(lines) == 1:
            return lines[0]
        return f"{len(lines)} problems with the {self.subject}:\n" + "\n".join(f"  - {line}" for line in lines)


class OutputPathError(CxlensError):
    """An output path cannot be used: read-only, a file where a folder is needed, the disk is full, it is (or
    holds) an input, or another run holds its lock. Nothing half-written is left behind."""

    exit_code = 2


class UntrustedModelError(CxlensError):
    """A model file is a pickle (joblib): loading it can run any code it carries. cxlens loads one only when
    told the file is trusted (``trust_model=True``, ``--trust-model``)."""

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
