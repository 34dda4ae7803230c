"""``top_performers`` rows are JSON-ready whatever the agent ids' dtype: they skip the report's value walk
(``PlainRows``), so numpy scalars, NA and NaN must already be plain Python values (issue 25)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from cxlens.config import KPIConfig
from cxlens.metrics import compute_kpis, make_tables


def _tickets(agent_ids: pd.Series) -> pd.DataFrame:
    n = len(agent_ids)
    created = pd.date_range("2025-01-01", periods=n, freq="h", tz="UTC")
    resolved = pd.Series(created + pd.Timedelta(hours=2)).where(np.arange(n) % 3 != 0)
    return pd.DataFrame({"ticket_id": [f"t{i}" for i in range(n)], "created_at": created,
                         "resolved_at": resolved, "agent_id": agent_ids,
                         "team": ["a", "b"] * (n // 2), "handle_time_s": np.where(np.arange(n) % 4, 300.0, np.nan),
                         "csat": np.where(np.arange(n) % 2, 5.0, np.nan)})


@pytest.mark.parametrize("agent_ids", [
    pd.Series([np.int64(i % 3) for i in range(12)], dtype=object),          # numpy ints in an object column
    pd.Series([1, 2, pd.NA, 1, 2, 3] * 2, dtype="Int64"),                      # nullable ints with a missing agent
    pd.Series(["x", "y", None, "x", "y", "z"] * 2, dtype="str"),               # strings with a missing agent
])
def test_top_performers_rows_are_plain_python_overall_and_grouped(agent_ids):
    tables = make_tables(tickets=_tickets(agent_ids))
    for by in ((), ("team",)):
        report = compute_kpis(tables, config=KPIConfig(top_performers_min_n=1), names=["top_performers"], by=by)
        data = report.to_dict()
        json.dumps(data, allow_nan=False)  # no numpy scalar, NA or NaN left
        rows = [row for group in _values(data) for row in group]
        assert rows, data
        for row in rows:
            for key, value in row.items():
                assert value is None or type(value) in (str, int, float), (key, value, type(value))
            assert isinstance(row["tickets"], int) and isinstance(row["rank"], int)


def _values(data) -> list[list[dict]]:
    """Every list of rows in the report's dict, wherever it sits."""
    found = []
    if isinstance(data, dict):
        for value in data.values():
            found += _values(value)
    elif isinstance(data, list):
        if data and all(isinstance(v, dict) and "rank" in v for v in data):
            found.append(data)
        else:
            for value in data:
                found += _values(value)
    return found
