"""What fitting the churn model on a sample of the accounts costs: every row against ``--max-rows``.

    python benchmarks/bench_churn_cap.py --tickets 100000 --max-rows 50000   # docs/benchmarks.md, issue 7

Same archive, same seed, both runs in one process: validation metrics, seconds, rows used.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> None:
    import bench_score

    from cxlens.models.features import FeatureTables
    from cxlens.pipelines.accounts import train_churn

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-rows", type=int, default=50_000)
    args = parser.parse_args()
    folder = bench_score.archive_for(args.tickets, args.seed)
    tickets = pd.read_parquet(folder / "tickets.parquet").drop(columns=["text", "subject"], errors="ignore")
    messages = pd.read_parquet(folder / "messages.parquet", columns=["ticket_id", "sent_at", "author_role"])
    tables = FeatureTables(accounts=pd.read_parquet(folder / "accounts.parquet"), tickets=tickets,
                           messages=messages[messages["author_role"] == "customer"],
                           surveys=pd.read_parquet(folder / "surveys.parquet"))
    for cap in (None, args.max_rows):
        started = time.perf_counter()
        run = train_churn(tables, horizon_days=90, max_rows=cap)
        print(json.dumps({"max_rows": cap, "seconds": round(time.perf_counter() - started, 1),
                          "rows": run.params["n_rows"], "available": run.params["n_rows_available"],
                          "model": run.params["model"],
                          "metrics": {k: round(v, 4) if isinstance(v, float) else v for k, v in run.metrics.items()}}))


if __name__ == "__main__":
    main()
