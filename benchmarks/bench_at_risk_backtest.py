"""At-risk back-test (issue 23): of the accounts flagged on past dates, how many churned?

    python benchmarks/bench_at_risk_backtest.py [--data cxlens/data/example_archive] [--generate N --seed 7]
        [--dates 3] [--horizon 90d] [--model-kind auto]

For each past date ``d`` (``as_of - horizon``, then every 30 days back; ``as_of`` = the day after the
archive's last event) :func:`cxlens.pipelines.accounts.risk_backtest` trains a fresh churn model on what
was known before ``d`` (features from earlier events, labels whose window had closed) and scores the
accounts that were customers at ``d``; truth = ``churned_at`` in ``[d, d + horizon)``.  Prints one Markdown
row per date: base rate, precision at 10/20/50 with its lift over the base rate, and the two candidate
at-risk rules (top decile; >= 2x the base rate): accounts flagged, precision, lift; then the rule the
at-risk review would pick and the wall time.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from threadpoolctl import threadpool_limits

from cxlens.dataset import load_dataset
from cxlens.models.labels import parse_horizon
from cxlens.pipelines.accounts import backtest_rule, feature_tables, risk_backtest

REPO = Path(__file__).resolve().parents[1]


def _pct(v) -> str:
    return "-" if v is None or v != v else f"{v:.0%}"


def _x(v) -> str:
    return "-" if v is None or v != v else f"{v:.1f}x"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO / "cxlens" / "data" / "example_archive")
    parser.add_argument("--generate", type=int, default=0, metavar="N_TICKETS",
                        help="use a freshly generated archive of this many tickets (seed --seed) instead of --data")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dates", type=int, default=3)
    parser.add_argument("--horizon", default="90d")
    parser.add_argument("--model-kind", default="auto", choices=("auto", "logistic", "hgb"))
    args = parser.parse_args()
    threadpool_limits(limits=1)
    if args.generate:
        import tempfile

        from cxlens.example_data import write_example_archive

        args.data = Path(tempfile.mkdtemp(prefix="cxlens-bench-"))
        write_example_archive(args.data, n_tickets=args.generate, seed=args.seed, fmt="csv")
    paths = {name: str(args.data / f"{name}.csv") for name in ("tickets", "messages", "accounts", "surveys")
             if (args.data / f"{name}.csv").exists()}
    tables = feature_tables(load_dataset(**paths))
    start = time.perf_counter()
    table = risk_backtest(tables, horizon_days=parse_horizon(args.horizon), n_dates=args.dates,
                          model_kind=args.model_kind)
    seconds = time.perf_counter() - start

    print("| date | accounts | churned | base rate | P@10 (lift) | P@20 (lift) | P@50 (lift) "
          "| top decile: flagged, precision (lift) | >= 2x base rate: flagged, precision (lift) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row in table.to_dict(orient="records"):
        cells = [row["date"], f"{row['accounts']:,}", f"{row['churned']:,}", _pct(row["base_rate"])]
        cells += [f"{_pct(row[f'precision_at_{k}'])} ({_x(row[f'lift_at_{k}'])})" for k in (10, 20, 50)]
        cells += [f"{row[f'{r}_flagged']}, {_pct(row[f'{r}_precision'])} ({_x(row[f'{r}_lift'])})"
                  for r in ("top_0.1", "relative_2")]
        print("| " + " | ".join(cells) + " |")
    if len(table):
        means = {k: table[f"precision_at_{k}"].mean() for k in (10, 20, 50)}
        lift = table["lift_at_20"].mean()
        print(f"\nmean precision@10/20/50: {means[10]:.2f} / {means[20]:.2f} / {means[50]:.2f}; "
              f"mean lift@20 {lift:.1f}x")
    rule, why = backtest_rule(table)
    print(f"at-risk review rule: {rule.describe()} ({why})")
    print(f"{len(table)} dates in {seconds:.0f} s (one thread)")


if __name__ == "__main__":
    main()
