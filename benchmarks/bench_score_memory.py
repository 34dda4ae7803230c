"""Peak RSS stage by stage of `cxlens score`'s last stage (accounts, KPIs; mentions left out) on a generated archive.

    python benchmarks/bench_score_memory.py --tickets 1000000      # the table in docs/benchmarks.md (issue 7)

The archive's tickets and messages stand in for scored ones (as in ``bench_score.py --downstream-only``).
A thread reads the process's RSS from /proc every 50 ms; each stage prints (name, seconds, RSS at entry,
peak during it, RSS after), in MB. Nested stages reset the peak when they start, so an outer stage's peak
is only what came after its last inner stage: the largest inner peak is the run's.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
_PAGE = os.sysconf("SC_PAGE_SIZE")
_peak = [0]


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * _PAGE


def _sample() -> None:
    while True:
        _peak[0] = max(_peak[0], _rss())
        time.sleep(0.05)


def _timed(owner, name: str, marks: list) -> None:
    inner = getattr(owner, name)

    @functools.wraps(inner)
    def wrapper(*args, **kwargs):
        before = _peak[0] = _rss()
        started = time.perf_counter()
        out = inner(*args, **kwargs)
        marks.append((name, round(time.perf_counter() - started, 1), before >> 20, _peak[0] >> 20, _rss() >> 20))
        print(marks[-1], flush=True)
        return out

    setattr(owner, name, wrapper)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    import bench_score

    import cxlens.metrics as metrics
    import cxlens.models.churn as churn
    import cxlens.models.labels as labels
    import cxlens.pipelines.accounts as accounts
    import cxlens.pipelines.score._run as score

    marks: list = []
    for owner, names in ((score, ("_scored_tickets_for_models", "_accounts_stage", "_csat_stage")),
                         (metrics, ("compute_kpis", "make_tables")), (labels, ("build_features",)),
                         (churn.ChurnModel, ("_oof_logits", "_fit")),
                         (accounts, ("training_set", "train_churn", "score_accounts", "recent_problem_tickets"))):
        for name in names:
            _timed(owner, name, marks)
    threading.Thread(target=_sample, daemon=True).start()
    result = bench_score.downstream_only(bench_score.archive_for(args.tickets, args.seed), mentions=False)
    print(json.dumps({"downstream": result, "stages": marks}))


if __name__ == "__main__":
    main()
