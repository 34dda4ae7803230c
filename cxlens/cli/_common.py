"""Argument groups shared by several commands (inputs, output, column mapping)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Mapping

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cxlens.dataset import Dataset

__all__ = ["add_input_args", "load_inputs", "print_summary", "write_counts"]


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
