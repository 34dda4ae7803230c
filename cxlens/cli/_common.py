"""What several commands share: the input arguments (``--archive DIR`` or one flag per table), printing
tables (a rich table on a terminal, TSV to a pipe or file), and the stderr console for progress bars.

stdout carries only a command's data; status lines, logs and progress go to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from cxlens.cli._value_flags import add_value_rule_args, value_rules_from

if TYPE_CHECKING:
    from rich.console import Console

    from cxlens.dataset import Dataset

__all__ = ["LEGACY_CLASSIFIER", "TABLES", "StageProgress", "add_input_args", "add_trust_model_arg", "input_paths", "load_inputs", "note",
           "print_summary", "print_table", "stderr_console", "write_counts"]

#: the canonical tables, in the order the flags are listed
TABLES = ("tickets", "messages", "accounts", "surveys", "mentions")


def add_input_args(parser: argparse.ArgumentParser, *, tables: tuple[str, ...] = TABLES) -> None:
    """``--archive DIR`` and one ``--<table> PATH`` flag per table the command reads, ``--map``, ``--encoding``.

    Every command that reads tables takes its inputs through this, so they all accept the same flags;
    :func:`input_paths` turns them into one path per table.
    """
    group = parser.add_argument_group("inputs: --archive DIR, or one flag per table (CSV, TSV, JSON Lines, JSON, "
                                      "Parquet, or a folder of them)")
    holding = ", ".join(f"{t}.*" for t in tables)
    group.add_argument("--archive", metavar="DIR",
                       help=f"a folder holding {holding} (e.g. from `cxlens example-data --out DIR`); "
                            f"a table flag given too replaces that table's file")
    for name in tables:
        group.add_argument(f"--{name}", metavar="PATH", help=f"the {name} table")
    group.add_argument("--map", action="append", metavar="THEIRS=OURS", default=[],
                       help="rename a column on read, e.g. --map 'Ticket ID=ticket_id' (repeatable)")
    group.add_argument("--encoding", default="utf-8", help="text encoding of CSV/JSON inputs (default utf-8)")
    group.add_argument("--follow-symlinks", action="store_true",
                       help="read symbolic links inside an input folder (refused by default: a link can point "
                            "anywhere, and what is read may be copied into a quarantine file)")
    add_value_rule_args(group)
    parser.set_defaults(input_tables=tables)


#: what --trust-model lets the classifier commands load
LEGACY_CLASSIFIER = "a classifier folder of an older cxlens whose heads are in head.joblib"


def add_trust_model_arg(parser: argparse.ArgumentParser, *, what: str) -> None:
    """``--trust-model``: load ``what`` even though it is a pickle (every command that takes a model path)."""
    parser.add_argument("--trust-model", action="store_true",
                        help=f"load {what}: a pickle, which can run any code it carries when loaded, so only for a "
                             "model you (or someone you trust) made")


def input_paths(args: argparse.Namespace) -> dict[str, str | None]:
    """Table name -> path, from ``--archive`` and the table flags (an explicit flag wins), for the tables the
    command reads; a table that is not given is ``None``."""
    tables = getattr(args, "input_tables", TABLES)
    paths: dict[str, str | None] = {name: getattr(args, name, None) for name in tables}
    if getattr(args, "archive", None):
        from cxlens.pipelines.score import archive_tables

        found = archive_tables(args.archive)
        paths = {name: paths[name] or found.get(name) for name in tables}
    return paths


def load_inputs(args: argparse.Namespace) -> "Dataset":
    """The validated dataset of :func:`input_paths` (bad rows quarantined, with their reasons)."""
    from cxlens.dataset import load_dataset
    from cxlens.io import parse_mapping

    return load_dataset(**input_paths(args), mapping=parse_mapping(args.map), encoding=args.encoding,
                        rules=value_rules_from(args), follow_symlinks=args.follow_symlinks)


def note(message: str) -> None:
    """A status line on stderr: ``cxlens: <message>``."""
    sys.stderr.write(f"cxlens: {message}\n")


def write_counts(rows: Iterable[Mapping]) -> None:
    """One stderr line per table: read / used / quarantined, plus what --limit skipped and unreadable files."""
    for row in rows:
        extra = f", skipped by --limit {row['skipped_by_limit']:,}" if row.get("skipped_by_limit") else ""
        files = f", unreadable files {len(row['unreadable_files'])}" if row.get("unreadable_files") else ""
        sys.stderr.write(f"cxlens: {row['table']}: read {row['read']:,}, used {row['used']:,}, "
                         f"quarantined {row['quarantined']:,}{extra}{files}\n")


def print_summary(dataset: "Dataset") -> None:
    """Read / used / quarantined per table of a loaded dataset, on stderr."""
    write_counts(dataset.summary())


# ---------------------------------------------------------------- output


def stderr_console() -> "Console":
    """A rich console on stderr, for progress bars and styled status lines (never on stdout)."""
    from rich.console import Console

    return Console(stderr=True)


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, default=str, ensure_ascii=False)
    return " ".join(str(value).split()) if isinstance(value, str) else str(value)


def print_table(columns: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str | None = None,
                fmt: str = "table", right: Sequence[str] = ()) -> None:
    """Print rows on stdout as ``fmt``: ``table`` is a rich table on a terminal and TSV (a header row, then
    one line per row, no title) anywhere else; ``tsv``, ``csv`` and ``json`` (a list of objects) as named.

    ``right`` names the columns to right-align in the rich table.
    """
    rows = [list(r) for r in rows]
    if fmt == "table" and sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table(title=title)
        for col in columns:
            table.add_column(col, justify="right" if col in right else "left", overflow="fold")
        for row in rows:
            table.add_row(*(_cell(v) for v in row))
        Console().print(table)
    elif fmt == "json":
        sys.stdout.write(json.dumps([dict(zip(columns, row)) for row in rows], indent=2, default=str) + "\n")
    elif fmt == "csv":
        from cxlens._csv_safety import write_rows

        write_rows([columns, *([_plain(v) for v in row] for row in rows)], sys.stdout)
    else:  # tsv, and "table" to a pipe or a file
        from cxlens._csv_safety import safe_cell

        sys.stdout.write("\t".join(safe_cell(c) for c in columns) + "\n")
        for row in rows:
            sys.stdout.write("\t".join(safe_cell(_plain(v)).replace("\t", " ") for v in row) + "\n")


def _plain(value: Any) -> Any:
    """A number as is (CSV/TSV leave numbers alone), anything else as :func:`_cell` text."""
    from numbers import Number

    return value if isinstance(value, Number) else _cell(value)


class StageProgress:
    """A rich progress bar on stderr (only on a terminal) fed by ``progress(stage, done, total)`` callbacks:
    one bar per stage, with elapsed and remaining time. ``with StageProgress(quiet=q) as progress: ...``"""

    def __init__(self, *, quiet: bool, unit: str = "batches") -> None:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        self._bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                             TextColumn("{task.completed}/{task.total} " + unit), TimeElapsedColumn(),
                             TimeRemainingColumn(), transient=True, console=stderr_console(),
                             disable=quiet or not sys.stderr.isatty())
        self._tasks: dict[str, int] = {}

    def __enter__(self):
        self._bar.__enter__()

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in self._tasks:
                self._tasks[stage] = self._bar.add_task(stage, total=total)
            self._bar.update(self._tasks[stage], completed=done, total=total)

        return progress

    def __exit__(self, *exc) -> None:
        self._bar.__exit__(*exc)
