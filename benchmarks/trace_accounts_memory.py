"""What the accounts stage of ``cxlens score``'s last stage leaves in memory (issue 25): RSS before the stage and
after it (its tables freed and memory given back), the Python allocations still alive that ``tracemalloc`` traced
during the stage (largest first), and the object types that grew. Slow: tracing makes the stage several times
slower (about 10 minutes at 100k tickets).

    python benchmarks/trace_accounts_memory.py --tickets 100000
"""

from __future__ import annotations

import argparse
import collections
import gc
import os
import sys
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss_mb() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * _PAGE >> 20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--top", type=int, default=8, help="allocation sites to print")
    args = parser.parse_args()
    import bench_score

    import cxlens.pipelines.score._run as score

    state: dict = {}
    accounts_stage, give_back = score._accounts_stage, score.give_back_memory

    def traced_stage(*a, **k):
        gc.collect()
        state["rss"], state["types"] = _rss_mb(), collections.Counter(type(o).__name__ for o in gc.get_objects())
        tracemalloc.start(8)
        state["snapshot"] = tracemalloc.take_snapshot()
        return accounts_stage(*a, **k)

    def report_after_give_back() -> None:  # the stage's tables are freed and given back just before this call
        give_back()
        if "snapshot" not in state or state.get("done"):
            return
        state["done"] = True
        gc.collect()
        after = tracemalloc.take_snapshot()
        traced = tracemalloc.get_traced_memory()[0] >> 20
        sys.stdout.write(f"RSS before the accounts stage {state['rss']} MB, after it {_rss_mb()} MB; "
                         f"Python allocations traced and alive {traced} MB\n")
        for stat in after.compare_to(state["snapshot"], "traceback")[:args.top]:
            sys.stdout.write(f"{stat.size_diff / 1e6:6.1f} MB {stat.count_diff:7d} blocks  "
                             f"{stat.traceback.format()[-2].strip()}\n")
        grown = collections.Counter(type(o).__name__ for o in gc.get_objects()) - state["types"]
        sys.stdout.write(f"objects that grew: {grown.most_common(8)}\n")
        tracemalloc.stop()

    score._accounts_stage, score.give_back_memory = traced_stage, report_after_give_back
    bench_score.downstream_only(bench_score.archive_for(args.tickets, 1), mentions=False)


if __name__ == "__main__":
    main()
