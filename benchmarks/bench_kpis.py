"""Benchmark: every KPI on a generated archive, against just reading the same files.

    python benchmarks/bench_kpis.py --tickets 1000000 --format parquet
    python benchmarks/bench_kpis.py --tickets 100000 --also-by agent_id   # many small groups

Phases, each timed in this one run on this machine:
  read      pandas reads the raw files (the baseline: no validation, no KPIs)
  load      cxlens.dataset.load_dataset: read + validate + quarantine + derive
  kpis      cxlens.metrics.compute_kpis over every computable KPI (overall)
  grouped   the same by channel and month
Peak memory is the process's max RSS (the whole run). The archive is generated
once into benchmarks/_data/ (git-ignored) and reused.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent


def _timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    parser.add_argument("--data", type=Path, default=None, help="archive folder (default benchmarks/_data/...)")
    parser.add_argument("--also-by", default=None, metavar="COLS",
                        help="also time the KPIs grouped by these ticket columns, e.g. agent_id")
    args = parser.parse_args()

    from cxlens.pipelines.score import archive_tables
    from cxlens.dataset import load_dataset
    from cxlens.example_data import write_example_archive
    from cxlens.metrics import compute_kpis
    from cxlens.pipelines.kpi_report import kpi_tables

    folder = args.data or HERE / "_data" / f"archive_{args.tickets}_{args.seed}_{args.format}"
    if not (folder / f"tickets.{args.format}").exists():
        _, t_gen = _timed(lambda: write_example_archive(folder, n_tickets=args.tickets, seed=args.seed,
                                                        fmt=args.format))
        print(f"generated {folder} in {t_gen:.1f} s")
    paths = archive_tables(folder)
    reader = pd.read_parquet if args.format == "parquet" else pd.read_csv

    raw, t_read = _timed(lambda: {name: reader(path) for name, path in paths.items()})
    rows = {name: len(frame) for name, frame in raw.items()}
    del raw
    dataset, t_load = _timed(lambda: load_dataset(**paths))
    tables = kpi_tables(dataset)
    report, t_kpis = _timed(lambda: compute_kpis(tables))
    grouped, t_grouped = _timed(lambda: compute_kpis(tables, by=["channel"], period="month"))
    extra = {}
    if args.also_by:
        cols = [c.strip() for c in args.also_by.split(",") if c.strip()]
        by_report, t_by = _timed(lambda: compute_kpis(tables, by=cols))
        extra = {f"kpis_by_{'_'.join(cols)}_s": round(t_by, 2), f"groups_by_{'_'.join(cols)}": len(by_report.groups)}
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2

    result = {
        "rows": rows, "format": args.format,
        "read_s": round(t_read, 2), "load_validate_s": round(t_load, 2),
        "kpis_s": round(t_kpis, 2), "kpis_by_channel_month_s": round(t_grouped, 2),
        "kpis_computed": len(report.kpis), "groups": len(grouped.groups),
        "ratio_kpis_to_read": round(t_kpis / t_read, 2),
        "ratio_load_plus_kpis_to_read": round((t_load + t_kpis) / t_read, 2),
        "peak_rss_gb": round(peak_gb, 2),
        "quarantined": dataset.n_quarantined(),
        **extra,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
