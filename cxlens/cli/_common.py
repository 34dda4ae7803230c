"""Argument groups shared by several commands (inputs, output, column mapping)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Mapping

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cxlens.dataset import Dataset

__all__ = ["StageProgress", "add_input_args", "load_inputs", "print_summary", "write_counts"]


def add_input_args(parser: argparse.ArgumentParser, *, tables: tuple[str, ...] = (
        "tickets", "messages", "accounts", "surveys", "mentions")) -> None:
    group = parser.add_argument_group("inputs (CSV, JSONL, JSON, Parquet, or a folder of them)")
    for name in tables:
        group.add_argument(f"--{name}", metavar="PATH", help=f"the {name} table")
    group.add_argument("--map", action="append", metavar="THEIRS=OURS", default=[],
                       help="rename a column on read, e.g. --map 'Ticket ID=ticket_id' (repeatable)")
    group.add_argument("--encoding", default="utf-8", help="text encoding of CSV/JSON inputs (default utf-8)")


def load_inputs(args: argparse.Namespace) -> "Dataset":
    from cxlens.dataset import load_dataset
    from cxlens.io import parse_mapping

    paths = {name: getattr(args, name, None) for name in ("tickets", "messages", "accounts", "surveys", "mentions")}
    return load_dataset(**paths, mapping=parse_mapping(args.map), encoding=args.encoding)


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


class StageProgress:
    """A rich progress bar on stderr (only on a terminal) fed by ``progress(stage, done, total)`` callbacks:
    one bar per stage, with elapsed and remaining time. ``with StageProgress(quiet=q) as progress: ...``"""

    def __init__(self, *, quiet: bool, unit: str = "batches") -> None:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        self._bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                             TextColumn("{task.completed}/{task.total} " + unit), TimeElapsedColumn(),
                             TimeRemainingColumn(), transient=True, disable=quiet or not sys.stderr.isatty())
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
