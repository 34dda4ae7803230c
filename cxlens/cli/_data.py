"""``cxlens validate``, ``cxlens example-data`` and ``cxlens demo``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cxlens.cli._common import add_input_args, load_inputs, print_summary

__all__ = ["add_commands", "EXAMPLES_DIR"]

# The bundled example archive (repo checkout); `cxlens example-data` can make it anywhere.
EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples" / "archive"


def add_commands(sub: argparse._SubParsersAction, *, train: argparse._SubParsersAction) -> None:
    validate = sub.add_parser("validate", help="check tables against the canonical schema; quarantine bad rows")
    add_input_args(validate)
    validate.add_argument("--out", metavar="DIR", default="cxlens-validate",
                          help="folder for quarantine files (default ./cxlens-validate)")
    validate.set_defaults(func=validate_cmd)

    example = sub.add_parser("example-data", help="generate a realistic, deterministic example archive")
    example.add_argument("--tickets", type=int, default=2000, help="number of tickets (default 2000)")
    example.add_argument("--seed", type=int, default=7)
    example.add_argument("--out", metavar="DIR", required=True)
    example.add_argument("--format", choices=("csv", "parquet", "jsonl"), default="csv")
    example.set_defaults(func=example_cmd)

    demo = sub.add_parser("demo", help="the main job on the bundled example archive: KPI summary")
    demo.add_argument("--data", metavar="DIR", default=None,
                      help="an archive folder (tickets.csv, messages.csv, ...); default: the bundled example")
    demo.add_argument("--out", metavar="DIR", default="cxlens-demo", help="where to write the report (default ./cxlens-demo)")
    demo.set_defaults(func=demo_cmd)


def validate_cmd(args: argparse.Namespace) -> int:

    dataset = load_inputs(args)
    print_summary(dataset)
    for name, path in dataset.write_quarantine(args.out).items():
        sys.stderr.write(f"cxlens: {name}: quarantined rows written to {path}\n")
    if not dataset.n_quarantined():
        sys.stderr.write("cxlens: all rows valid\n")
    return 0


def example_cmd(args: argparse.Namespace) -> int:
    from cxlens.example_data import write_example_archive

    written = write_example_archive(Path(args.out), n_tickets=args.tickets, seed=args.seed, fmt=args.format)
    for name, path in written.items():
        sys.stderr.write(f"cxlens: wrote {name} to {path}\n")
    return 0


def archive_paths(folder: Path) -> dict[str, str]:
    """The canonical table files found in an archive folder (any supported suffix)."""
    found = {}
    for name in ("tickets", "messages", "accounts", "surveys", "mentions"):
        for suffix in (".csv", ".parquet", ".jsonl", ".csv.gz"):
            path = folder / f"{name}{suffix}"
            if path.exists():
                found[name] = str(path)
                break
    return found


def demo_cmd(args: argparse.Namespace) -> int:
    from cxlens.cli._kpis import print_report
    from cxlens.dataset import load_dataset
    from cxlens.errors import DataError
    from cxlens.pipelines.kpi_report import kpi_report, kpi_tables, write_kpi_report

    folder = Path(args.data) if args.data else EXAMPLES_DIR
    if not folder.exists():
        if args.data:
            raise DataError(f"No archive at {folder}.")
        from cxlens.example_data import write_example_archive

        folder = Path(args.out) / "archive"
        sys.stderr.write(f"cxlens: bundled example not found; generating one in {folder}\n")
        write_example_archive(folder, n_tickets=2000, seed=7, fmt="csv")
    paths = archive_paths(folder)
    if "tickets" not in paths:
        raise DataError(f"{folder} has no tickets file (tickets.csv / .parquet / .jsonl).")
    dataset = load_dataset(**paths)
    print_summary(dataset)
    dataset.write_quarantine(args.out)
    # one computation: the report holds the overall figures and the per channel x month groups
    report = kpi_report(kpi_tables(dataset), by=["channel"], period="month")
    path = write_kpi_report(report, Path(args.out) / "kpis.json")
    groups_csv = write_kpi_report(report, Path(args.out) / "kpis_by_channel_month.csv", fmt="csv")
    print_report(report, groups_hint=f"per channel x month figures in {groups_csv}")
    sys.stderr.write(f"cxlens: KPI report written to {path}\n")
    return 0
