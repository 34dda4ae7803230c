"""Peak memory of `cxlens validate` (streaming, chunk by chunk) on a big CSV, against loading the whole table.

    python benchmarks/bench_validate_memory.py --gb 2 --baseline-mb 200     # the table in docs/benchmarks.md

Writes a tickets CSV of about ``--gb`` GB by repeating the bundled example tickets with fresh ids (1 row in
1,000 made bad: an unbalanced quote, a bad date, a duplicate id, so quarantine is exercised), then runs, each in
its own process under ``/usr/bin/time -v``:

* ``cxlens validate --tickets big.csv`` (the streaming validator), and
* the whole-table path (``cxlens.io.load_table``, what `validate` did before) on the first ``--baseline-mb`` MB
  (the whole file would not fit the comparison in memory),

and prints wall time, peak RSS and rows per second for each. Delete the file afterwards (``--keep`` keeps it).
"""

from __future__ import annotations

import argparse
import platform
import re
import subprocess
import sys
import tempfile
from pathlib import Path


def _cpu() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def write_big_csv(path: Path, target_bytes: int) -> int:
    """Example tickets repeated with fresh ids up to ``target_bytes``; returns the data rows written."""
    from cxlens.example_data import example_archive_path

    lines = (example_archive_path() / "tickets.csv").read_text(encoding="utf-8").splitlines()
    header, body = lines[0], [line.split(",", 1)[1] for line in lines[1:]]
    rows = 0
    with path.open("w", encoding="utf-8") as out:
        out.write(header + "\n")
        while out.tell() < target_bytes:
            block = []
            for rest in body:
                rows += 1
                if rows % 1000 == 0:
                    block.append(f'X{rows},"unbalanced,{rest}')
                elif rows % 1000 == 500:
                    block.append(f"B{rows},not-a-date{rest[rest.index(','):]}")
                elif rows % 1000 == 700:
                    block.append(f"T{rows - 1},{rest}")  # repeats the id of the row before
                else:
                    block.append(f"T{rows},{rest}")
            out.write("\n".join(block) + "\n")
    return rows


def measured(command: list[str]) -> tuple[float, int, str]:
    """``(wall seconds, peak RSS in MB, stderr)`` of a command run under /usr/bin/time -v."""
    done = subprocess.run(["/usr/bin/time", "-v", *command], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{command} failed:\n{done.stderr[-3000:]}")
    peak = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1)) >> 10
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", done.stderr).group(1)
    seconds = sum(float(part) * 60 ** i for i, part in enumerate(reversed(wall.split(":"))))
    return seconds, peak, done.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gb", type=float, default=2.0)
    parser.add_argument("--baseline-mb", type=float, default=200.0)
    parser.add_argument("--dir", type=Path, default=None, help="where to write the files (default: a temp folder)")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    folder = args.dir or Path(tempfile.mkdtemp(prefix="cxlens-validate-"))
    folder.mkdir(parents=True, exist_ok=True)
    big, small = folder / "tickets.csv", folder / "baseline" / "tickets.csv"
    small.parent.mkdir(exist_ok=True)
    n_big = write_big_csv(big, int(args.gb * (1 << 30)))
    n_small = write_big_csv(small, int(args.baseline_mb * (1 << 20)))
    print(f"CPU: {_cpu()}; {big.stat().st_size / (1 << 30):.2f} GB, {n_big:,} rows; baseline file "
          f"{small.stat().st_size / (1 << 20):.0f} MB, {n_small:,} rows", flush=True)
    whole = [sys.executable, "-c", "import sys; from cxlens.io import load_table; t = load_table(sys.argv[1], "
             "'tickets'); print(t.summary(), file=sys.stderr)", str(small)]
    runs = [("whole-table load_table (how validate read before)", small, n_small, whole),
            ("cxlens validate (streaming)", small, n_small,
             [sys.executable, "-m", "cxlens", "validate", "--tickets", str(small), "--out", str(folder / "out-s")]),
            ("cxlens validate (streaming)", big, n_big,
             [sys.executable, "-m", "cxlens", "validate", "--tickets", str(big), "--out", str(folder / "out-b")])]
    print("| run | file | rows | wall s | rows/s | peak RSS MB |\n|---|---|---:|---:|---:|---:|")
    for name, path, rows, command in runs:
        seconds, peak, err = measured(command)
        size = f"{path.stat().st_size / (1 << 20):,.0f} MB"
        print(f"| {name} | {size} | {rows:,} | {seconds:.0f} | {rows / seconds:,.0f} | {peak:,} |", flush=True)
        counts = [line for line in err.splitlines() if "read" in line and "used" in line]
        print("  ", counts[-1] if counts else err.strip().splitlines()[-1], flush=True)
    if not args.keep:
        for path in (big, small):
            path.unlink()


if __name__ == "__main__":
    main()
