"""Benchmark: ``cxlens score`` with the local engine and with the Spark engine, same machine, same data.

    python benchmarks/bench_score_spark.py --tickets 5000 --seed 3 --chunk-rows 500
    python benchmarks/bench_score_spark.py --tickets 2000 --seed 3 --chunk-rows 100 --no-models  # engine cost only

The archive is generated once (``cxlens example-data --tickets N --seed S``) into
benchmarks/_data/ (git-ignored). Each engine scores it with the same options in its own process
(``python -m cxlens score ... --engine local|spark``), so both start cold: imports, model loads
and, for Spark, the JVM and its Python workers count. Both fit the topic model on the same sample
and run the same downstream stage on the driver; the difference is the chunk stage. Reported per
engine: wall time of the process, the stage timings of manifest.json, tickets per second, and the
overhead ratio spark / local. The outputs are compared row for row at the end.

``--no-models`` skips every head (and scores mentions with the lexicon): the chunks then cost
almost nothing, and what the Spark engine adds per chunk (a broadcast, a job, Arrow, the
transfers back) and once (the JVM, the Python workers) shows on its own.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
STAGES = ("partition_s", "topic_model_s", "score_s", "downstream_s", "total_s")


def _run(engine: str, args: argparse.Namespace, data: Path, out: Path) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-m", "cxlens", "-q", "score", "--archive", str(data), "--out", str(out),
           "--chunk-rows", str(args.chunk_rows), "--engine", engine]
    cmd += ["--fast"] + [x for head in ("request_type", "topic", "sentiment", "qa") for x in ("--skip", head)] \
        if args.no_models else ["--scorecard", args.scorecard]
    if engine == "spark" and args.master:
        cmd += ["--master", args.master]
    print("$", " ".join(cmd), flush=True)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    manifest = json.loads((out / "manifest.json").read_text())
    timings = manifest["timings"]
    tickets = manifest["counts"]["tickets"]["used"]
    return {"engine": engine, "wall_s": round(wall, 1), **{k: timings.get(k) for k in STAGES},
            "tickets": tickets, "tickets_per_s": round(tickets / wall, 2),
            "score_tickets_per_s": round(tickets / timings["score_s"], 2), "chunks": len(timings["chunks_s"]),
            "engine_info": manifest.get("engine")}


def _same_rows(a: Path, b: Path) -> dict[str, str]:
    from cxlens.pipelines.score_output import read_parts

    keys = {"tickets": ["ticket_id"], "messages": ["message_id"], "qa_conversations": ["ticket_id"],
            "qa_steps": ["ticket_id", "step"]}
    verdict = {}
    for name, key in keys.items():
        left, right = (read_parts(x / name) for x in (a, b))
        if left is None or right is None:
            verdict[name] = "absent" if left is None and right is None else "DIFFERENT: in one output only"
            continue
        left, right = (x.sort_values(key).reset_index(drop=True) for x in (left, right))
        try:
            pd.testing.assert_frame_equal(left, right, check_exact=False, rtol=1e-6, atol=1e-6)
            verdict[name] = f"equal ({len(left):,} rows)"
        except AssertionError as exc:
            verdict[name] = "DIFFERENT: " + str(exc).splitlines()[0]
    return verdict


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--chunk-rows", type=int, default=500, help="tickets per chunk (both engines)")
    parser.add_argument("--scorecard", default="general_support")
    parser.add_argument("--master", default=None, help="Spark master (default local[*])")
    parser.add_argument("--engines", default="local,spark")
    parser.add_argument("--no-models", action="store_true", help="skip every head: the engines' own cost")
    args = parser.parse_args()

    data = HERE / "_data" / f"ex{args.tickets // 1000}k" if args.tickets % 1000 == 0 \
        else HERE / "_data" / f"ex{args.tickets}"
    if not (data / "tickets.csv").exists():
        subprocess.run([sys.executable, "-m", "cxlens", "example-data", "--tickets", str(args.tickets),
                        "--seed", str(args.seed), "--out", str(data)], check=True)
    results = {}
    for engine in args.engines.split(","):
        results[engine] = _run(engine, args, data, HERE / "_data" / f"bench_score_{engine}")
        print(json.dumps(results[engine]), flush=True)
    print(f"\n{results[next(iter(results))]['tickets']:,} tickets, chunks of {args.chunk_rows}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}\n")
    print("| engine | wall s | partition s | topic fit s | chunks s | downstream s | tickets/s (wall) "
          "| tickets/s (chunks) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in results.values():
        print(f"| {r['engine']} | {r['wall_s']} | {r['partition_s']} | {r['topic_model_s']} | {r['score_s']} | "
              f"{r['downstream_s']} | {r['tickets_per_s']} | {r['score_tickets_per_s']} |")
    if {"local", "spark"} <= set(results):
        local, spark = results["local"], results["spark"]
        print(f"\noverhead spark / local: wall {spark['wall_s'] / local['wall_s']:.2f}x, "
              f"chunk stage {spark['score_s'] / local['score_s']:.2f}x")
        for name, verdict in _same_rows(HERE / "_data" / "bench_score_local",
                                        HERE / "_data" / "bench_score_spark").items():
            print(f"  {name}: {verdict}")


if __name__ == "__main__":
    main()
