"""``cxlens kpis compute`` on big archives (issue 25, part 2): time and peak memory against a plain pyarrow read.

Each measurement runs in a fresh process, so its peak RSS is its own (``resource.getrusage`` of the child):

* *read*: ``pyarrow.parquet.read_table`` of every file of the archive, every column (the baseline);
* *load*: the tables the KPIs read, streamed (``cxlens.pipelines.kpi_report.streamed_kpi_tables``), in one process;
* *command*: ``cxlens kpis compute --archive DIR --format json --out FILE`` (load, validation, every KPI, JSON);
* *before* (``--before``): what the command did until 7 Dec, every table loaded whole
  (``load_dataset`` + ``compute_kpis``); skip it on archives that do not fit in memory that way.

    cxlens example-data --out /tmp/ex1m --tickets 1000000 --format parquet
    python benchmarks/bench_kpis_stream.py /tmp/ex1m --before
    python benchmarks/bench_kpis_stream.py /tmp/ex10m --by agent_id
    python benchmarks/bench_kpis_stream.py /tmp/ex1m --repeat 5     # read and load alternated, medians
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

READ = """
import sys, glob, pyarrow.parquet as pq
for f in sorted(glob.glob(sys.argv[1] + '/*.parquet')):
    pq.read_table(f)
"""
LOAD = """
import sys
from cxlens.pipelines.kpi_report import streamed_kpi_tables
from cxlens.pipelines.score import archive_tables
streamed_kpi_tables(archive_tables(sys.argv[1]), out=sys.argv[2])
"""
BEFORE = """
import sys
from cxlens.dataset import load_dataset
from cxlens.metrics import compute_kpis
from cxlens.pipelines.kpi_report import kpi_tables
from cxlens.pipelines.score import archive_tables
compute_kpis(kpi_tables(load_dataset(**archive_tables(sys.argv[1]))))
"""


def _peak(script: str, *args: str) -> dict:
    """Wall seconds and peak RSS of ``script`` run in a fresh child process that reports its own peak."""
    wrapped = (script + "\nimport resource, json\n"
               "print(json.dumps(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))\n")
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", wrapped, *args], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode:
        sys.stderr.write(done.stderr[-3000:])
        raise SystemExit("a measurement failed")
    return {"seconds": round(seconds, 2), "peak_rss_gb": round(int(done.stdout.strip().splitlines()[-1]) / 1e6, 2)}


def _median_run(runs: list[dict]) -> dict:
    """The median of each figure over ``runs``, with every run's seconds when there were several."""
    out = {k: round(statistics.median(r[k] for r in runs), 2) for k in runs[0]}
    if len(runs) > 1:
        out["runs_seconds"] = [r["seconds"] for r in runs]
    return out


def _cli(argv: list[str]) -> str:
    """A script running ``cxlens ARGV`` in-process (what the console script does), failing on a non-zero exit."""
    return f"from cxlens.cli import main\nassert main({argv!r}) == 0\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("archive", help="a folder of Parquet tables (cxlens example-data --format parquet)")
    parser.add_argument("--by", default="", help="also time the command grouped, e.g. agent_id")
    parser.add_argument("--before", action="store_true", help="also time loading every table whole (old path)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="time read and load N times each, alternating, and report their medians (default 1)")
    args = parser.parse_args()
    archive = Path(args.archive)
    work = Path(tempfile.mkdtemp(prefix="cxlens-kpistream-"))
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
               platform.processor())
    result = {"archive": str(archive), "cpu": cpu, "cores": os.cpu_count(), "load_average": os.getloadavg()[0],
              "bytes": sum(p.stat().st_size for p in archive.glob("*.parquet"))}
    runs: dict[str, list[dict]] = {"read": [], "load": []}
    for _ in range(max(args.repeat, 1)):  # alternated, so that a slow spell of the machine hits both
        runs["read"].append(_peak(READ, str(archive)))
        runs["load"].append(_peak(LOAD, str(archive), str(work / "load")))
    for key, found in runs.items():
        result[key] = _median_run(found)
    if len(runs["read"]) > 1:  # each load over the read run just before it: robust to the machine's slow spells
        result["load_over_read_median_of_pairs"] = round(statistics.median(
            b["seconds"] / a["seconds"] for a, b in zip(runs["read"], runs["load"])), 2)
    command = ["cxlens", "kpis", "compute", "--archive", str(archive), "--format", "json"]  # as a user types it
    result["command"] = _peak(_cli(command[1:] + ["--out", str(work / "k.json")]))
    if args.by:
        grouped = command[1:] + ["--by", args.by, "--out", str(work / "kb.json")]
        result[f"command_by_{args.by}"] = _peak(_cli(grouped))
    if args.before:
        result["before"] = _peak(BEFORE, str(archive))
    read = result["read"]["seconds"]
    for key in [k for k in result if isinstance(result[k], dict) and "seconds" in result[k]]:
        result[key]["x_read"] = round(result[key]["seconds"] / read, 2)
    sys.stdout.write(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
