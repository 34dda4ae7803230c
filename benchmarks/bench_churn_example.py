"""At-risk review on the bundled example archive: does it put the accounts that churned at the top?

    python benchmarks/bench_churn_example.py [--data examples/archive] [--as-of 2025-07-01,2025-10-01]
        [--horizon 90d] [--k 20] [--drop-columns logins_30d] [--model-kind auto] [--generate N] [--seed 0]

Hold-out: the review runs as of each ``--as-of`` date on the whole archive, but every
feature is computed from rows before that date and the on-the-fly model
trains only on label windows that closed before it.  Truth: the accounts
active at ``--as-of`` whose ``churned_at`` falls within the horizon after
it.  Prints precision@k (share of the top-k that churned), recall@k, the
base rate, and ROC-AUC of the churn probability.  ``--drop-columns`` removes
account columns first (e.g. the static ``logins_30d`` usage column, to see
how much comes from ticket behaviour alone).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

from cxlens.dataset import load_dataset
from cxlens.models.features import FeatureTables, as_utc
from cxlens.models.labels import parse_horizon
from cxlens.pipelines.accounts import at_risk_review

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO / "examples" / "archive")
    parser.add_argument("--as-of", default="2025-07-01,2025-08-01,2025-09-01,2025-10-01",
                        help="review date(s), comma-separated")
    parser.add_argument("--horizon", default="90d")
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--drop-columns", default="", help="comma-separated account columns to drop")
    parser.add_argument("--model-kind", default="auto", choices=("auto", "logistic", "hgb"))
    parser.add_argument("--generate", type=int, default=0, metavar="N_TICKETS",
                        help="use a freshly generated archive of this many tickets (seed --seed) instead of --data")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    threadpool_limits(limits=args.threads)

    if args.generate:
        import tempfile

        from cxlens.example_data import write_example_archive

        args.data = Path(tempfile.mkdtemp(prefix="cxlens-bench-"))
        write_example_archive(args.data, n_tickets=args.generate, seed=args.seed, fmt="csv")
    paths = {name: str(args.data / f"{name}.csv") for name in ("tickets", "messages", "accounts", "surveys")
             if (args.data / f"{name}.csv").exists()}
    data = load_dataset(**paths)
    accounts = data.accounts.drop(columns=[c for c in args.drop_columns.split(",") if c], errors="ignore")
    tables = FeatureTables(accounts=accounts, tickets=data.tickets, messages=data.messages, surveys=data.surveys)
    horizon = parse_horizon(args.horizon)
    churned_at = accounts.set_index("account_id")["churned_at"]
    print(f"example archive {args.data}: {len(accounts)} accounts, {len(data.tickets)} tickets; "
          f"horizon {horizon:g} days, dropped: {args.drop_columns or 'none'}")
    precisions = []
    for date in args.as_of.split(","):
        as_of = as_utc(date.strip())
        start = time.perf_counter()
        review = at_risk_review(tables, horizon_days=horizon, as_of=as_of, model_kind=args.model_kind,
                                random_state=args.seed)
        elapsed = time.perf_counter() - start
        table = review.table
        churn = table["account_id"].map(churned_at)
        truth = ((churn >= as_of) & (churn < as_of + pd.Timedelta(days=horizon))).fillna(False).to_numpy(dtype=int)
        k = min(args.k, len(table))
        hits = int(truth[:k].sum())
        precisions.append(hits / k)
        auc = roc_auc_score(truth, table["churn_probability"]) if len(np.unique(truth)) == 2 else float("nan")
        print(f"  as of {as_of:%Y-%m-%d}: model {review.model_info.get('model')} "
              f"({review.model_info.get('validation')} validation, {review.model_info.get('n_rows')} rows); "
              f"{len(table)} scored, {int(truth.sum())} churned (base {truth.mean():.3f}); "
              f"precision@{k} {hits / k:.3f} ({hits}/{k}), recall@{k} {hits / max(1, int(truth.sum())):.3f}, "
              f"ROC-AUC {auc:.3f}; {elapsed:.0f} s")
    print(f"  mean precision@{args.k} over {len(precisions)} review dates: {np.mean(precisions):.3f}")


if __name__ == "__main__":
    main()
