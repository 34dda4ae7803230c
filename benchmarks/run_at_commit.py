"""Run a benchmark script of this checkout against the cxlens code of another checkout (e.g. a git worktree of the
last commit), so "before" and "after" are measured by the same script on the same machine.

    git worktree add /tmp/qa_base HEAD
    python benchmarks/run_at_commit.py /tmp/qa_base benchmarks/bench_qa_kechtel.py --plain benchmarks/data/scorecards
    python benchmarks/run_at_commit.py /tmp/qa_base benchmarks/bench_qa_kechtel.py --speed-only --speed-repeat 3

It works with an editable install of cxlens (``pip install -e .``): the install's path finder maps ``cxlens``,
``cxlens.nlp``, ... to folders of this checkout; they are pointed at the other checkout before anything imports
cxlens. The benchmark must only use options the older code has (``bench_qa_kechtel.py`` passes detector options
only when asked for them).
"""

from __future__ import annotations

import importlib
import runpy
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    other, script, rest = Path(argv[0]).resolve(), argv[1], argv[2:]
    here = Path(__file__).resolve().parents[1]
    finders = [m for m in sys.modules.values() if hasattr(m, "MAPPING") and "cxlens" in getattr(m, "MAPPING", {})]
    if not finders:
        finders = [importlib.import_module(name) for name in sys.modules if name.startswith("__editable__")]
        finders = [m for m in finders if "cxlens" in getattr(m, "MAPPING", {})]
    if not finders:
        sys.stderr.write("cxlens is not an editable install (pip install -e .): cannot point it at another checkout\n")
        return 2
    for finder in finders:
        for name, path in list(finder.MAPPING.items()):
            finder.MAPPING[name] = str(other / Path(path).relative_to(here))
    import cxlens

    if not Path(cxlens.__file__).resolve().is_relative_to(other):
        sys.stderr.write(f"cxlens still imports from {cxlens.__file__}\n")
        return 2
    sys.stderr.write(f"running {script} against the cxlens code in {other}\n")
    sys.argv = [script, *rest]
    runpy.run_path(script, run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
