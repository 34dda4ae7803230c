"""``cxlens score``: batch-score a ticket archive (streaming, resumable; local or Spark engine)."""

from __future__ import annotations

import argparse
import sys

from cxlens.cli._common import add_input_args, write_counts

__all__ = ["add_commands"]

HEADS = ("request_type", "topic", "sentiment", "qa")


def add_commands(sub: argparse._SubParsersAction, *, train: argparse._SubParsersAction) -> None:
    score = sub.add_parser(
        "score", help="batch-score an archive: request type, topic, sentiment, script QA, churn/health, KPIs",
        description="Run every pipeline whose inputs are present over an archive of any size, in chunks, "
                    "writing Parquet parts and a manifest to --out. Rerun the same command after a crash "
                    "or Ctrl-C to continue from the last finished chunk. Output layout: docs/score-output.md.")
    add_input_args(score)
    score.add_argument("--archive", metavar="DIR",
                       help="a folder holding tickets.*, messages.*, accounts.*, surveys.*, mentions.* "
                            "(e.g. examples/archive); explicit --tickets etc. take precedence")
    score.add_argument("--out", required=True, metavar="DIR", help="output folder (created; reused to resume)")
    score.add_argument("--scorecard", metavar="FILE|NAME",
                       help="score agent messages against this scorecard (see `cxlens scorecard list`)")
    score.add_argument("--topic-model", metavar="DIR",
                       help="a topic model from `cxlens topics discover` (default: fit one on a sample)")
    score.add_argument("--topic-sample", type=int, default=10_000, metavar="N",
                       help="customer texts the topic model is fitted on when none is given (default 10000)")
    score.add_argument("--request-type-model", metavar="DIR",
                       help="a classifier from `cxlens train classifier` (default: the shipped request-type model)")
    score.add_argument("--sentiment-model", metavar="DIR|NAME",
                       help="a model from `cxlens train sentiment`, or a shipped one: frozen (default: a head on "
                            "the vectors --encoder makes for every head) or tuned (the fine-tuned student of "
                            "`cxlens mentions score`: more accurate on complaint tweets, but it encodes customer "
                            "messages a second time, about 30%% fewer tickets/s)")
    score.add_argument("--fast", action="store_true", help="lexicon sentiment instead of the model (no encoder for it)")
    score.add_argument("--skip", action="append", choices=HEADS, default=[], metavar="HEAD",
                       help=f"leave a head out ({', '.join(HEADS)}); repeatable")
    score.add_argument("--chunk-rows", type=int, default=20_000, metavar="N",
                       help="tickets per chunk: the unit of memory and of resuming (default 20000)")
    score.add_argument("--limit", type=int, metavar="N", help="score only the first N tickets (a quick look)")
    score.add_argument("--encoder", default="minilm", metavar="NAME",
                       help="text encoder every head reads: minilm (default) or minilm-l2, the distilled 2-layer "
                            "student in the same vector space (about 3x faster; accuracy cost in docs/benchmarks.md)")
    score.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                       help="where the encoder runs (cuda needs torch to see a GPU)")
    score.add_argument("--engine", choices=("local", "spark"), default="local",
                       help="local (default) or spark (pyspark; local mode unless --master)")
    score.add_argument("--master", metavar="URL", help="Spark master URL, e.g. spark://host:7077 (default local[*])")
    score.add_argument("--config", metavar="FILE", help="KPI config (TOML): business hours, SLA, costs, targets")
    score.add_argument("--overwrite", action="store_true", help="replace an earlier run in --out with other inputs")
    score.add_argument("--keep-work", action="store_true", help="keep the chunk files in --out/_work after the run")
    score.set_defaults(func=score_command)


def _progress_bar():
    from rich.progress import (BarColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn,
                               TimeRemainingColumn)
    from rich.text import Text

    class RowsPerSecond(ProgressColumn):
        def render(self, task) -> Text:
            speed = task.finished_speed or task.speed
            return Text("" if speed is None else f"{speed:,.0f} rows/s")

    class Rows(ProgressColumn):
        def render(self, task) -> Text:
            total = "" if task.total is None else f"/{task.total:,.0f}"
            return Text(f"{task.completed:,.0f}{total} rows")

    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), Rows(), RowsPerSecond(), TimeElapsedColumn(),
                    TextColumn("left"), TimeRemainingColumn(), transient=False)


def score_command(args: argparse.Namespace) -> int:
    from cxlens.config import KPIConfig, load_config
    from cxlens.errors import ConfigError
    from cxlens.io import parse_mapping
    from cxlens.pipelines.score._run import run_score, score_inputs_from
    from cxlens.pipelines.score import HeadOptions

    if args.device == "cuda":
        from cxlens.nlp.encoders._encoders import cuda_available

        if not cuda_available():
            raise ConfigError("--device cuda: torch sees no CUDA device here. Use --device cpu.")
    from cxlens.nlp.encoders import check_encoder_name

    check_encoder_name(args.encoder)  # an unknown name fails before any data is read
    if args.scorecard:  # a broken scorecard fails before any data is read
        from cxlens.nlp.qa import load_scorecard

        load_scorecard(args.scorecard)
    paths = {t: getattr(args, t) for t in ("tickets", "messages", "mentions", "accounts", "surveys")}
    if args.archive:
        from cxlens.pipelines.score import archive_tables

        paths = {**archive_tables(args.archive), **{k: v for k, v in paths.items() if v}}
    inputs = score_inputs_from(paths, mapping=parse_mapping(args.map), encoding=args.encoding)
    options = HeadOptions(request_type_model=args.request_type_model, topic_model=args.topic_model,
                          sentiment_model=args.sentiment_model, fast_sentiment=args.fast, scorecard=args.scorecard,
                          device=args.device, skip=tuple(sorted(set(args.skip))), encoder=args.encoder)
    config = load_config(args.config) if args.config else KPIConfig()
    common = dict(out=args.out, options=options, chunk_rows=args.chunk_rows, limit=args.limit,
                  topic_sample=args.topic_sample, kpi_config=config, overwrite=args.overwrite,
                  keep_work=args.keep_work)
    with _progress_bar() as bar:
        tasks: dict[str, int] = {}

        def progress(stage: str, done: int, total: int | None) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        try:
            if args.engine == "spark":
                from cxlens.pipelines.score import run_score_spark

                summary = run_score_spark(inputs, master=args.master, progress=progress, **common)
            else:
                summary = run_score(inputs, progress=progress, **common)
        except KeyboardInterrupt:
            bar.stop()
            sys.stderr.write(f"cxlens: interrupted; the finished chunks are kept in {args.out}: rerun the same "
                             f"command to continue from there\n")
            return 130
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
