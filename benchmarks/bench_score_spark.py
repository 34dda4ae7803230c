"""Benchmark: ``cxlens score`` with the local engine and with the Spark engine, same machine, same data.

    python benchmarks/bench_score_spark.py --tickets 5000 --seed 3 --chunk-rows 500
    python benchmarks/bench_score_spark.py --tickets 2000 --seed 3 --chunk-rows 100 --no-models  # engine cost only
    python benchmarks/bench_score_spark.py --tickets 2000 --seed 3 --chunk-rows 250 --standalone 2  # a cluster

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

``--standalone N`` starts a Spark standalone cluster on this machine for the run (a master and N
workers of one core each, separate JVMs, with pyspark's own ``spark-class``), points the Spark
engine at it with ``--master spark://127.0.0.1:PORT`` and stops it afterwards: the executors then
run under the cluster manager as on a real cluster, model folders travel as archives, and the
outputs are compared with the local engine's as usual. Logs go to benchmarks/_data/standalone/.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import socket
import time
import urllib.request
from contextlib import contextmanager
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
    env = {**os.environ, "PYSPARK_PYTHON": os.environ.get("PYSPARK_PYTHON", sys.executable)}
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
    wall = time.perf_counter() - start
    manifest = json.loads((out / "manifest.json").read_text())
    timings = manifest["timings"]
    tickets = manifest["counts"]["tickets"]["used"]
    return {"engine": engine, "wall_s": round(wall, 1), **{k: timings.get(k) for k in STAGES},
            "tickets": tickets, "tickets_per_s": round(tickets / wall, 2),
            "score_tickets_per_s": round(tickets / timings["score_s"], 2), "chunks": len(timings["chunks_s"]),
            "engine_info": manifest.get("engine")}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alive_workers(ui: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{ui}/json/", timeout=5) as r:
            return sum(w["state"] == "ALIVE" for w in json.load(r)["workers"])
    except OSError:
        return -1


@contextmanager
def standalone_cluster(workers: int, *, memory: str = "4g"):
    """A Spark standalone master and ``workers`` one-core workers on 127.0.0.1; yields the master URL."""
    import pyspark

    home = Path(pyspark.__file__).resolve().parent
    env = {**os.environ, "SPARK_HOME": str(home), "PYSPARK_PYTHON": sys.executable}
    spark_class, logs = str(home / "bin" / "spark-class"), HERE / "_data" / "standalone"
    logs.mkdir(parents=True, exist_ok=True)
    port, ui = _free_port(), _free_port()
    procs = [subprocess.Popen([spark_class, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                               "--port", str(port), "--webui-port", str(ui)], env=env,
                              stdout=(logs / "master.log").open("w"), stderr=subprocess.STDOUT)]
    url = f"spark://127.0.0.1:{port}"
    try:
        for k in range(workers):
            procs.append(subprocess.Popen(
                [spark_class, "org.apache.spark.deploy.worker.Worker", url, "--host", "127.0.0.1", "--cores", "1",
                 "--memory", memory, "--webui-port", str(_free_port()), "--work-dir", str(logs / f"worker-{k}")],
                env=env, stdout=(logs / f"worker-{k}.log").open("w"), stderr=subprocess.STDOUT))
        deadline = time.monotonic() + 180
        while _alive_workers(ui) < workers:
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                raise RuntimeError(f"the standalone cluster did not come up: see {logs}")
            time.sleep(1)
        print(f"standalone cluster: {url}, {workers} workers of 1 core", flush=True)
        yield url
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()


def _same_rows(a: Path, b: Path) -> dict[str, str]:
    from cxlens.pipelines.score import read_parts

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
    parser.add_argument("--standalone", type=int, default=0, metavar="N",
                        help="run Spark on a standalone cluster of N one-core workers started here for the run")
    args = parser.parse_args()
    if args.standalone < 0:
        parser.error(f"--standalone is a number of workers, got {args.standalone}")
    if args.standalone and args.master:
        parser.error("--standalone starts its own master: leave out --master")
    if args.standalone:
        with standalone_cluster(args.standalone) as url:
            args.master = url
            _bench(args)
    else:
        _bench(args)


def _bench(args: argparse.Namespace) -> None:

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
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, Spark master {args.master or 'local[*]'}\n")
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
