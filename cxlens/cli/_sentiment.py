"""``cxlens mentions score``, ``cxlens sentiment`` and ``cxlens train sentiment``."""

from __future__ import annotations

import argparse
import json
import sys

from cxlens.cli._common import write_counts

__all__ = ["add_commands"]


def add_commands(sub: argparse._SubParsersAction, *, train: argparse._SubParsersAction) -> None:
    mentions = sub.add_parser("mentions", help="social mentions: sentiment, questions, complaints, brands, spikes")
    msub = mentions.add_subparsers(dest="mentions_command", metavar="ACTION")
    mentions.set_defaults(func=lambda args: mentions.print_help())

    score = msub.add_parser("score", help="score a mentions table and list negative spikes")
    score.add_argument("--input", required=True, metavar="FILE", help="mentions table (CSV, JSONL, JSON, Parquet)")
    score.add_argument("--format", choices=("mentions", "twcs"), default="mentions",
                       help="mentions: the canonical table (default); twcs: a Customer Support on Twitter export")
    score.add_argument("--out", required=True, metavar="DIR", help="folder for mentions_scored, spikes, summary")
    score.add_argument("--brands", default=None, metavar="A,B",
                       help="brand / product names to detect, comma-separated")
    score.add_argument("--fast", action="store_true", help="lexicon (VADER + support fixes) instead of the model")
    score.add_argument("--model", default=None, metavar="DIR|NAME",
                       help="a model folder from 'cxlens train sentiment', or a shipped one: tuned (default; the "
                            "distilled student fine-tuned on tweets) or frozen (a head on frozen MiniLM vectors)")
    score.add_argument("--encoder", default=None, metavar="NAME",
                       help="run a frozen-encoder model (from 'cxlens train sentiment' without --finetune-epochs) on "
                            "another encoder of its vector space, e.g. minilm-l2; the shipped model encodes with "
                            "its own tuned student and refuses this option")
    score.add_argument("--spike-k", type=float, default=3.0,
                       help="a spike is a period with negatives > trailing mean + k * std (default 3)")
    score.add_argument("--spike-window", type=int, default=7, help="trailing periods compared (default 7)")
    score.add_argument("--period", choices=("hour", "day", "week", "month"), default="day")
    score.add_argument("--output-format", choices=("csv", "parquet", "jsonl"), default="csv",
                       help="format of mentions_scored (default csv)")
    score.add_argument("--map", action="append", metavar="THEIRS=OURS", default=[],
                       help="rename a column on read (repeatable)")
    score.add_argument("--encoding", default="utf-8")
    score.set_defaults(func=mentions_score_cmd)

    sent = sub.add_parser("sentiment", help="score texts given on the command line or one per line on stdin")
    sent.add_argument("texts", nargs="*", help="texts (default: read lines from stdin)")
    sent.add_argument("--fast", action="store_true", help="use the lexicon instead of the model")
    sent.add_argument("--model", default=None, metavar="DIR")
    sent.set_defaults(func=sentiment_cmd)

    tr = train.add_parser("sentiment", help="train a sentiment model on your own labelled posts (head, or "
                                            "--finetune-epochs N to tune the encoder too)")
    tr.add_argument("--data", required=True, metavar="FILE", help="labelled posts (CSV, JSONL, JSON, Parquet)")
    tr.add_argument("--text-col", required=True, metavar="COL")
    tr.add_argument("--label-col", required=True, metavar="COL",
                    help="negative/neutral/positive (also neg/neu/pos or -1/0/1)")
    tr.add_argument("--out", required=True, metavar="DIR", help="folder for the saved model")
    tr.add_argument("--encoder", default="minilm", help="encoder name (default minilm)")
    tr.add_argument("--no-lexicon-features", action="store_true",
                    help="the encoder vector only (default: plus the four lexicon numbers)")
    tr.add_argument("--C", type=float, default=2.0, help="inverse regularisation (default 2)")
    tr.add_argument("--finetune-epochs", type=int, default=0, metavar="N",
                    help="fine-tune the encoder on the labels for N passes before fitting the head (default 0: "
                         "frozen encoder; MiniLM runs about 20-40 posts/s per pass on 2 CPU cores, uses a GPU when "
                         "there is one; with --encoder minilm-l2 the student's two layers are tuned)")
    tr.add_argument("--lr", type=float, default=5e-5, help="fine-tuning peak learning rate (default 5e-5)")
    tr.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="where to fine-tune")
    tr.add_argument("--tracking-uri", default=None, help="MLflow tracking URI (default ./mlruns)")
    tr.add_argument("--experiment", default="cxlens-sentiment", help="MLflow experiment name")
    tr.add_argument("--register-name", default=None, help="register the model under this name")
    tr.add_argument("--no-tracking", action="store_true", help="do not log to MLflow")
    tr.set_defaults(func=train_sentiment_cmd)


def mentions_score_cmd(args: argparse.Namespace) -> int:
    from cxlens._outdir import prepare_output_dir
    from cxlens.errors import ConfigError
    from cxlens.io import parse_mapping
    from cxlens.nlp.sentiment import load_sentiment_model
    from cxlens.pipelines.mentions import mentions_report, parse_brands, read_mentions, write_mentions_report

    if args.spike_k < 0 or args.spike_window < 1:
        raise ConfigError("--spike-k must be >= 0 and --spike-window >= 1.")
    if args.fast and (args.model or args.encoder):
        given = " and ".join(f"--{o}" for o in ("model", "encoder") if getattr(args, o))
        raise ConfigError(f"--fast scores with the lexicon, which reads no model or encoder: drop {given}, "
                          "or drop --fast to use them.")
    prepare_output_dir(args.out, inputs=[args.input, args.model], create=False)
    table = read_mentions(args.input, fmt=args.format, mapping=parse_mapping(args.map), encoding=args.encoding)
    write_counts([table.summary()])
    model = None if args.fast else load_sentiment_model(args.model, encoder=args.encoder)
    report = mentions_report(table.frame, brands=parse_brands(args.brands), fast=args.fast, model=model,
                             period=args.period, spike_k=args.spike_k, spike_window=args.spike_window,
                             quarantine=table.quarantine)
    written = write_mentions_report(report, args.out, fmt=args.output_format)
    s = report.summary
    sys.stderr.write(f"cxlens: {s['mentions']:,} mentions scored ({s['scorer']}): {s['negative']:,} negative, "
                     f"{s['neutral']:,} neutral, {s['positive']:,} positive; {s['questions']:,} questions, "
                     f"{s['complaints']:,} complaints, {s['not_english']:,} not in English\n")
    for _, row in report.spikes.iterrows():
        who = f" [{row['brand']}]" if "brand" in row and isinstance(row["brand"], str) else ""
        sys.stderr.write(f"cxlens: SPIKE{who} {row['period_start']}: {row['negative_count']} negative "
                         f"(threshold {row['threshold']:.1f}); e.g. {str(row['examples'])[:160]}\n")
    for name, path in written.items():
        sys.stderr.write(f"cxlens: wrote {name} to {path}\n")
    return 0


def sentiment_cmd(args: argparse.Namespace) -> int:
    from cxlens.nlp.sentiment import load_sentiment_model, score_sentiment

    texts = args.texts or [line.rstrip("\n") for line in sys.stdin]
    model = None if args.fast else load_sentiment_model(args.model)
    scores = score_sentiment(texts, model=model, fast=args.fast)
    for text, row in zip(texts, scores.itertuples(index=False)):
        sys.stdout.write(json.dumps({"text": text, "sentiment": row.sentiment,
                                     "score": round(float(row.sentiment_score), 4),
                                     "confidence": round(float(row.sentiment_confidence), 4),
                                     "language": row.language, "flag": row.sentiment_flag},
                                    ensure_ascii=False) + "\n")
    return 0


def train_sentiment_cmd(args: argparse.Namespace) -> int:
    from cxlens._outdir import prepare_output_dir
    from cxlens.cli._common import StageProgress
    from cxlens.pipelines.train import tracked_sentiment_run, trained_sentiment

    prepare_output_dir(args.out, inputs=[args.data], create=False)  # before minutes of training
    with StageProgress(quiet=getattr(args, "quiet", False)) as progress:
        trained = trained_sentiment(args.data, text_col=args.text_col, label_col=args.label_col, encoder=args.encoder,
                                    C=args.C, lexicon_features=not args.no_lexicon_features,
                                    finetune_epochs=args.finetune_epochs, learning_rate=args.lr, device=args.device,
                                    progress=progress)
    trained.model.save(args.out)
    what = f"fine-tuned encoder ({args.finetune_epochs} epochs) + head" if args.finetune_epochs else "head"
    sys.stderr.write(f"cxlens: trained sentiment {what} ({args.encoder}) on {trained.n_texts:,} posts in "
                     f"{trained.fit_seconds:.1f}s; saved to {args.out}\n")
    if not args.no_tracking:
        run = tracked_sentiment_run(trained, model_dir=args.out, experiment=args.experiment,
                                    registered_name=args.register_name, tracking_uri=args.tracking_uri)
        sys.stderr.write(f"cxlens: logged MLflow run {run.run_id} to {run.tracking_uri}\n")
    return 0
