"""``cxlens train churn`` and ``cxlens accounts score | at-risk``."""

from __future__ import annotations

import argparse
import sys

from cxlens.cli._common import add_input_args, add_trust_model_arg, input_paths, load_inputs, print_summary

#: what --trust-model lets `accounts score | at-risk` load
_CHURN_PICKLES = "an MLflow model (models:/...) or a model.joblib of an older cxlens"

__all__ = ["add_commands"]

TABLES = ("accounts", "tickets", "messages", "surveys")
#: what `accounts score --out FOLDER` writes in the folder
SCORED_FILE = "scored_accounts.csv"
_SCORED_FORMATS = (".csv", ".parquet", ".pq", ".json", ".jsonl")


def _label_args(parser: argparse.ArgumentParser, *, required: bool) -> None:
    label = parser.add_mutually_exclusive_group(required=required)
    label.add_argument("--label-col", metavar="COLUMN",
                       help="accounts column saying who churned (yes/no, 0/1); features at --as-of")
    label.add_argument("--horizon", metavar="DURATION",
                       help="churn = churned_at within this long after each snapshot, e.g. 90d, 12w, 3m")
    parser.add_argument("--as-of", metavar="DATE", help="prediction date (default: the day after the last event)")


def _health_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--health-config", metavar="TOML",
                        help="health score weights and bands ([weights] usage=..., [bands] good=70 poor=40)")
    parser.add_argument("--fit-weights", action="store_true",
                        help="fit the health weights on past outcomes (needs churned_at)")


def add_commands(sub: argparse._SubParsersAction, *, train: argparse._SubParsersAction) -> None:
    churn = train.add_parser("churn", help="train the churn model; log to MLflow and register it as @champion")
    add_input_args(churn, tables=TABLES)
    _label_args(churn, required=True)
    churn.add_argument("--model", choices=("auto", "logistic", "hgb"), default="auto",
                       help="auto picks logistic or gradient boosting by validation (default)")
    churn.add_argument("--out", metavar="DIR", required=True,
                       help="folder for the model (churn_model.json + .npz, no pickle), model.json, calibration.png")
    churn.add_argument("--tracking-uri", metavar="URI", help="MLflow tracking URI or folder (default ./mlruns)")
    churn.add_argument("--registered-name", default="cxlens-churn", help="MLflow registered model name")
    churn.add_argument("--no-tracking", action="store_true", help="only write --out; do not log to MLflow")
    churn.add_argument("--seed", type=int, default=0)
    churn.set_defaults(func=train_churn_cmd)

    accounts = sub.add_parser("accounts", help="account churn risk, health and the at-risk review")
    asub = accounts.add_subparsers(dest="accounts_command", metavar="ACTION")
    accounts.set_defaults(func=lambda args: accounts.print_help())

    score = asub.add_parser("score", help="churn probability, health score and reasons per account")
    add_input_args(score, tables=TABLES)
    score.add_argument("--model", required=True, metavar="DIR|URI",
                       help="folder from `cxlens train churn --out`, or models:/cxlens-churn@champion (with --trust-model)")
    score.add_argument("--tracking-uri", metavar="URI", help="MLflow tracking URI for models:/ references")
    add_trust_model_arg(score, what=_CHURN_PICKLES)
    score.add_argument("--as-of", metavar="DATE", help="prediction date (default: the day after the last event)")
    score.add_argument("--horizon", default="90d", help="look-back for --fit-weights outcomes (default 90d)")
    score.add_argument("--risk-threshold", dest="threshold", type=float, metavar="P",
                       help="a fixed churn probability that sets the at_risk column (default: the top decile)")
    _health_args(score)
    score.add_argument("--out", metavar="FILE|DIR", required=True,
                       help="a .csv, .parquet, .json or .jsonl file (the format from the extension), or a folder "
                            f"(no extension): {SCORED_FILE} in it")
    score.set_defaults(func=score_cmd)

    review = asub.add_parser("at-risk", help="ranked at-risk accounts as CSV and a self-contained HTML page")
    add_input_args(review, tables=TABLES)
    review.add_argument("--model", metavar="DIR|URI", help="a trained churn model (default: train one now)")
    review.add_argument("--tracking-uri", metavar="URI", help="MLflow tracking URI for models:/ references")
    add_trust_model_arg(review, what=_CHURN_PICKLES)
    review.add_argument("--as-of", metavar="DATE", help="review date (default: the day after the last event)")
    review.add_argument("--horizon", default="90d",
                        help="churn horizon when training on the fly, and the retention period (default 90d)")
    review.add_argument("--label-col", metavar="COLUMN", help="train on the fly from this label column instead")
    review.add_argument("--top", type=int, default=50, help="accounts shown on the page (CSV has all)")
    _health_args(review)
    review.add_argument("--config", metavar="TOML", help="KPI settings (risk_threshold, ...)")
    review.add_argument("--risk-threshold", "--threshold", dest="threshold", type=float, metavar="P",
                        help="a fixed churn probability that counts as at risk (default: the config's "
                             "risk_threshold, else the top decile or accounts at >= 2x the portfolio's base rate, "
                             "whichever the back-test finds more precise)")
    review.add_argument("--backtest", type=int, default=3, metavar="N",
                        help="past dates to back-test the flag on (a model trained before each; default 3, 0: none)")
    review.add_argument("--out", metavar="DIR", required=True)
    review.add_argument("--seed", type=int, default=0)
    review.set_defaults(func=at_risk_cmd)


def _tables(args: argparse.Namespace):
    from cxlens.errors import DataError
    from cxlens.pipelines.accounts import feature_tables

    if not input_paths(args).get("accounts"):
        raise DataError("Pass --accounts (one row per customer account), or an --archive with an accounts file.")
    dataset = load_inputs(args)
    print_summary(dataset)
    return feature_tables(dataset)


def _health(args: argparse.Namespace):
    from cxlens.models.health import load_health_config

    return load_health_config(args.health_config)


def train_churn_cmd(args: argparse.Namespace) -> int:
    from cxlens.models.labels import parse_horizon
    from cxlens.pipelines.accounts import save_churn_model, track_churn_training, train_churn

    from cxlens._outdir import prepare_output_dir

    prepare_output_dir(args.out, inputs=input_paths(args).values(), create=False)
    tables = _tables(args)
    horizon = parse_horizon(args.horizon) if args.horizon else None
    training = train_churn(tables, horizon_days=horizon, label_col=args.label_col, as_of=args.as_of,
                           model=args.model, random_state=args.seed)
    paths = save_churn_model(training, args.out)
    m = training.metrics
    sys.stderr.write(f"cxlens: churn model {training.params['model']} ({training.params['validation']} validation): "
                     f"ROC-AUC {_fmt(m.get('roc_auc'))}, PR-AUC {_fmt(m.get('pr_auc'))}, "
                     f"Brier {_fmt(m.get('brier'))} on {int(m['n_validation'])} validation rows\n")
    sys.stderr.write(f"cxlens: model written to {args.out}\n")
    if not args.no_tracking:
        run = track_churn_training(training, paths, tracking_uri=args.tracking_uri,
                                   registered_name=args.registered_name)
        sys.stderr.write(f"cxlens: logged MLflow run {run.run_id} to {run.tracking_uri}; "
                         f"registered {run.alias_uri} (version {run.version})\n")
    return 0


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def score_cmd(args: argparse.Namespace) -> int:
    from pathlib import Path

    from cxlens._csv_safety import write_csv
    from cxlens.models.features import as_utc, default_as_of
    from cxlens.models.labels import parse_horizon
    from cxlens.pipelines.accounts import fitted_health_config, flagged_accounts, load_churn_model, score_accounts

    out = _scored_path(args.out, inputs=[*input_paths(args).values(), args.model])
    rule = _rule(args)  # checked before any work
    model = load_churn_model(args.model, tracking_uri=args.tracking_uri, trust_model=args.trust_model)
    tables = _tables(args)
    as_of = as_utc(args.as_of) if args.as_of else default_as_of(tables)
    health = _health(args)
    if args.fit_weights:
        health = fitted_health_config(tables, as_of=as_of, horizon_days=parse_horizon(args.horizon), base=health)
    scored = flagged_accounts(score_accounts(tables, model, as_of=as_of, health=health), rule=rule)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    suffix = out.suffix.lower()
    if suffix in (".parquet", ".pq"):
        scored.to_parquet(out, index=False)
    elif suffix == ".json":
        scored.to_json(out, orient="records", indent=2, date_format="iso")
    elif suffix == ".jsonl":
        scored.to_json(out, orient="records", lines=True, date_format="iso")
    else:
        write_csv(scored, out)
    flagged = scored["at_risk"].astype(bool)
    p = scored["churn_probability"].to_numpy(dtype=float)
    sys.stderr.write(f"cxlens: scored {len(scored):,} accounts as of {as_of:%Y-%m-%d}; {int(flagged.sum()):,} at risk "
                     f"({rule.describe(p)}); written to {out}\n")
    return 0


def _rule(args: argparse.Namespace):
    """The at-risk rule of ``accounts score``: ``--risk-threshold`` (absolute) or the default top decile."""
    from cxlens.errors import ConfigError
    from cxlens.models.risk import DEFAULT_RISK_RULE, RiskRule

    if args.threshold is None:
        return DEFAULT_RISK_RULE
    if not 0 < args.threshold < 1:
        raise ConfigError(f"--risk-threshold must be between 0 and 1, got {args.threshold}.")
    return RiskRule.absolute(args.threshold)


def _scored_path(out: str, *, inputs):
    """The file ``accounts score --out`` writes: ``out`` itself when its extension names a format, else
    :data:`SCORED_FILE` in the folder ``out`` (an existing folder, or a path without an extension)."""
    from pathlib import Path

    from cxlens._outdir import prepare_output_dir, prepare_output_file
    from cxlens.errors import ConfigError

    path = Path(out)
    if path.is_dir() or not path.suffix:
        prepare_output_dir(path, inputs=inputs, create=False)
        return prepare_output_file(path / SCORED_FILE, inputs=inputs)
    if path.suffix.lower() not in _SCORED_FORMATS:
        raise ConfigError(f"--out {out}: unknown extension {path.suffix!r}; give a file ending in "
                          f"{', '.join(_SCORED_FORMATS)}, or a folder (no extension) for {SCORED_FILE}.")
    return prepare_output_file(path, inputs=inputs)


def _kpi_config(args: argparse.Namespace):
    from cxlens.config import load_config
    from cxlens.errors import ConfigError

    if args.threshold is not None and not 0 < args.threshold < 1:
        raise ConfigError(f"--risk-threshold must be between 0 and 1, got {args.threshold}.")
    overrides = {} if args.threshold is None else {"risk_threshold": args.threshold}
    return load_config(args.config, **overrides)


def at_risk_cmd(args: argparse.Namespace) -> int:
    from cxlens.models.labels import parse_horizon
    from cxlens.pipelines.accounts import at_risk_review, load_churn_model, write_at_risk_review

    from cxlens._outdir import prepare_output_dir

    prepare_output_dir(args.out, inputs=[*input_paths(args).values(), args.model], create=False)
    model = (load_churn_model(args.model, tracking_uri=args.tracking_uri, trust_model=args.trust_model)
             if args.model else None)
    tables = _tables(args)
    if model is None:
        sys.stderr.write("cxlens: no --model given: training a churn model on this history first\n")
    review = at_risk_review(tables, model=model, horizon_days=parse_horizon(args.horizon), label_col=args.label_col,
                            as_of=args.as_of, health=_health(args), fit_health_weights=args.fit_weights,
                            config=_kpi_config(args), random_state=args.seed, backtest_dates=max(0, args.backtest))
    paths = write_at_risk_review(review, args.out, top=args.top)
    s = review.summary
    sys.stderr.write(f"cxlens: {s['at_risk_accounts']} of {s['accounts_scored']} accounts at risk "
                     f"({s['risk_rule']}); revenue at risk {s['revenue_at_risk']:,.0f} (sum MRR x probability); "
                     f"wrote {paths['csv']} and {paths['html']}\n")
    return 0
