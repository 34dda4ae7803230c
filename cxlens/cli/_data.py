"""``cxlens validate``, ``cxlens example-data`` and ``cxlens demo``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from cxlens.cli._common import (StageProgress, add_input_args, input_paths, note, print_summary,
                                print_table, write_counts)
from cxlens.cli._value_flags import value_rules_from

__all__ = ["add_commands"]

#: the file that marks a folder written by `cxlens demo` (a later demo may replace that folder)
DEMO_FILE = "demo.json"
#: the scorecard the demo scores agent messages against (it fits the example archive)
DEMO_SCORECARD = "general_support"
STUDENT = "minilm-l2"


def add_commands(sub: argparse._SubParsersAction, *, train: argparse._SubParsersAction) -> None:
    validate = sub.add_parser("validate", help="check tables against the canonical schema; quarantine bad rows")
    add_input_args(validate)
    validate.add_argument("--out", metavar="DIR", default="cxlens-validate",
                          help="folder for quarantine files (default ./cxlens-validate)")
    validate.set_defaults(func=validate_cmd)

    example = sub.add_parser("example-data", help="generate a realistic, deterministic example archive, or copy the "
                                                  "bundled one (--bundled)")
    example.add_argument("--out", metavar="DIR", required=True)
    example.add_argument("--bundled", action="store_true",
                         help="copy the example archive shipped with cxlens (the one `cxlens demo` reads: 2,000 "
                              "tickets, seed 7, CSV) instead of generating one")
    example.add_argument("--tickets", type=int, default=None, help="number of tickets (default 2000)")
    example.add_argument("--seed", type=int, default=None, help="random seed (default 7)")
    example.add_argument("--format", choices=("csv", "parquet", "jsonl"), default=None, help="default csv")
    example.set_defaults(func=example_cmd)

    demo = sub.add_parser(
        "demo", help="the main job on the bundled example archive: scoring, KPIs, topics, request types, at-risk "
                     "accounts",
        description="Score the bundled example archive (or --data DIR) as `cxlens score` does: request types, "
                    "topics, sentiment, script QA (general_support scorecard), churn and health, then the KPIs "
                    "including the AI-derived ones. Prints the KPI summary, the top topics, the request-type mix "
                    "and the accounts most at risk, and writes --out, which `cxlens dashboard` and `cxlens report` "
                    "open. For speed it runs on the distilled two-layer encoder (--encoder minilm-l2).")
    demo.add_argument("--data", metavar="DIR", default=None,
                      help="an archive folder (tickets.*, messages.*, ...); default: the bundled example")
    demo.add_argument("--out", metavar="DIR", default="cxlens-demo",
                      help="the scored folder to write (default ./cxlens-demo; a later demo replaces it)")
    demo.add_argument("--limit", type=int, metavar="N", help="score only the first N tickets (a quicker look)")
    demo.add_argument("--encoder", default=STUDENT, metavar="NAME",
                      help="minilm-l2 (default here: the distilled 2-layer student, about 3x faster) or minilm "
                           "(the default of `cxlens score`)")
    demo.add_argument("--kpis-only", action="store_true",
                      help="only the KPI summary of the raw archive, no text models (what a core-only install runs)")
    demo.add_argument("--top", type=int, default=5, metavar="N", help="rows in each list (default 5)")
    demo.add_argument("--overwrite", action="store_true", help="replace an earlier `cxlens score` run in --out")
    demo.set_defaults(func=demo_cmd)


def validate_cmd(args: argparse.Namespace) -> int:
    from cxlens._outdir import prepare_output_dir

    from cxlens.io import parse_mapping
    from cxlens.pipelines.validate import checked_archive

    paths = input_paths(args)
    prepare_output_dir(args.out, inputs=paths.values(), create=False)
    if not any(paths.values()):
        from cxlens.errors import DataError

        raise DataError("No input given: give {archive} or a table, e.g. {tickets}.", params=("archive", "tickets"))
    with StageProgress(quiet=args.quiet, unit="rows") as progress:
        checks = checked_archive(paths, out=args.out, mapping=parse_mapping(args.map), encoding=args.encoding,
                                 rules=value_rules_from(args), follow_symlinks=args.follow_symlinks,
                                 progress=progress)
    write_counts(check.as_row() for check in checks)
    for check in checks:
        if check.quarantine_file:
            note(f"{check.table}: quarantined rows written to {check.quarantine_file}")
    for check in checks:
        if (problem := check.problem()) is not None:
            raise problem
    if not any(check.quarantined for check in checks):
        note("all rows valid")
    return 0


def example_cmd(args: argparse.Namespace) -> int:
    from cxlens._outdir import prepare_output_dir
    from cxlens.errors import ConfigError
    from cxlens.example_data import EXAMPLE_ARCHIVE, copy_example_archive, write_example_archive

    prepare_output_dir(args.out, create=False)
    if args.bundled:
        given = [f"--{name}" for name in ("tickets", "seed", "format") if getattr(args, name) is not None]
        if given:
            raise ConfigError(f"--bundled copies the shipped archive as it is: drop {', '.join(given)}, "
                              f"or drop --bundled to generate one.")
        written = copy_example_archive(args.out)
    else:
        written = write_example_archive(Path(args.out), n_tickets=args.tickets or EXAMPLE_ARCHIVE["n_tickets"],
                                        seed=EXAMPLE_ARCHIVE["seed"] if args.seed is None else args.seed,
                                        fmt=args.format or EXAMPLE_ARCHIVE["fmt"])
    for name, path in written.items():
        note(f"wrote {name} to {path}")
    return 0


# ---------------------------------------------------------------- demo


def _demo_archive(args: argparse.Namespace) -> Path:
    from cxlens.errors import DataError

    if args.data:
        folder = Path(args.data)
        if not folder.is_dir():
            raise DataError(f"No archive at {folder}: pass a folder holding tickets.csv (and messages.csv, ...), "
                            f"or leave --data out to use the bundled example.")
        return folder
    from cxlens.example_data import example_archive_path

    return example_archive_path()


def _text_models_missing(encoder: str) -> str | None:
    """Why the text models cannot run here (a missing optional package), or ``None`` when they can."""
    from cxlens.errors import MissingDependencyError

    try:
        from cxlens.nlp.encoders import check_encoder_name, get_encoder

        check_encoder_name(encoder)
        get_encoder(encoder).encode(["is my order on its way?"])
    except (MissingDependencyError, ImportError) as exc:
        return str(exc)
    return None


def demo_cmd(args: argparse.Namespace) -> int:
    folder = _demo_archive(args)
    what = f"the archive in {folder}" if args.data else "the bundled example archive (a generated year, 2025)"
    if not args.kpis_only:
        missing = _text_models_missing(args.encoder)
        if missing is None:
            return _scored_demo(args, folder, what)
        note(f"the text models cannot run here, so this demo shows the KPIs of the raw archive only: {missing}")
    from cxlens.pipelines.score import archive_tables

    return _kpi_demo(args, archive_tables(folder), what)


#: the demo's flags, for the options of the scoring run it makes (errors name the flag)
DEMO_FLAGS = {"out": "--out", "archive": "--data", "encoder": "--encoder", "limit": "--limit",
              "overwrite": "--overwrite"}


def _scored_demo(args: argparse.Namespace, folder: Path, what: str) -> int:
    """The scoring run of `cxlens score` (the same ScoreConfig and score()), then its summary."""
    from cxlens import ScoreConfig, read_scored, score
    from cxlens.errors import InvalidConfigError

    out = Path(args.out)
    earlier_demo = (out / DEMO_FILE).is_file()
    config = ScoreConfig(out=str(out), archive=str(folder), scorecard=DEMO_SCORECARD, encoder=args.encoder,
                         limit=args.limit, overwrite=args.overwrite or earlier_demo)
    started = time.perf_counter()
    try:
        config.validate()  # every problem at once, before any data is read
        with StageProgress(quiet=args.quiet, unit="rows") as progress:
            summary = score(config, progress=progress)
    except InvalidConfigError as exc:
        raise exc.for_cli(DEMO_FLAGS) from None
    seconds = time.perf_counter() - started
    reused = any("already holds" in n for n in summary.notes)
    (out / DEMO_FILE).write_text(json.dumps({"archive": str(folder), "encoder": args.encoder, "limit": args.limit,
                                             "scorecard": DEMO_SCORECARD}, indent=2) + "\n", encoding="utf-8")
    scored = read_scored(out, tables=("tickets", "accounts"), columns={
        "tickets": ("ticket_id", "topic_id", "topic", "request_type", "true_request_type", "sentiment"),
        "accounts": ("account_id", "plan", "mrr", "churn_probability", "health_score", "health_band", "reason_1")})
    used = summary.manifest.get("counts", {}).get("tickets", {}).get("used", 0)
    encoder = (f"the {STUDENT} encoder (our distilled two-layer student: about 3x faster than `cxlens score`'s "
               f"default minilm, at the accuracy cost in docs/benchmarks.md)" if args.encoder == STUDENT
               else f"the {args.encoder} encoder")
    sample = f"the first {used:,} tickets (--limit)" if args.limit else f"{used:,} tickets"
    timing = "already scored: shown again" if reused else f"scored in {seconds:.0f} s"
    _heading(f"cxlens demo: {sample} of {what}, {timing}, with {encoder}; script QA against the "
             f"{DEMO_SCORECARD} scorecard", first=True)
    _print_scored(scored, summary.manifest, top=args.top)
    if not reused:
        for line in summary.notes:
            note(f"note: {line}")
    note(f"wrote {out}: open it with `cxlens dashboard {out}` or `cxlens report {out} --out report.html`")
    return 0


def _heading(text: str, *, first: bool = False) -> None:
    """A line before a section: plain on a terminal, a ``#`` comment between the TSV blocks of a pipe."""
    blank = "" if first else "\n"
    sys.stdout.write(f"{blank}{text}\n" if sys.stdout.isatty() else f"{blank}# {text}\n")


def _section(heading: str, columns, rows, *, right=()) -> None:
    """One table of the demo: a rich table titled ``heading`` on a terminal, else ``# heading`` and TSV."""
    if sys.stdout.isatty():
        sys.stdout.write("\n")
        print_table(columns, rows, title=heading, right=right)
    else:
        _heading(heading)
        print_table(columns, rows, fmt="tsv")


def _print_scored(scored, manifest: dict, *, top: int) -> None:
    from cxlens.metrics import KPIReport
    from cxlens.pipelines.kpi_report import kpi_report_text

    if scored.kpis:
        k = scored.kpis
        report = KPIReport(kpis=k.get("kpis", {}), n=k.get("n", {}), groups=k.get("groups", []),
                           by=tuple(k.get("by", ())), period=k.get("period"), skipped=k.get("skipped", {}))
        _section("KPI summary (the AI-derived ones included: request types, topics, sentiment, script QA, churn; "
                 "in full in kpis.json)", ("KPI", "value", "n"), kpi_report_text(report), right=("value", "n"))
    tickets = scored.tickets
    if tickets is not None and "topic" in tickets:
        _section("top topics (customer text of each ticket; outliers left out)",
                 ("topic", "tickets", "share %", "negative %"), _topic_rows(tickets, top),
                 right=("tickets", "share %", "negative %"))
    if tickets is not None and "request_type" in tickets:
        _section("request-type mix (other: no confident type; true %: how often the archive's own label agrees)",
                 *_request_type_table(tickets), right=("tickets", "share %", "true %"))
    accounts = scored.accounts
    if accounts is not None and "churn_probability" in accounts:
        risk = manifest.get("accounts_summary", {})
        days = f" in the next {risk['period_days']:.0f} days" if risk.get("period_days") else ""
        rule = risk.get("risk_rule") or f"above the risk threshold {risk.get('risk_threshold')}"
        above = (f"; {risk['at_risk_accounts']} of {risk['accounts_scored']} at risk: {rule}"
                 if {"at_risk_accounts", "accounts_scored"} <= set(risk) else "")
        ranked = accounts.sort_values("churn_probability", ascending=False).head(top)
        columns = [c for c in ("account_id", "plan", "mrr", "churn_probability", "health_score", "health_band",
                               "reason_1") if c in ranked]
        rows = [[_round(v) for v in row] for row in ranked[columns].itertuples(index=False, name=None)]
        _section(f"accounts most at risk of churning{days}{above}",
                 [c if c != "reason_1" else "main reason" for c in columns], rows,
                 right=("mrr", "churn_probability", "health_score"))


def _round(value):
    return round(value, 3) if isinstance(value, float) else value


def _topic_rows(tickets, top: int) -> list[tuple]:
    known = tickets[tickets["topic_id"].fillna(-1).astype(int) >= 0] if "topic_id" in tickets else tickets
    known = known[known["topic"].notna()]
    counts = known["topic"].value_counts().head(top)
    rows = []
    for topic, n in counts.items():
        negative = (known.loc[known["topic"] == topic, "sentiment"] == "negative").mean() * 100 \
            if "sentiment" in known else float("nan")
        rows.append((topic, int(n), round(100 * n / max(len(tickets), 1), 1), round(negative, 1)))
    return rows


def _request_type_table(tickets) -> tuple[tuple[str, ...], list[tuple]]:
    """Share of each predicted request type and, where the archive keeps the truth, how often it agrees."""
    typed = tickets[tickets["request_type"].notna()]
    truth = "true_request_type" in typed and typed["true_request_type"].notna().any()
    columns = ("request type", "tickets", "share %") + (("true %",) if truth else ())
    rows = []
    for label, n in typed["request_type"].value_counts().items():
        row = (label, int(n), round(100 * n / max(len(typed), 1), 1))
        if truth:
            these = typed[typed["request_type"] == label]
            row += (round(100 * (these["true_request_type"] == label).mean(), 1),)
        rows.append(row)
    return columns, rows


def _kpi_demo(args: argparse.Namespace, paths: dict[str, str], what: str) -> int:
    """The KPI summary of the raw archive (no text models): kpis.json and per channel x month figures."""
    from cxlens.cli._kpis import print_report
    from cxlens.dataset import load_dataset
    from cxlens.pipelines.kpi_report import kpi_report, kpi_tables, write_kpi_report
    from cxlens._outdir import prepare_output_dir

    prepare_output_dir(args.out, inputs=paths.values(), create=False)
    dataset = load_dataset(**paths)
    print_summary(dataset)
    dataset.write_quarantine(args.out)
    report = kpi_report(kpi_tables(dataset), by=["channel"], period="month")
    path = write_kpi_report(report, Path(args.out) / "kpis.json")
    groups_csv = write_kpi_report(report, Path(args.out) / "kpis_by_channel_month.csv", fmt="csv")
    _heading(f"cxlens demo: the KPIs of {what} (no text models: no request types, topics, sentiment, QA or churn)",
             first=True)
    print_report(report, groups_hint=f"per channel x month figures in {groups_csv}")
    note(f"KPI report written to {path}; `cxlens dashboard {Path(paths['tickets']).parent}` shows the classic pages")
    return 0
