"""``cxlens topics discover``: cluster messages into topics with labels, trends and emerging topics."""

from __future__ import annotations

import argparse
import sys

__all__ = ["add_commands"]


def add_commands(sub: argparse._SubParsersAction, *, train: argparse._SubParsersAction) -> None:
    topics = sub.add_parser("topics", help="discover topics in customer messages")
    tsub = topics.add_subparsers(dest="topics_command", metavar="ACTION")
    topics.set_defaults(func=lambda args: topics.print_help())

    discover = tsub.add_parser(
        "discover", help="cluster messages into topics; write topics, assignments, trends, emerging topics",
        description="Cluster messages into topics (neighbour-smoothed k-means, close clusters merged; on a "
                    "20,000-message sample above 20,000), group them into at most 20 top-level topics, name "
                    "each with a key phrase from its messages, and write topics.csv, assignments, trends.csv, "
                    "emerging.csv and the model folder to --out.")
    discover.add_argument("--input", required=True, metavar="FILE", help="CSV, JSONL, JSON or Parquet (or a folder)")
    discover.add_argument("--text-col", required=True, metavar="COL", help="the message text column")
    discover.add_argument("--out", required=True, metavar="DIR", help="output folder")
    discover.add_argument("--time-col", metavar="COL", help="timestamp column: enables trends and emerging topics")
    discover.add_argument("--period", choices=("day", "week", "month", "quarter"), default="week",
                          help="trend period (default week)")
    discover.add_argument("--n-topics", type=int, metavar="K", help="merge topics down to K (default: found)")
    discover.add_argument("--previous", metavar="DIR",
                          help="a previous run's model folder (OUT/model): matched topics keep their ids")
    discover.add_argument("--seed-topics", metavar="FILE",
                          help="known taxonomy: .json/.yaml list or .csv with label[, description, examples]")
    discover.add_argument("--encoder", default="minilm",
                          choices=("minilm", "minilm-onnx", "minilm-torch", "minilm-l2", "tfidf"),
                          help="text encoder (default minilm; minilm-l2 is the distilled student, tfidf the fastest)")
    discover.add_argument("--limit", type=int, metavar="N", help="only the first N rows (after --where)")
    discover.add_argument("--where", action="append", default=[], metavar="COL=VALUE",
                          help="keep rows where COL equals VALUE, e.g. --where inbound=true (repeatable)")
    discover.add_argument("--max-outlier-share", type=float, default=0.10,
                          help="most messages left as outliers (default 0.10); the rest join their nearest topic")
    discover.add_argument("--min-count", type=int, default=10,
                          help="an emerging-topic alert needs at least this many messages in the period (default 10)")
    discover.add_argument("--min-growth", type=float, default=2.0,
                          help="an alert needs the topic's share to be at least this factor of its baseline share "
                               "(default 2)")
    discover.add_argument("--baseline-periods", type=int, default=4, metavar="N",
                          help="the baseline is the topic's share over the N periods before (default 4)")
    discover.add_argument("--baseline", choices=("median", "mean"), default="median",
                          help="how the baseline periods' shares are combined (default median)")
    discover.add_argument("--min-z", type=float, default=4.0,
                          help="an alert needs a Poisson z-score of at least this vs the baseline (default 4)")
    discover.add_argument("--cooldown", type=int, default=2, metavar="N",
                          help="after a period that met the rule, the topic stays quiet for N periods (default 2)")
    discover.add_argument("--samples", type=int, default=3, metavar="N",
                          help="sample messages per alert in emerging.csv (default 3)")
    discover.add_argument("--format", choices=("parquet", "csv"), default="parquet", dest="assignments_format",
                          help="assignments file format (default parquet)")
    discover.add_argument("--encoding", default="utf-8", help="text encoding of CSV/JSON input")
    discover.add_argument("--random-state", type=int, default=0)
    discover.set_defaults(func=topics_discover)


def topics_discover(args: argparse.Namespace) -> int:
    from cxlens._outdir import prepare_output_dir
    from cxlens.cli._common import StageProgress
    from cxlens.pipelines.topics import discover_topics

    prepare_output_dir(args.out, inputs=[args.input, args.previous, args.seed_topics], create=False)
    with StageProgress(quiet=getattr(args, "quiet", False), unit="") as progress:
        result = discover_topics(
            args.input, text_col=args.text_col, out=args.out, time_col=args.time_col, period=args.period,
            where=args.where, limit=args.limit, encoder=args.encoder, n_topics=args.n_topics,
            previous=args.previous, seed_topics=args.seed_topics, max_outlier_share=args.max_outlier_share,
            min_count=args.min_count, min_growth=args.min_growth, baseline_periods=args.baseline_periods,
            baseline=args.baseline, min_z=args.min_z, cooldown=args.cooldown, samples=args.samples,
            assignments_format=args.assignments_format,
            encoding=args.encoding, random_state=args.random_state, progress=progress)
    summary = result["summary"]
    sys.stderr.write(
        f"cxlens: {summary['topics']} topics under {summary['top_level']} top-level topics in "
        f"{summary['modelled']:,} messages "
        f"({summary['method']}, encoder {summary['encoder']}); outliers {summary['outlier_share']:.1%}; "
        f"{summary['new_topics']} new vs --previous; {summary['emerging']} emerging rows\n")
    for label in summary["labels"]:
        sys.stderr.write(f"cxlens:   {label}\n")
    for name, path in result["paths"].items():
        sys.stderr.write(f"cxlens: wrote {name} to {path}\n")
    return 0
