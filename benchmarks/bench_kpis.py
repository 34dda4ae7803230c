"""Benchmark: every KPI on a generated archive, overall and grouped, against just reading the same files.

    python benchmarks/bench_kpis.py --tickets 1000000 --format parquet
    python benchmarks/bench_kpis.py --tickets 100000 --groupings agent_id --commands
    python benchmarks/bench_kpis.py --tickets 20000 --groupings agent_id,team@week --old-loop --commands

Phases, each timed in this one run on this machine (wall and CPU seconds of this process):
  read      pandas reads the raw files (the baseline: no validation, no KPIs)
  load      cxlens.dataset.load_dataset: read + validate + quarantine + derive
  kpis      cxlens.metrics.compute_kpis over every computable KPI (overall)
  grouped   the same per group, for each --groupings entry (``col[+col][@period]``; channel@month
            always): the partial aggregates compute_kpis uses, and with --old-loop the per-group
            loop it replaced (compute._grouped_loop; minutes with many groups), checked equal
  commands  with --commands, ``cxlens kpis compute --archive DIR --format json --out FILE`` run as
            a subprocess, ungrouped and with each grouping (wall, and the child's CPU seconds)
Ratios are to the read, to the ungrouped KPIs and to the ungrouped command of the same run. Peak
memory is the process's max RSS (the whole run). The archive is generated once into
benchmarks/_data/ (git-ignored) and reused.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent


def _cpu(who: int = resource.RUSAGE_SELF) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _timed(fn):
    """(result, wall seconds, CPU seconds of this process)."""
    start, cpu = time.perf_counter(), _cpu()
    result = fn()
    return result, time.perf_counter() - start, _cpu() - cpu


def _grouping(spec: str) -> tuple[list[str], str | None]:
    cols, _, period = spec.partition("@")
    return [c for c in cols.split("+") if c], (period or None)


def _close(a, b) -> bool:
    """The two engines' group entries agree (floats to 1e-9 relative: sums added in another order)."""
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def _command(folder: Path, out: Path, by: list[str], period: str | None) -> tuple[float, float]:
    """Wall and CPU seconds of ``cxlens kpis compute`` on the archive, in a fresh process."""
    argv = ["kpis", "compute", "--archive", str(folder), "--format", "json", "--out", str(out),
            "--quarantine-dir", str(out.parent / "quarantine")]
    if by:
        argv += ["--by", ",".join(by)]
    if period:
        argv += ["--period", period]
    code = "import sys; from cxlens.cli import main; sys.exit(main(sys.argv[1:]))"
    start, cpu = time.perf_counter(), _cpu(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-c", code, *argv], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start, _cpu(resource.RUSAGE_CHILDREN) - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    parser.add_argument("--data", type=Path, default=None, help="archive folder (default benchmarks/_data/...)")
    parser.add_argument("--groupings", default="", metavar="SPECS",
                        help="also time these groupings, e.g. agent_id,team@week (col[+col][@period])")
    parser.add_argument("--also-by", default=None, metavar="COLS", help="same as --groupings COLS (older flag)")
    parser.add_argument("--old-loop", action="store_true",
                        help="also time the per-group loop the partial aggregates replaced, and check equality")
    parser.add_argument("--commands", action="store_true",
                        help="also time `cxlens kpis compute` itself, ungrouped and per grouping")
    args = parser.parse_args()

    from cxlens.config import KPIConfig
    from cxlens.dataset import load_dataset
    from cxlens.example_data import write_example_archive
    from cxlens.metrics import compute_kpis
    from cxlens.metrics.compute import _grouped_loop, available_kpis
    from cxlens.pipelines.kpi_report import kpi_tables
    from cxlens.pipelines.score import archive_tables

    folder = args.data or HERE / "_data" / f"archive_{args.tickets}_{args.seed}_{args.format}"
    if not (folder / f"tickets.{args.format}").exists():
        _, t_gen, _ = _timed(lambda: write_example_archive(folder, n_tickets=args.tickets, seed=args.seed,
                                                           fmt=args.format))
        print(f"generated {folder} in {t_gen:.1f} s", file=sys.stderr)
    paths = archive_tables(folder)
    reader = pd.read_parquet if args.format == "parquet" else pd.read_csv

    raw, t_read, c_read = _timed(lambda: {name: reader(path) for name, path in paths.items()})
    rows = {name: len(frame) for name, frame in raw.items()}
    del raw
    dataset, t_load, c_load = _timed(lambda: load_dataset(**paths))
    tables = kpi_tables(dataset)
    config = KPIConfig()
    report, t_kpis, c_kpis = _timed(lambda: compute_kpis(tables, config=config))
    result = {
        "rows": rows, "format": args.format, "kpis_computed": len(report.kpis),
        "read_s": round(t_read, 2), "load_validate_s": round(t_load, 2), "kpis_s": round(t_kpis, 2),
        "cpu_read_s": round(c_read, 2), "cpu_load_s": round(c_load, 2), "cpu_kpis_s": round(c_kpis, 2),
        "ratio_kpis_to_read": round(t_kpis / t_read, 2),
        "ratio_load_to_read": round(t_load / t_read, 2),
        "ratio_load_plus_kpis_to_read": round((t_load + t_kpis) / t_read, 2),
        "grouped": {},
    }
    specs = ["channel@month"] + [s.strip() for s in (args.groupings or args.also_by or "").split(",") if s.strip()]
    kpis, _ = available_kpis(tables)
    for spec in dict.fromkeys(specs):
        by, period = _grouping(spec)
        grouped, t_new, c_new = _timed(lambda: compute_kpis(tables, config=config, by=by, period=period))
        entry = {"groups": len(grouped.groups), "partials_s": round(t_new, 3), "cpu_partials_s": round(c_new, 3),
                 "ratio_to_ungrouped_kpis": round(t_new / t_kpis, 2)}
        if args.old_loop:
            old, t_old, c_old = _timed(lambda: _grouped_loop(kpis, tables, config, by=by, period=period))
            entry.update(old_loop_s=round(t_old, 2), cpu_old_loop_s=round(c_old, 2),
                         speedup_over_old_loop=round(t_old / t_new, 1), equal_to_old_loop=_close(old, grouped.groups))
        result["grouped"][spec] = entry
    if args.commands:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "kpis.json"
            _command(folder, out, [], None)  # warm-up: file cache and imports, not timed
            t_cmd, c_cmd = _command(folder, out, [], None)
            commands = {"ungrouped": {"wall_s": round(t_cmd, 2), "cpu_s": round(c_cmd, 2)}}
            for spec in dict.fromkeys(specs):
                by, period = _grouping(spec)
                t_one, c_one = _command(folder, out, by, period)
                commands[spec] = {"wall_s": round(t_one, 2), "cpu_s": round(c_one, 2),
                                  "ratio_to_ungrouped": round(t_one / t_cmd, 2),
                                  "cpu_ratio_to_ungrouped": round(c_one / c_cmd, 2)}
        result["commands"] = commands
    result["peak_rss_gb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2, 2)
    result["quarantined"] = dataset.n_quarantined()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
