"""Time ``streamed_kpi_tables`` (what ``cxlens kpis compute`` loads) in this process, imports excluded, and its
peak RSS; with ``benchmarks/run_at_commit.py`` it times another checkout's code the same way (issue 25).

    python benchmarks/time_kpi_load.py /tmp/ex1m
    python benchmarks/run_at_commit.py /tmp/wt_head benchmarks/time_kpi_load.py /tmp/ex1m
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time

from cxlens.pipelines.kpi_report import streamed_kpi_tables
from cxlens.pipelines.score import archive_tables


def main() -> None:
    start = time.perf_counter()
    streamed_kpi_tables(archive_tables(sys.argv[1]), out=tempfile.mkdtemp(prefix="cxlens-load-"))
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1000
    sys.stdout.write(f"load {seconds:.2f} s, peak RSS {peak_mb} MB\n")


if __name__ == "__main__":
    main()
