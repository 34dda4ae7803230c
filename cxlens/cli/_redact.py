"""``cxlens redact``: copies of canonical tables with personal data replaced by typed placeholders."""

from __future__ import annotations

import argparse
import sys

from cxlens.cli._common import TABLES

__all__ = ["add_commands"]


def add_commands(sub: argparse._SubParsersAction, *, train: argparse._SubParsersAction) -> None:
    from cxlens._pii import PII_TYPES

    red = sub.add_parser(
        "redact", help="copy tables with personal data replaced ([EMAIL], [PHONE], [CARD], [PERSON], ...)",
        description="Write redacted copies of canonical tables: emails, phone numbers, Luhn-valid card numbers, "
                    "IBANs (checksum), US SSNs, IP addresses, street addresses, person names and @handles become "
                    "typed placeholders; order numbers, versions, dates and prices stay. Id columns keep working "
                    "as keys ([EMAIL-1]). Counts per type (never values) go to DIR/redaction.json. What is found "
                    "and missed: docs/trust-and-safety.md and docs/benchmarks.md.")
    group = red.add_argument_group("inputs: --archive DIR, or one flag per table (CSV, TSV, JSON Lines, JSON, "
                                   "Parquet, or a folder of them); every column is copied as it is")
    group.add_argument("--archive", metavar="DIR", help="a folder of canonical tables (tickets.*, messages.*, ...)")
    for name in TABLES:
        group.add_argument(f"--{name}", metavar="PATH", help=f"the {name} table (replaces the archive's)")
    group.add_argument("--encoding", default="utf-8", help="text encoding of CSV/JSON inputs (default utf-8)")
    group.add_argument("--follow-symlinks", action="store_true", help="read symbolic links inside an input folder")
    red.set_defaults(input_tables=TABLES)
    red.add_argument("--out", required=True, metavar="DIR", help="where to write the redacted tables")
    red.add_argument("--types", metavar="TYPE,...", default=",".join(PII_TYPES),
                     help=f"what to redact (default all: {','.join(PII_TYPES)})")
    red.add_argument("--names", choices=("tagger", "rules"), default="tagger",
                     help="how person names are found: cxlens's rules plus its small name tagger (default; finds more "
                          "names, about 0.3x the rules' speed) or the rules alone (faster, misses more)")
    red.set_defaults(func=redact_command)


def redact_command(args: argparse.Namespace) -> int:
    from cxlens._outdir import prepare_output_dir
    from cxlens._pii import PII_TYPES
    from cxlens.cli._common import input_paths
    from cxlens.errors import UnknownNameError
    from cxlens.redact import redact_tables, write_report

    types = tuple(t.strip().upper() for t in args.types.split(",") if t.strip())
    for name in types:
        if name not in PII_TYPES:
            raise UnknownNameError(kind="PII type", name=name, known=PII_TYPES)
    paths = {t: p for t, p in input_paths(args).items() if p}
    if not paths:
        from cxlens.errors import DataError

        raise DataError("No input given: give --archive DIR (a folder of canonical tables) or a table flag such "
                        "as --tickets PATH.")
    prepare_output_dir(args.out, inputs=list(paths.values()), create=False)
    written, report = redact_tables(paths, args.out, types=types, encoding=args.encoding,
                                    follow_symlinks=args.follow_symlinks, names=args.names)
    write_report({"types": list(types), "names": args.names, "tables": report}, f"{args.out}/redaction.json")
    for table, counts in report.items():
        found = ", ".join(f"{k} {v:,}" for k, v in counts["redacted"].items()) or "nothing found"
        sys.stderr.write(f"cxlens: {table}: read {counts['read']:,}, written {counts['written']:,}, quarantined "
                         f"{counts['quarantined']:,}; redacted: {found}\n")
    for name, path in written.items():
        sys.stderr.write(f"cxlens: wrote {name} to {path}\n")
    return 0
