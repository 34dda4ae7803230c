"""``cxlens kpis list | compute | explain``."""

from __future__ import annotations

import argparse
import json
import sys

from cxlens.cli._common import add_input_args, input_paths, load_inputs, note, print_table

__all__ = ["add_commands"]


def add_commands(sub: argparse._SubParsersAction, *, train: argparse._SubParsersAction) -> None:
    kpis = sub.add_parser("kpis", help="the KPI catalogue and its computation")
    ksub = kpis.add_subparsers(dest="kpis_command", metavar="ACTION")
    kpis.set_defaults(func=lambda args: kpis.print_help())

    lister = ksub.add_parser("list", help="print the KPI catalogue (from the registry)")
    lister.add_argument("--format", choices=("table", "tsv", "csv", "json", "markdown"), default="table",
                        help="table (default: a table on a terminal, TSV to a pipe or file), tsv, csv, json, markdown")
    lister.set_defaults(func=kpis_list)

    compute = ksub.add_parser("compute", help="compute every KPI whose inputs are present")
    add_input_args(compute)
    _add_compute_options(compute)
    compute.add_argument("--format", choices=("table", "tsv", "csv", "json"), default="table",
                         help="table (default: the overall figures, as a table on a terminal and TSV to a pipe or "
                              "file), tsv, or csv / json with the per-group figures too")
    compute.add_argument("--out", metavar="FILE", help="write the report here (json or csv by --format)")
    compute.add_argument("--chunk-rows", type=int, default=500_000, metavar="N",
                         help="rows read at a time (default 500000): memory holds the tables KPIs read, without "
                              "messages and text columns, plus two chunks (one in use, the next read meanwhile)")
    compute.set_defaults(func=kpis_compute)

    explain = ksub.add_parser("explain", help="list the rows (ticket ids, ...) behind one KPI figure")
    explain.add_argument("name", help="KPI name, e.g. first_contact_resolution_rate")
    add_input_args(explain)
    _add_compute_options(explain, grouping=False)
    explain.add_argument("--where", action="append", default=[], metavar="COL=VALUE",
                         help="filter tickets first, and their messages and surveys, e.g. --where channel=email or "
                              "--where reopened=yes; the value is read as the column's type (repeatable)")
    explain.add_argument("--out", metavar="FILE", help="write the rows as CSV")
    explain.set_defaults(func=kpis_explain)


def _add_compute_options(parser: argparse.ArgumentParser, *, grouping: bool = True) -> None:
    parser.add_argument("--config", metavar="TOML", help="KPI settings, SLA policy, business hours")
    parser.add_argument("--business-hours", action="store_true",
                        help="compute durations in the config's business hours")
    parser.add_argument("--quarantine-dir", metavar="DIR", default=None,
                        help="where to write rejected rows (default: beside --out, else ./cxlens-out)")
    if grouping:
        parser.add_argument("--by", default="", help="group by ticket columns, e.g. channel,agent_id,team")
        parser.add_argument("--period", choices=("day", "week", "month", "quarter", "year"))
        parser.add_argument("--kpi", action="append", default=None, metavar="NAME", help="only these KPIs")


def kpis_list(args: argparse.Namespace) -> int:
    from cxlens._csv_safety import write_csv
    from cxlens.pipelines.kpi_report import kpi_catalogue, kpi_catalogue_markdown

    catalogue = kpi_catalogue()
    if args.format == "markdown":
        sys.stdout.write(kpi_catalogue_markdown() + "\n")
    elif args.format == "csv":
        write_csv(catalogue, sys.stdout)
    elif args.format == "json":
        sys.stdout.write(catalogue.to_json(orient="records", indent=2) + "\n")
    else:
        columns = ("name", "unit", "direction", "formula", "requires")
        print_table(columns, catalogue[list(columns)].itertuples(index=False, name=None),
                    title=f"cxlens KPI catalogue ({len(catalogue)} KPIs)", fmt=args.format)
    return 0


def _config(args: argparse.Namespace):
    from cxlens.config import load_config

    overrides = {"use_business_hours": True} if args.business_hours else {}
    return load_config(args.config, **overrides)


def _quarantine(dataset, args: argparse.Namespace) -> None:
    from pathlib import Path

    if not dataset.n_quarantined():
        return
    out = args.quarantine_dir or (str(Path(args.out).parent) if getattr(args, "out", None) else "cxlens-out")
    written = dataset.write_quarantine(out)
    for name, path in written.items():
        sys.stderr.write(f"cxlens: {name}: quarantined rows written to {path}\n")


def kpis_compute(args: argparse.Namespace) -> int:
    from cxlens._csv_safety import write_csv
    from cxlens._outdir import prepare_output_file
    from cxlens.pipelines.kpi_report import kpi_report, write_kpi_report

    if args.out:
        prepare_output_file(args.out, inputs=input_paths(args).values())
    config = _config(args)
    by = [c.strip() for c in args.by.split(",") if c.strip()]
    tables = _streamed_tables(args, by=by)
    report = kpi_report(tables, config=config, names=args.kpi, by=by, period=args.period)
    if args.out:
        write_kpi_report(report, args.out, fmt="csv" if args.format == "csv" else "json")
        note(f"report written to {args.out}")
    elif args.format == "json":
        sys.stdout.write(json.dumps(report.to_dict(), indent=2, default=str) + "\n")
    elif args.format == "csv":
        write_csv(report.to_frame(), sys.stdout)
    if args.format in ("table", "tsv"):
        print_report(report, fmt=args.format)
    return 0


def _streamed_tables(args: argparse.Namespace, *, by: list[str]):
    """The KPI tables, read in chunks (messages reduced per ticket, unused text columns not read); counts and
    quarantine files as every command reports them."""
    from pathlib import Path

    from cxlens.cli._common import StageProgress, value_rules_from, write_counts
    from cxlens.errors import DataError
    from cxlens.io import parse_mapping
    from cxlens.pipelines.kpi_report import streamed_kpi_tables

    paths = input_paths(args)
    if not any(paths.values()):
        raise DataError("No input given: give at least {tickets} (or {mentions} / {accounts}).",
                        params=("tickets", "mentions", "accounts"))
    out = args.quarantine_dir or (str(Path(args.out).parent) if getattr(args, "out", None) else "cxlens-out")
    with StageProgress(quiet=False, unit="rows") as progress:
        tables, checks = streamed_kpi_tables(paths, out=out, mapping=parse_mapping(args.map), encoding=args.encoding,
                                             rules=value_rules_from(args), follow_symlinks=args.follow_symlinks,
                                             chunk_rows=args.chunk_rows, by=by, progress=progress)
    write_counts(check.as_row() for check in checks)
    for check in checks:
        if check.quarantine_file:
            sys.stderr.write(f"cxlens: {check.table}: quarantined rows written to {check.quarantine_file}\n")
    return tables


def print_report(report, *, fmt: str = "table",
                 groups_hint: str = "use --format csv/json or --out for the per-group figures") -> None:
    """The overall figures on stdout (a table on a terminal; TSV of the raw values with their unit to a pipe
    or a file, or with ``fmt="tsv"``), then a line on stderr about groups and skipped KPIs."""
    if fmt == "table" and sys.stdout.isatty():
        from cxlens.pipelines.kpi_report import kpi_report_text

        print_table(("KPI", "value", "n"), kpi_report_text(report), title="KPI summary", right=("value", "n"))
    else:
        from cxlens.metrics import get_kpi

        print_table(("kpi", "value", "unit", "n"),
                    ((name, value, get_kpi(name).unit, report.n.get(name)) for name, value in report.kpis.items()),
                    fmt="tsv")
    if report.groups:
        note(f"{len(report.groups)} groups; {groups_hint}.")
    if report.skipped:
        name, needs = next(iter(report.skipped.items()))
        note(f"{len(report.skipped)} KPIs skipped for missing inputs (e.g. {name}: needs {', '.join(needs)}).")


def kpis_explain(args: argparse.Namespace) -> int:
    from cxlens._csv_safety import write_csv
    from cxlens.metrics import explain_kpi, get_kpi
    from cxlens.pipelines.kpi_report import kpi_tables

    get_kpi(args.name)  # fail fast on an unknown name, before reading data
    if args.out:
        from cxlens._outdir import prepare_output_file

        prepare_output_file(args.out, inputs=input_paths(args).values())
    config = _config(args)
    dataset = load_inputs(args)
    _quarantine(dataset, args)
    if args.where:
        from cxlens.pipelines.kpi_report import filter_tickets_where

        filter_tickets_where(dataset, args.where, get_kpi(args.name))
    measure, rows = explain_kpi(args.name, kpi_tables(dataset), config=config)
    sys.stderr.write(f"cxlens: {args.name} = {measure.value} over n={measure.n}; {len(rows)} rows behind it\n")
    write_csv(rows, args.out or sys.stdout)
    return 0
