"""``cxlens qa`` (score conversations against a scorecard) and ``cxlens scorecard check | tune | list | from-abcd``."""

from __future__ import annotations

import argparse
import sys

from cxlens.cli._common import add_input_args, input_paths, load_inputs, print_table, write_counts

__all__ = ["add_commands"]


def add_commands(sub: argparse._SubParsersAction, *, train: argparse._SubParsersAction) -> None:
    qa = sub.add_parser("qa", help="script QA: score agent messages and conversations against a scorecard",
                        description="Detect scorecard steps in every agent message, score each conversation "
                                    "(script_adherence 0-100, auto_fail), summarise per agent and team.")
    add_input_args(qa, tables=("tickets", "messages"))
    qa.add_argument("--scorecard", required=True, metavar="FILE|NAME",
                    help="a scorecard .yaml/.toml file or a shipped name (see `cxlens scorecard list`)")
    qa.add_argument("--out", required=True, metavar="DIR", help="folder for the tables and qa_report.md")
    qa.add_argument("--encoder", default="minilm-l2",
                    help="text encoder for semantic matching: minilm-l2 (default: the distilled student, as "
                         "accurate here as minilm and about 3x faster), minilm, minilm-onnx, minilm-torch, tfidf, "
                         "or none (rules only)")
    qa.add_argument("--granularity", choices=("sentence", "message"), default="sentence",
                    help="compare sentences (default; evidence is a sentence) or whole messages")
    qa.add_argument("--threshold", type=float, default=None,
                    help="default semantic threshold (cosine) for items without their own")
    qa.add_argument("--references", metavar="FILE",
                    help="reference replies per intent (e.g. Bitext CSV) for reply-vs-reference similarity")
    qa.add_argument("--reference-columns", default="intent,response", metavar="INTENT,TEXT",
                    help="the intent and reply columns of --references (default intent,response)")
    qa.set_defaults(func=qa_command)

    card = sub.add_parser("scorecard", help="check, list or generate QA scorecards")
    csub = card.add_subparsers(dest="scorecard_command", metavar="ACTION")
    card.set_defaults(func=lambda args: card.print_help())
    check = csub.add_parser("check", help="validate scorecard files (all problems, with file and line) and warn "
                                          "about steps too close to another step")
    check.add_argument("files", nargs="+", metavar="FILE|NAME")
    check.add_argument("--encoder", default="minilm-l2",
                       help="encoder for the closeness warnings (default minilm-l2, as cxlens qa); none: skip them")
    check.set_defaults(func=scorecard_check)
    tune = csub.add_parser("tune", help="fit each step's threshold on labelled replies; precision and recall per step",
                           description="Tune on at most --per-step labelled replies per step (seeded), measure "
                                       "precision, recall and F1 per step on the other replies, and optionally "
                                       "write the scorecard with the tuned thresholds.")
    tune.add_argument("scorecard", metavar="SCORECARD", help="a scorecard file or a shipped name")
    tune.add_argument("--labelled", required=True, metavar="FILE",
                      help="CSV/JSONL/Parquet: a text column and one 0/1 column per step id")
    tune.add_argument("--text-column", default="text", help="the column of the replies (default text)")
    tune.add_argument("--per-step", type=int, default=20, help="most positives per step to tune on (default 20)")
    tune.add_argument("--seed", type=int, default=0)
    tune.add_argument("--encoder", default="minilm-l2", help="as for cxlens qa (thresholds are this encoder's)")
    tune.add_argument("--learn-phrases", action="store_true",
                      help="also learn phrases: words of a step's criterion that mark its labelled replies and no "
                           "other become rules of that step (helps where labels follow a keyword)")
    tune.add_argument("--out", metavar="FILE", help="write the scorecard with the tuned thresholds here (.yaml)")
    tune.add_argument("--format", choices=("table", "tsv", "csv", "json"), default="table")
    tune.set_defaults(func=scorecard_tune)
    lister = csub.add_parser("list", help="the scorecards shipped with cxlens")
    lister.add_argument("--format", choices=("table", "tsv", "csv", "json"), default="table",
                        help="table (default: a table on a terminal, TSV to a pipe or file), tsv, csv, json")
    lister.set_defaults(func=scorecard_list)
    abcd = csub.add_parser("from-abcd", help="generate abcd_<flow>.yaml scorecards from the ABCD guidelines")
    abcd.add_argument("--abcd-dir", required=True, metavar="DIR", help="folder with kb.json, guidelines.json, ontology.json")
    abcd.add_argument("--out", required=True, metavar="DIR")
    abcd.set_defaults(func=scorecard_from_abcd)


def _encoder(name: str):
    return None if name.lower() in ("none", "rules") else name


def qa_command(args: argparse.Namespace) -> int:
    from pathlib import Path

    from cxlens._outdir import prepare_output_dir
    from cxlens.errors import ConfigError
    from cxlens.pipelines.qa import qa_detector, qa_run, reference_model, write_qa_outputs

    paths = input_paths(args)
    prepare_output_dir(args.out, inputs=[*paths.values(), args.references, args.scorecard], create=False)
    if not paths.get("messages"):
        raise ConfigError("cxlens qa needs --messages (and usually --tickets for request types and agents), "
                          "or an --archive with a messages file.")
    encoder = _encoder(args.encoder)
    # everything that can be wrong with the configuration fails here, before any data is read
    detector = qa_detector(args.scorecard, encoder=encoder, granularity=args.granularity, threshold=args.threshold)
    references = None
    if args.references:
        if encoder is None:
            raise ConfigError("--references needs an encoder (not --encoder none).")
        intent_col, _, text_col = args.reference_columns.partition(",")
        references = reference_model(args.references, encoder=encoder, intent_col=intent_col.strip(),
                                     text_col=(text_col or "response").strip())
    dataset = load_inputs(args)
    summary = dataset.summary()
    write_counts(summary)
    if dataset.n_quarantined():
        for name, path in dataset.write_quarantine(args.out).items():
            sys.stderr.write(f"cxlens: {name}: quarantined rows written to {path}\n")
    run = qa_run(detector, dataset, references=references)
    written = write_qa_outputs(run, args.out, summary=summary)
    conv = run.result.conversations
    scored = conv["script_adherence"].notna()
    sys.stderr.write(f"cxlens: {int(scored.sum()):,} conversations scored against {run.scorecard.name}: "
                     f"mean adherence {conv.loc[scored, 'script_adherence'].mean():.1f}, "
                     f"auto-fail {int(conv['auto_fail'].fillna(False).astype(bool).sum()):,}\n")
    sys.stderr.write(f"cxlens: wrote {', '.join(p.name for p in written.values())} to {Path(args.out)}\n")
    for note in run.notes:
        sys.stderr.write(f"cxlens: note: {note}\n")
    return 0


def scorecard_check(args: argparse.Namespace) -> int:
    from cxlens.errors import ConfigError, UnknownNameError
    from cxlens.nlp.qa import StepDetector, load_scorecard, step_overlaps

    failed = 0
    for name in args.files:
        try:
            card = load_scorecard(name)
        except (ConfigError, UnknownNameError) as exc:
            failed += 1
            sys.stderr.write(f"{exc}\n")
            continue
        n_steps = sum(len(s.steps) for s in card.scripts)
        n_forbidden = sum(len(s.forbidden) for s in card.scripts)
        sys.stdout.write(f"{card.source}: ok ({card.name}: {len(card.scripts)} script(s), {n_steps} steps, "
                         f"{n_forbidden} forbidden items)\n")
        encoder = _encoder(args.encoder)
        if encoder is not None:
            for warning in step_overlaps(StepDetector(scorecard=card, encoder=encoder).fit()):
                sys.stderr.write(f"{card.source}: warning: {warning}\n")
    return 2 if failed else 0


def scorecard_tune(args: argparse.Namespace) -> int:
    from cxlens.nlp.qa import load_scorecard, read_labelled, tune_scorecard, tuned_scorecard, write_scorecard

    card = load_scorecard(args.scorecard)
    texts, labels = read_labelled(args.labelled, card, text_column=args.text_column)
    detector, report = tune_scorecard(card, texts, labels, encoder=_encoder(args.encoder), per_step=args.per_step,
                                      seed=args.seed, learn_phrases=args.learn_phrases)

    def num(x, missing: str = "n/a") -> str:
        return missing if x is None or x != x else f"{x:.2f}"

    rows = [(r.step, r.tuned_on, num(r.threshold, "off"), r.heldout_positives,
             num(r.precision), num(r.recall), num(r.f1), r.learned_phrases) for r in report.itertuples()]
    print_table(("step", "tuned_on", "threshold", "heldout_pos", "precision", "recall", "f1", "learned_phrases"), rows,
                title=f"{card.name}: tuned on <= {args.per_step} positives per step, measured on the rest",
                fmt=args.format, right=("tuned_on", "threshold", "heldout_pos", "precision", "recall", "f1"))
    measured = report["f1"].dropna()
    sys.stderr.write(f"cxlens: macro-F1 on the held-out replies {measured.mean():.3f} over {len(measured)} steps\n")
    if args.out:
        path = write_scorecard(tuned_scorecard(detector), args.out,
                               header=f"{card.name}, thresholds tuned on {args.labelled} with encoder {args.encoder}")
        sys.stderr.write(f"cxlens: wrote {path}\n")
    return 0


def scorecard_list(args: argparse.Namespace) -> int:
    from cxlens.nlp.qa import get_scorecard_names, load_scorecard

    rows = []
    for name in get_scorecard_names():
        card = load_scorecard(name)
        rows.append((name, len(card.scripts), sum(len(s.steps) for s in card.scripts), card.description))
    print_table(("name", "scripts", "steps", "description"), rows, title="shipped scorecards", fmt=args.format,
                right=("scripts", "steps"))
    return 0


def scorecard_from_abcd(args: argparse.Namespace) -> int:
    from cxlens._outdir import prepare_output_dir
    from cxlens.nlp.qa import write_abcd_scorecards

    prepare_output_dir(args.out, inputs=[args.abcd_dir], create=False)
    for path in write_abcd_scorecards(args.abcd_dir, args.out):
        sys.stdout.write(f"{path}\n")
    return 0
