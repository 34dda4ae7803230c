"""``cxlens score``: batch-score a ticket archive (streaming, resumable; local or Spark engine)."""

from __future__ import annotations

import argparse
import sys

from cxlens._scoring import DEVICES, ENGINES, SKIPPABLE_HEADS
from cxlens.cli._common import LEGACY_CLASSIFIER, add_input_args, add_trust_model_arg, write_counts

__all__ = ["FLAGS", "add_commands"]

#: ScoreConfig parameter -> the flag that sets it (errors name the flag)
FLAGS = {"out": "--out", "archive": "--archive", "tickets": "--tickets", "messages": "--messages",
         "mentions": "--mentions", "accounts": "--accounts", "surveys": "--surveys", "mapping": "--map",
         "encoding": "--encoding", "request_type_model": "--request-type-model",
         "request_types": "--request-types", "topic_model": "--topic-model",
         "topic_sample": "--topic-sample", "sentiment_model": "--sentiment-model", "fast_sentiment": "--fast",
         "scorecard": "--scorecard", "encoder": "--encoder", "device": "--device", "skip": "--skip",
         "chunk_rows": "--chunk-rows", "limit": "--limit", "engine": "--engine", "master": "--master",
         "kpi_config": "--config", "overwrite": "--overwrite", "keep_work": "--keep-work",
         "trust_model": "--trust-model"}


def add_commands(sub: argparse._SubParsersAction, *, train: argparse._SubParsersAction) -> None:
    score = sub.add_parser(
        "score", help="batch-score an archive: request type, topic, sentiment, script QA, churn/health, KPIs",
        description="Run every pipeline whose inputs are present over an archive of any size, in chunks, "
                    "writing Parquet parts and a manifest to --out. Rerun the same command after a crash "
                    "or Ctrl-C to continue from the last finished chunk. Output layout: docs/score-output.md.")
    add_input_args(score)
    score.add_argument("--out", required=True, metavar="DIR", help="output folder (created; reused to resume)")
    score.add_argument("--scorecard", metavar="FILE|NAME",
                       help="score agent messages against this scorecard (see `cxlens scorecard list`)")
    score.add_argument("--topic-model", metavar="DIR",
                       help="a topic model from `cxlens topics discover` (default: fit one on a sample)")
    score.add_argument("--topic-sample", type=int, default=10_000, metavar="N",
                       help="customer texts the topic model is fitted on when none is given (default 10000)")
    score.add_argument("--request-type-model", metavar="DIR",
                       help="a classifier from `cxlens train classifier` (default: the shipped request-type model)")
    score.add_argument("--request-types", metavar="FILE",
                       help="your own request types: a taxonomy file (zero-shot from descriptions, few-shot from "
                            "examples) or a folder from `cxlens train classifier --taxonomy` (docs/taxonomy.md)")
    add_trust_model_arg(score, what=f"a --request-type-model that is {LEGACY_CLASSIFIER}")
    score.add_argument("--sentiment-model", metavar="DIR|NAME",
                       help="a model from `cxlens train sentiment`, or a shipped one: frozen (default: a head on "
                            "the vectors --encoder makes for every head) or tuned (the fine-tuned student of "
                            "`cxlens mentions score`: more accurate on complaint tweets, but it encodes customer "
                            "messages a second time, about 30%% fewer tickets/s)")
    score.add_argument("--fast", action="store_true", help="lexicon sentiment instead of the model (no encoder for it)")
    score.add_argument("--skip", action="append", default=[], metavar="HEAD",
                       help=f"leave a head out ({', '.join(SKIPPABLE_HEADS)}); repeatable")
    score.add_argument("--chunk-rows", type=int, default=20_000, metavar="N",
                       help="tickets per chunk: the unit of memory and of resuming (default 20000)")
    score.add_argument("--limit", type=int, metavar="N", help="score only the first N tickets (a quick look)")
    score.add_argument("--encoder", default="minilm", metavar="NAME",
                       help="text encoder every head reads: minilm (default) or minilm-l2, the distilled 2-layer "
                            "student in the same vector space (about 3x faster; accuracy cost in docs/benchmarks.md)")
    score.add_argument("--device", default="cpu", metavar="|".join(DEVICES),
                       help="where the encoder runs: cpu (default), cuda (needs torch to see a GPU) or auto")
    score.add_argument("--engine", default="local", metavar="|".join(ENGINES),
                       help="local (default) or spark (pyspark; local mode unless --master)")
    score.add_argument("--master", metavar="URL", help="Spark master URL, e.g. spark://host:7077 (default local[*])")
    score.add_argument("--config", metavar="FILE", help="KPI config (TOML): business hours, SLA, costs, targets")
    score.add_argument("--overwrite", action="store_true", help="replace an earlier run in --out with other inputs")
    score.add_argument("--skip-unreadable", action="store_true",
                       help="score without the part of an input file that cannot be read (a broken Parquet file, an "
                            "I/O error); by default such a file stops the run. What was skipped is in manifest.json")
    score.add_argument("--keep-work", action="store_true", help="keep the chunk files in --out/_work after the run")
    score.add_argument("--redact", action="store_true",
                       help="replace personal data (emails, phones, cards, IBANs, SSNs, IPs, addresses, names) with "
                            "typed placeholders before anything is scored or written; counts per type go to "
                            "manifest.json (docs/trust-and-safety.md)")
    score.add_argument("--redact-names", choices=("tagger", "rules"), default="tagger",
                       help="with --redact: person names by cxlens's rules plus its name tagger (default) or the "
                            "rules alone (three to four times faster, misses more names)")
    score.set_defaults(func=score_command)


def _progress_bar():
    from rich.progress import (BarColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn,
                               TimeRemainingColumn)
    from rich.text import Text

    from cxlens.cli._common import stderr_console

    class RowsPerSecond(ProgressColumn):
        def render(self, task) -> Text:
            speed = task.finished_speed or task.speed
            return Text("" if speed is None else f"{speed:,.0f} rows/s")

    class Rows(ProgressColumn):
        def render(self, task) -> Text:
            total = "" if task.total is None else f"/{task.total:,.0f}"
            return Text(f"{task.completed:,.0f}{total} rows")

    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), Rows(), RowsPerSecond(), TimeElapsedColumn(),
                    TextColumn("left"), TimeRemainingColumn(), transient=False, console=stderr_console())


def score_config(args: argparse.Namespace):
    """The :class:`~cxlens.ScoreConfig` the flags describe (nothing is checked here: the config does it)."""
    from cxlens._scoring import ScoreConfig
    from cxlens.io import parse_mapping

    return ScoreConfig(out=args.out, archive=args.archive, tickets=args.tickets, messages=args.messages,
                       mentions=args.mentions, accounts=args.accounts, surveys=args.surveys,
                       mapping=parse_mapping(args.map), encoding=args.encoding, date_format=args.date_format,
                       dates_between=args.dates_between, follow_symlinks=args.follow_symlinks,
                       skip_unreadable=args.skip_unreadable,
                       request_type_model=args.request_type_model,
                       request_types=args.request_types, trust_model=args.trust_model,
                       topic_model=args.topic_model,
                       topic_sample=args.topic_sample, sentiment_model=args.sentiment_model,
                       fast_sentiment=args.fast, scorecard=args.scorecard, encoder=args.encoder, device=args.device,
                       skip=tuple(args.skip), chunk_rows=args.chunk_rows, limit=args.limit, engine=args.engine,
                       master=args.master, kpi_config=args.config, overwrite=args.overwrite,
                       keep_work=args.keep_work)


def score_command(args: argparse.Namespace) -> int:
    from cxlens._prepared_scoring import converted_export, note_in_manifest
    from cxlens._scoring import score
    from cxlens.errors import InvalidConfigError

    config = score_config(args)
    # a helpdesk export folder given as --archive is converted first (beside --out), then scored
    try:
        config, converted = converted_export(config, redact=args.redact)
    except InvalidConfigError as exc:
        raise exc.for_cli({**FLAGS, "redact": "--redact"}) from None
    if converted is not None:
        sys.stderr.write(f"cxlens: --archive is a {converted['kind']} export: converted {converted['records_read']:,} "
                         f"records into {converted['folder']} ({converted['tickets']:,} tickets, quarantined "
                         f"{converted['quarantined']:,}; vendor comparison in its conversion/ folder)\n")
    try:
        config.validate()  # every problem at once, named by its flag, before any data is read
    except InvalidConfigError as exc:
        raise exc.for_cli(FLAGS) from None
    with _progress_bar() as bar:
        tasks: dict[str, int] = {}

        def progress(stage: str, done: int, total: int | None) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        try:
            if args.redact and converted is None:  # (a converted export was redacted as it was converted)
                from cxlens._prepared_scoring import score_redacted

                summary = score_redacted(config, progress=progress, names=args.redact_names)
            else:
                summary = score(config, progress=progress)
        except InvalidConfigError as exc:  # e.g. --out holds a run with other options
            bar.stop()
            raise exc.for_cli(FLAGS) from None
        except KeyboardInterrupt:
            bar.stop()
            sys.stderr.write(f"cxlens: interrupted; the finished chunks are kept in {args.out}: rerun the same "
                             f"command to continue from there\n")
            return 130
    if converted is not None:
        note_in_manifest(args.out, "converted_from", converted)
        if args.redact:  # redacted as it was converted: the counts are the conversion's
            note_in_manifest(args.out, "redaction", {"at_conversion": converted.get("redacted", {})})
    _report(summary)
    return 0


def _report(summary) -> None:
    manifest = summary.manifest
    write_counts({"table": table, **c} for table, c in manifest.get("counts", {}).items())
    for table, path in manifest.get("quarantine", {}).items():
        sys.stderr.write(f"cxlens: {table}: quarantined rows (with reasons) in {path}\n")
    if summary.resumed_chunks:
        sys.stderr.write(f"cxlens: resumed: {summary.resumed_chunks} chunk(s) were already done\n")
    timings = manifest.get("timings", {})
    used = manifest.get("counts", {}).get("tickets", {}).get("used", 0)
    if timings.get("total_s"):
        sys.stderr.write(f"cxlens: {used:,} tickets in {timings['total_s']:,.1f} s "
                         f"({used / timings['total_s']:,.0f} tickets/s end to end)\n")
    for note in summary.notes:
        sys.stderr.write(f"cxlens: note: {note}\n")
    sys.stderr.write(f"cxlens: wrote {summary.out} (manifest.json, tickets/, kpis.json; see docs/score-output.md)\n")
