"""``cxlens csat estimate``: estimated CSAT for every ticket, from a model trained on the surveyed ones."""

from __future__ import annotations

import argparse
import sys

from cxlens.cli._common import add_input_args, input_paths, load_inputs, print_summary

__all__ = ["add_commands"]

#: the files `csat estimate --out DIR` writes
ESTIMATE_FILES = ("tickets_csat.csv", "csat_estimate.json")


def add_commands(sub: argparse._SubParsersAction, *, train: argparse._SubParsersAction) -> None:
    csat = sub.add_parser("csat", help="estimated CSAT for the tickets nobody rated")
    csub = csat.add_subparsers(dest="csat_command", metavar="ACTION")
    csat.set_defaults(func=lambda args: csat.print_help())
    estimate = csub.add_parser("estimate", help="train on the surveyed tickets, estimate every ticket; says how "
                                                "far to trust it (held-out ROC-AUC, calibration, coverage)")
    add_input_args(estimate, tables=("tickets",))
    estimate.add_argument("--min-rated", type=int, default=200, metavar="N",
                          help="surveyed tickets a month (and to train on) before the estimate is trusted "
                               "(default 200, as Zendesk's satisfaction prediction)")
    estimate.add_argument("--out", metavar="DIR", required=True,
                          help=f"folder for {ESTIMATE_FILES[0]} (ticket_id, csat, csat_good_probability, "
                               f"csat_estimated, csat_estimate_reasons), {ESTIMATE_FILES[1]} and the model "
                               "(csat_model.json + .npz, no pickle)")
    estimate.set_defaults(func=estimate_cmd)


def estimate_cmd(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from cxlens._csv_safety import write_csv
    from cxlens._outdir import prepare_output_dir
    from cxlens.errors import DataError
    from cxlens.pipelines.csat import ESTIMATE_COLUMNS, estimated_csat

    prepare_output_dir(args.out, inputs=input_paths(args).values(), create=False)
    dataset = load_inputs(args)
    print_summary(dataset)
    if dataset.tickets is None:
        raise DataError("Pass --tickets (with a csat column for the surveyed tickets), or an --archive.")
    result = estimated_csat(dataset.tickets, min_rated=args.min_rated)
    out = prepare_output_dir(args.out, inputs=input_paths(args).values())
    keep = ["ticket_id", *(c for c in ("created_at", "account_id", "csat") if c in result.tickets), *ESTIMATE_COLUMNS]
    write_csv(result.tickets[keep], Path(out) / ESTIMATE_FILES[0])
    summary = {"trusted": result.trusted, "note": result.note, **result.metrics}
    (Path(out) / ESTIMATE_FILES[1]).write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")
    if result.model is not None:
        result.model.save(out)
    m = result.metrics
    sys.stderr.write(f"cxlens: estimated CSAT for {len(result.tickets):,} tickets from {m['surveyed']:,} surveyed "
                     f"({(m['surveyed_share'] or 0):.0%}); {result.note}\n")
    sys.stderr.write(f"cxlens: wrote {Path(out) / ESTIMATE_FILES[0]} and {Path(out) / ESTIMATE_FILES[1]}\n")
    return 0
