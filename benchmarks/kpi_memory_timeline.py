"""Where ``cxlens kpis compute``'s memory goes, stage by stage, in one process (issue 25): ``streamed_kpi_tables``
then ``compute_kpis``, with the RSS read from /proc every 20 ms and the peak printed per stage (the stages are the
loader's progress messages: ``read tickets``, ``read messages``, ...).

    python benchmarks/kpi_memory_timeline.py /tmp/ex10m
    python benchmarks/run_at_commit.py /tmp/wt_s9 benchmarks/kpi_memory_timeline.py /tmp/ex10m   # another version
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import threading
import time

_PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * _PAGE


def main(archive: str) -> None:
    from cxlens.metrics import compute_kpis
    from cxlens.pipelines.kpi_report import streamed_kpi_tables
    from cxlens.pipelines.score import archive_tables

    stage, peaks = ["start"], {}

    def sample() -> None:
        while True:
            peaks[stage[0]] = max(peaks.get(stage[0], 0), _rss())
            time.sleep(0.02)

    threading.Thread(target=sample, daemon=True).start()
    started = time.perf_counter()
    tables, _ = streamed_kpi_tables(archive_tables(archive), out=tempfile.mkdtemp(prefix="cxlens-timeline-"),
                                    progress=lambda name, done, total: stage.__setitem__(0, name))
    loaded = time.perf_counter()
    stage[0] = "kpis"
    compute_kpis(tables)
    done = time.perf_counter()
    stage[0] = "end"
    time.sleep(0.1)
    sys.stdout.write(f"load {loaded - started:.1f} s, kpis {done - loaded:.1f} s\n")
    for name, peak in peaks.items():
        sys.stdout.write(f"{name:25s} {peak / 1e6:8.0f} MB peak\n")
    sys.stdout.write(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1000} MB\n")


if __name__ == "__main__":
    main(sys.argv[1])
