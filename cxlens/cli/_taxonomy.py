"""``cxlens taxonomy check|review``: validate a team's taxonomy file; list the messages worth a human label."""

from __future__ import annotations

import argparse
import sys

__all__ = ["add_commands"]


def add_commands(sub: argparse._SubParsersAction, *, train: argparse._SubParsersAction) -> None:
    from cxlens.cli._common import add_trust_model_arg

    tax = sub.add_parser("taxonomy", help="check a request-type taxonomy file; list messages worth a human label")
    tsub = tax.add_subparsers(dest="taxonomy_command", metavar="ACTION")
    tax.set_defaults(func=lambda args: tax.print_help())

    check = tsub.add_parser(
        "check", help="validate a taxonomy file (YAML or TOML): every problem with its line",
        description="Validate a taxonomy file and say how it will classify (trained model, few-shot from "
                    "examples, or zero-shot from descriptions). Problems go to stderr as FILE:LINE: message; "
                    "exit 2 when there are any. The summary goes to stdout.")
    check.add_argument("file", metavar="FILE", help="taxonomy .yaml/.yml/.toml (or a folder with taxonomy.yaml)")
    check.set_defaults(func=taxonomy_check)

    review = tsub.add_parser(
        "review", help="write the messages most worth a human label as a CSV to fill in",
        description="Score the messages of --input with the taxonomy and write the --n most worth a human "
                    "look (close calls between two labels, lowest confidence, the largest groups sent to "
                    "'other') to --out, with an empty 'label' column. Fill it in and feed it back with "
                    "`cxlens train classifier --taxonomy FILE --data labelled.csv --data FILLED.csv`.")
    review.add_argument("--input", required=True, metavar="FILE", help="messages (CSV, JSONL, JSON, Parquet)")
    review.add_argument("--text-col", required=True, metavar="COL")
    review.add_argument("--id-col", metavar="COL", help="an id column to keep beside each message")
    review.add_argument("--taxonomy", metavar="FILE", help="taxonomy file or trained folder (default: shipped)")
    review.add_argument("--n", type=int, default=200, help="how many messages (default 200)")
    review.add_argument("--out", required=True, metavar="FILE", help="the CSV to fill in")
    add_trust_model_arg(review, what="a trained taxonomy folder")
    review.set_defaults(func=taxonomy_review)


def taxonomy_check(args: argparse.Namespace) -> int:
    from cxlens.nlp.classify import check_taxonomy, planned_mode

    checked = check_taxonomy(args.file)
    for line in checked.errors:
        sys.stderr.write(f"error: {line}\n")
    for line in checked.warnings:
        sys.stderr.write(f"warning: {line}\n")
    if checked.errors:
        sys.stderr.write(f"cxlens: {checked.path}: {len(checked.errors)} problem(s); nothing was classified.\n")
        return 2
    tax = checked.taxonomy
    mode = planned_mode(tax)
    examples = sum(len(lab.examples) for lab in tax.labels)
    sys.stdout.write(f"{checked.path}: ok: {len(tax.labels)} labels + '{tax.other_label}' ({tax.policy}), "
                     f"{examples} examples; classifies {mode}"
                     + (f" with the model in {tax.model}" if mode == "trained" else "") + "\n")
    return 0


def taxonomy_review(args: argparse.Namespace) -> int:
    from cxlens._csv_safety import write_csv
    from cxlens._outdir import prepare_output_file
    from cxlens.pipelines.train import review_list, taxonomy_classifier

    prepare_output_file(args.out, inputs=[args.input, args.taxonomy], param="out")
    model = taxonomy_classifier(args.taxonomy, trust_model=args.trust_model)
    picks = review_list(model, args.input, text_col=args.text_col, id_col=args.id_col, n=args.n)
    write_csv(picks, args.out)
    why = picks["why"].value_counts().to_dict() if len(picks) else {}
    sys.stderr.write(f"cxlens: {len(picks):,} messages to review written to {args.out} "
                     f"({', '.join(f'{k}: {v}' for k, v in why.items()) or 'none'}); fill in 'label'\n")
    return 0
