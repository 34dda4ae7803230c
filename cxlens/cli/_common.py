"""Argument groups shared by several commands (inputs, output, column mapping)."""

from __future__ import annotations

import argparse

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cxlens.dataset import Dataset

__all__ = ["add_input_args", "load_inputs"]


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
