"""Benchmark: `cxlens score` of this checkout against another version of cxlens, same data, same run.

    git worktree add /tmp/cxlens-base 719df3e          # the version to compare with
    python benchmarks/bench_score_versions.py --base /tmp/cxlens-base --tickets 20000
    python benchmarks/bench_score_versions.py --base /tmp/cxlens-base --archive examples/archive \
        --extra "--scorecard general_support" --rounds 1

Runs ``python -m cxlens score`` alternately with each version's source first on PYTHONPATH (base,
this, base, this, ...: a machine that slows down mid-run hurts both alike), reports wall time and
tickets/s per run and the ratio of medians, then compares the outputs of the last run of each
table by table, row for row: equal rows, and per column how many values differ. The base checkout
needs ``cxlens/{nlp,metrics,models,pipelines}`` to resolve; they are linked to its top-level folders
(as the package-dir of pyproject maps them) when missing.
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

import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TABLES = ("tickets", "messages", "qa_conversations", "qa_steps", "mentions", "accounts")
KEYS = {"tickets": ["ticket_id"], "messages": ["message_id"], "qa_conversations": ["ticket_id"],
        "qa_steps": ["ticket_id", "script", "step"], "mentions": ["mention_id"], "accounts": ["account_id"]}


def source_root(folder: Path) -> Path:
    """A folder that puts that version's ``cxlens`` first on PYTHONPATH (subpackages linked in)."""
    for sub in ("nlp", "metrics", "models", "pipelines"):
        link = folder / "cxlens" / sub
        if not link.exists():
            link.symlink_to(folder / sub)
    return folder


def run(src: Path, archive: Path, out: Path, extra: list[str]) -> float:
    cmd = [sys.executable, "-m", "cxlens", "-q", "score", "--archive", str(archive), "--out", str(out), *extra]
    env = {**os.environ, "PYTHONPATH": str(src)}
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tempfile.gettempdir())
    if proc.returncode:
        raise SystemExit(f"{src}: cxlens score failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return time.perf_counter() - started


def compare(base: Path, this: Path) -> dict:
    report = {}
    for table in TABLES:
        a_path, b_path = base / f"{table}.parquet", this / f"{table}.parquet"
        parts_a, parts_b = sorted((base / table).glob("*.parquet")), sorted((this / table).glob("*.parquet"))
        if not a_path.exists() and not parts_a:
            continue
        a = pd.read_parquet(a_path) if a_path.exists() else pd.concat(map(pd.read_parquet, parts_a))
        b = pd.read_parquet(b_path) if b_path.exists() else pd.concat(map(pd.read_parquet, parts_b))
        keys = [k for k in KEYS[table] if k in a and k in b]
        a = a.sort_values(keys).reset_index(drop=True) if keys else a
        b = b.sort_values(keys).reset_index(drop=True) if keys else b
        row = {"rows": [len(a), len(b)], "columns_only_base": sorted(set(a) - set(b)),
               "columns_only_this": sorted(set(b) - set(a))}
        if len(a) == len(b):
            differ = {}
            for col in sorted(set(a) & set(b)):
                x, y = a[col], b[col]
                both_null = (x.isna() & y.isna()).to_numpy(dtype=bool)
                if pd.api.types.is_numeric_dtype(x) and pd.api.types.is_numeric_dtype(y) \
                        and not pd.api.types.is_bool_dtype(x):
                    close = ((x.astype("float64") - y.astype("float64")).abs() <= 1e-9).to_numpy(dtype=bool,
                                                                                           na_value=False)
                    same = pd.Series(close | both_null)
                else:  # values as text, nulls alike whatever their dtype (None, NaN, <NA>)
                    same = pd.Series((x.astype(object).where(x.notna(), "<null>").astype(str).to_numpy()
                                      == y.astype(object).where(y.notna(), "<null>").astype(str).to_numpy())
                                     | both_null)
                if (~same).sum():
                    differ[col] = int((~same).sum())
            row["values_differ"] = differ
        report[table] = row
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", type=Path, required=True, help="a checkout of the other version")
    parser.add_argument("--tickets", type=int, default=20_000, help="generated archive size (without --archive)")
    parser.add_argument("--archive", type=Path, help="score this archive folder instead of a generated one")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each version, alternating")
    parser.add_argument("--extra", default="", help="more `cxlens score` options")
    parser.add_argument("--json", metavar="FILE")
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("BASE_OUT", "THIS_OUT"),
                        help="only compare two existing score folders")
    args = parser.parse_args()
    if args.compare:
        print(json.dumps(compare(*args.compare), indent=2))
        return
    if args.archive:
        archive = args.archive.resolve()
    else:
        sys.path.insert(0, str(HERE))
        from bench_score import archive_for

        archive = archive_for(args.tickets, 1)
    versions = {"base": source_root(args.base.resolve()), "this": ROOT}
    work = Path(tempfile.mkdtemp(prefix="cxlens-bench-versions-"))
    seconds: dict[str, list[float]] = {name: [] for name in versions}
    for r in range(args.rounds):
        for name, src in versions.items():
            out = work / f"{name}-{r}"
            seconds[name].append(run(src, archive, out, args.extra.split()))
            print(f"{name} round {r}: {seconds[name][-1]:.1f} s", file=sys.stderr, flush=True)
    tickets = json.loads((work / "this-0" / "manifest.json").read_text())["counts"]["tickets"]["used"]
    result = {"cpu": _cpu(), "archive": str(archive), "tickets": tickets,
              "seconds": seconds,
              "tickets_per_s": {n: round(tickets / statistics.median(s), 1) for n, s in seconds.items()},
              "this_over_base_speed": round(statistics.median(seconds["base"]) / statistics.median(seconds["this"]), 3),
              "outputs": compare(work / f"base-{args.rounds - 1}", work / f"this-{args.rounds - 1}")}
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


if __name__ == "__main__":
    main()
