"""Write the KPI report of an archive (every KPI overall, by agent and by team) as JSON, to compare two versions'
outputs byte for byte (issue 25: speed changes must not change a value).

    python benchmarks/kpi_report_json.py /tmp/ex1m /tmp/new.json
    python benchmarks/run_at_commit.py /tmp/wt_s9 benchmarks/kpi_report_json.py /tmp/ex1m /tmp/old.json
    cmp /tmp/old.json /tmp/new.json
"""

from __future__ import annotations

import json
import sys
import tempfile

from cxlens.metrics import compute_kpis
from cxlens.pipelines.kpi_report import streamed_kpi_tables
from cxlens.pipelines.score import archive_tables


def main(archive: str, out: str) -> None:
    tables, _ = streamed_kpi_tables(archive_tables(archive), out=tempfile.mkdtemp(prefix="cxlens-kpijson-"))
    report = {"|".join(by): compute_kpis(tables, by=by).to_dict() for by in ([], ["agent_id"], ["team"])}
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(report, handle, sort_keys=True, default=str)


if __name__ == "__main__":
    main(*sys.argv[1:3])
