"""Benchmark: do emerging-topic alerts cry wolf? The rolling-baseline rule vs the previous-period rule.

    python benchmarks/bench_topic_alerts.py --runs 50
    python benchmarks/bench_topic_alerts.py --runs 50 --spike-x 2.5 --min-z 3 4 5

Simulated weekly topic counts (no data set is read): per run, 30 topics over 52 weeks with Poisson
counts around rates drawn log-normally (median 30 messages a week), a traffic level that swings by
+-30 % over the year, slow drift on a third of the topics (-30 % to +60 % over the year), and 3
injected spikes (a random topic's rate x4, or --spike-x, for 3 weeks, starting in weeks 8-44). An alert is *true*
when it names a spiked topic in one of its spike weeks; every other alert is *false*.

Compared, on the same simulated trends in this one run:
  previous   ``emerging_topics`` as it was before issue 21 (read from ``git show 69ebf0e:pipelines/topics.py``,
             see --previous-rev): share growth >= 2 vs the previous period, >= 10 messages
  rolling    ``emerging_topics`` now, default rule: growth >= 2 vs the median share of the previous
             4 weeks, >= 10 messages, z >= 4, cooldown 2 (one row per --min-z value given)
"""

from __future__ import annotations

import argparse
import ast
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
TOPICS, WEEKS, SPIKES, SPIKE_LEN, SPIKE_X = 30, 52, 3, 3, 4.0
#: the last commit before issue 21 (its emerging_topics is the previous-period rule)
PREVIOUS_REV = "69ebf0e"


def previous_rule(rev: str):
    """``emerging_topics`` from ``rev`` (the previous-period rule), compiled on its own."""
    source = subprocess.run(["git", "show", f"{rev}:pipelines/topics.py"], cwd=REPO, check=True,
                            capture_output=True, text=True).stdout
    tree = ast.parse(source)
    node = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "emerging_topics")
    if "baseline" in ast.unparse(node):
        raise SystemExit(f"{rev} already has the rolling-baseline rule: pass --previous-rev with an older commit")
    namespace: dict[str, Any] = {"np": np, "pd": pd, "Any": Any}
    exec(compile("from __future__ import annotations\n" + ast.unparse(node), "previous_rule", "exec"), namespace)
    return namespace["emerging_topics"]


def simulated_trends(rng: np.random.Generator, spike_x: float = SPIKE_X) -> tuple[pd.DataFrame, set[tuple[int, int]]]:
    rates = np.clip(rng.lognormal(np.log(30), 1.0, TOPICS), 2, 400)
    weeks = np.arange(WEEKS)
    level = 1 + 0.3 * np.sin(2 * np.pi * weeks / WEEKS + rng.uniform(0, 2 * np.pi))
    drift = np.ones((TOPICS, WEEKS))
    drifting = rng.choice(TOPICS, TOPICS // 3, replace=False)
    drift[drifting] = np.linspace(1, 1 + rng.uniform(-0.3, 0.6, len(drifting)), WEEKS, axis=1)
    mean = rates[:, None] * level[None, :] * drift
    spiked: set[tuple[int, int]] = set()
    for topic in rng.choice(TOPICS, SPIKES, replace=False):
        start = int(rng.integers(8, 45))
        mean[topic, start:start + SPIKE_LEN] *= spike_x
        spiked |= {(int(topic), w) for w in range(start, start + SPIKE_LEN)}
    counts = rng.poisson(mean)
    periods = [str((pd.Timestamp("2025-01-06") + pd.Timedelta(weeks=int(w))).date()) for w in weeks]
    frame = pd.DataFrame({"period": np.repeat(periods, TOPICS), "topic_id": np.tile(np.arange(TOPICS), WEEKS),
                          "count": counts.T.ravel()})
    frame["topic"] = "t" + frame["topic_id"].astype(str)
    frame["share"] = frame["count"] / frame.groupby("period")["count"].transform("sum")
    return frame, {(t, w) for t, w in spiked}


def score(alerts: pd.DataFrame, spiked: set[tuple[int, int]], periods: list[str]) -> dict[str, float]:
    index = {p: i for i, p in enumerate(periods)}
    true = false = 0
    per_spike: dict[int, int] = {}
    for row in alerts.itertuples(index=False):
        key = (int(row.topic_id), index[row.period])
        if key in spiked:
            true += 1
            per_spike[key[0]] = per_spike.get(key[0], 0) + 1
        else:
            false += 1
    return {"true": true, "false": false, "detected": len(per_spike)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--previous-rev", default=PREVIOUS_REV, help="a commit with the previous-period rule")
    parser.add_argument("--spike-x", type=float, default=SPIKE_X, help="rate multiplier of an injected spike")
    parser.add_argument("--min-z", type=float, nargs="+", default=[4.0], help="z thresholds of the rolling rule")
    args = parser.parse_args()
    from functools import partial

    from cxlens.pipelines.topics import emerging_topics

    rules = {"previous": previous_rule(args.previous_rev)}
    rules.update({f"rolling, z >= {z:g}": partial(emerging_topics, min_z=z) for z in args.min_z})
    totals = {name: {"true": 0, "false": 0, "detected": 0, "seconds": 0.0} for name in rules}
    for seed in range(args.runs):
        trends, spiked = simulated_trends(np.random.default_rng(seed), args.spike_x)
        periods = sorted(trends["period"].unique())
        for name, rule in rules.items():
            began = time.perf_counter()
            alerts = rule(trends, min_count=10, min_growth=2.0)
            totals[name]["seconds"] += time.perf_counter() - began
            for key, value in score(alerts, spiked, periods).items():
                totals[name][key] += value
    cells = args.runs * TOPICS * (WEEKS - 1)
    spikes = args.runs * SPIKES
    print(f"{args.runs} runs x {TOPICS} topics x {WEEKS} weeks; {spikes} injected spikes "
          f"(x{args.spike_x:g} for {SPIKE_LEN} weeks)\n")
    print("| rule | false alerts | per 1,000 topic-weeks | spikes detected | alerts per detected spike |")
    print("|---|---:|---:|---:|---:|")
    for name, t in totals.items():
        per_spike = t["true"] / t["detected"] if t["detected"] else float("nan")
        print(f"| {name} | {t['false']:,} | {1000 * t['false'] / cells:.2f} | {t['detected']} / {spikes} "
              f"({100 * t['detected'] / spikes:.1f} %) | {per_spike:.2f} |")
    ratio = totals[list(rules)[1]]["seconds"] / max(totals["previous"]["seconds"], 1e-9)
    print(f"\ntime, rolling / previous rule: {ratio:.1f}x (same run)")


if __name__ == "__main__":
    main()
