"""``cxlens convert twcs|ibm``: real support exports -> canonical tickets + messages."""

from __future__ import annotations

import argparse
import sys

__all__ = ["add_commands"]


def add_commands(sub: argparse._SubParsersAction, *, train: argparse._SubParsersAction) -> None:
    conv = sub.add_parser("convert", help="convert a public export (twcs, ibm) into canonical tickets + messages")
    conv.add_argument("kind", choices=("twcs", "ibm"),
                      help="twcs: Customer Support on Twitter CSV; ibm: IBM Twitter customer-care JSON")
    conv.add_argument("--input", required=True, metavar="PATH", help="the export file (or a folder of them)")
    conv.add_argument("--out", required=True, metavar="DIR", help="where to write tickets and messages")
    conv.add_argument("--format", choices=("csv", "parquet", "jsonl"), default="csv")
    conv.add_argument("--encoding", default="utf-8", help="text encoding of the input (default utf-8)")
    conv.set_defaults(func=convert_cmd)


def convert_cmd(args: argparse.Namespace) -> int:
    from cxlens._outdir import prepare_output_dir
    from cxlens.adapters import convert

    prepare_output_dir(args.out, inputs=[args.input], create=False)
    result, written = convert(args.kind, args.input, args.out, fmt=args.format, encoding=args.encoding)
    summary = result.summary()
    sys.stderr.write(f"cxlens: {args.kind}: read {summary['records_read']:,} records -> "
                     f"{summary['tickets']:,} tickets, {summary['messages']:,} messages, "
                     f"quarantined {summary['quarantined']:,}\n")
    for name, path in written.items():
        sys.stderr.write(f"cxlens: wrote {name} to {path}\n")
    return 0
