"""The KPI summary job: validated tables in, a KPI report out.

Plain functions; each name says what it returns.  The CLI and the batch
scorer call these; nothing here parses arguments or prints.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from cxlens._csv_safety import write_csv
from cxlens._validate import FALSE_WORDS, TRUE_WORDS
from cxlens.config import KPIConfig
from cxlens.dataset import Dataset
from cxlens.errors import ConfigError
from cxlens.metrics import KPIReport, Tables, compute_kpis, get_kpi, get_kpi_names, make_tables
from cxlens.pipelines._kpi_stream import streamed_kpi_tables
from cxlens.schema import get_schema

__all__ = ["filter_tickets_where", "kpi_catalogue", "kpi_catalogue_markdown", "kpi_report", "kpi_report_text",
           "kpi_tables", "streamed_kpi_tables", "write_kpi_report"]

log = logging.getLogger(__name__)


def kpi_catalogue() -> pd.DataFrame:
    """The registry as a table: name, category, unit, direction, formula, inputs, summary."""
    rows = []
    for name in get_kpi_names():
        kpi = get_kpi(name)
        rows.append({"name": name, "category": kpi.category, "unit": kpi.unit, "direction": kpi.direction,
                     "formula": kpi.formula, "requires": ", ".join(kpi.requires), "summary": kpi.summary})
    return pd.DataFrame(rows)


def kpi_catalogue_markdown() -> str:
    """The catalogue as the Markdown page docs/kpis.md (a test keeps the page in step)."""
    lines = [
        "# KPI catalogue",
        "",
        "Generated from the registry by `cxlens kpis list --format markdown > docs/kpis.md`; "
        "do not edit by hand.",
        "Percentages are 0-100, durations seconds. `a|b` in the inputs means either will do.",
        "",
    ]
    catalogue = kpi_catalogue()
    for category, rows in catalogue.groupby("category", sort=True):
        lines += [f"## {category}", "", "| KPI | unit | better | formula | inputs |", "|---|---|---|---|---|"]
        for row in rows.itertuples():
            lines.append(f"| `{row.name}` | {row.unit} | {row.direction} | {row.formula} | {row.requires} |")
        lines.append("")
        for row in rows.itertuples():
            lines.append(f"- **`{row.name}`**: {' '.join(get_kpi(row.name).doc.split())}")
        lines.append("")
    return "\n".join(lines)


def kpi_tables(dataset: Dataset, *, period_start: pd.Timestamp | None = None,
               period_end: pd.Timestamp | None = None) -> Tables:
    """The dataset's frames as KPI input tables (period defaults to the data's span)."""
    return make_tables(tickets=dataset.tickets, messages=dataset.messages, accounts=dataset.accounts,
                       surveys=dataset.surveys, mentions=dataset.mentions,
                       period_start=period_start, period_end=period_end)


def kpi_report(tables: Tables, *, config: KPIConfig | None = None, names: Sequence[str] | None = None,
               by: Sequence[str] = (), period: str | None = None) -> KPIReport:
    """Every computable KPI (or ``names``), overall and per group."""
    return compute_kpis(tables, config=config, names=names, by=by, period=period)


def _fmt(value: Any, unit: str) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict):
        items = list(value.items())[:4]
        return ", ".join(f"{k}: {_fmt(v, 'ratio') if not isinstance(v, dict) else '...'}" for k, v in items) + (
            ", ..." if len(value) > 4 else "")
    if isinstance(value, list):
        return f"{len(value)} rows"
    if unit == "s":
        return f"{value:,.0f} s ({value / 3600:.1f} h)" if value >= 3600 else f"{value:,.1f} s"
    if unit == "%":
        return f"{value:.1f} %"
    if unit == "count":
        return f"{value:,.0f}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def kpi_report_text(report: KPIReport) -> list[tuple[str, str, str]]:
    """(name, formatted value, n) rows of the overall figures, for display."""
    return [(name, _fmt(value, get_kpi(name).unit), f"{report.n[name]:,}") for name, value in report.kpis.items()]


def write_kpi_report(report: KPIReport, path: str | Path, *, fmt: str = "json") -> Path:
    """Write the report as JSON (the full contract) or CSV (one row per group)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "json":
        path.write_text(json.dumps(report.to_dict(), indent=2, default=str), encoding="utf-8")
    else:
        write_csv(report.to_frame(), path)
    return path


def filter_tickets_where(dataset: Dataset, conditions: Sequence[str], kpi) -> None:
    """``COL=VALUE`` conditions (all of them; ``cxlens kpis explain --where``): narrow ``dataset`` to the tickets
    whose column equals the value read as the column's type (``true``/``yes``/``1`` for a flag, a number for a
    number, a date for that UTC day, a category as the schema writes it), and the messages and surveys of those
    tickets. A KPI that reads accounts or mentions cannot be narrowed this way."""
    tickets = dataset.tickets
    if tickets is None:
        raise ConfigError("--where filters tickets; pass --tickets.")
    reads = {need.partition(".")[0] for option in kpi.requires for need in option.split("|")}
    other = sorted(reads - {"tickets", "messages", "surveys"})
    if other:
        raise ConfigError(f"--where narrows tickets (and their messages and surveys), but {kpi.name} reads "
                          f"{' and '.join(other)}, which have no ticket: run it without --where, or use "
                          "`cxlens kpis compute --by COLUMN` for a ticket column's groups.")
    surveys = dataset.surveys
    if surveys is not None and "ticket_id" not in surveys and "surveys" in reads:
        raise ConfigError(f"--where narrows tickets, but the surveys {kpi.name} reads have no ticket_id to follow "
                          "them to their tickets: add it to the surveys, or run without --where.")
    kinds = {c.name: c.kind for c in get_schema("tickets").columns}
    for cond in conditions:
        col, sep, value = cond.partition("=")
        col = col.strip()
        if not sep or col not in tickets:
            raise ConfigError(f"--where {cond}: give COLUMN=VALUE with a column of the tickets"
                              + (f" (there is no {col!r})" if sep else "") + ".")
        tickets = tickets[_equals(tickets[col], value, kinds.get(col), cond)]
    if not len(tickets):
        log.warning("--where %s leaves no ticket", " ".join(conditions))
    dataset.tables["tickets"].frame = tickets
    for name in ("messages", "surveys"):
        frame = getattr(dataset, name)
        if frame is not None and "ticket_id" in frame:
            dataset.tables[name].frame = frame[frame["ticket_id"].isin(tickets["ticket_id"])]


def _equals(column, value: str, kind: str | None, cond: str):
    """Rows of ``column`` equal to ``value`` read as the column's type."""
    text = value.strip()
    if pd.api.types.is_bool_dtype(column) or kind == "bool":  # the flag words validation reads
        if text.lower() not in TRUE_WORDS | FALSE_WORDS:
            raise ConfigError(f"--where {cond}: {text!r} is no flag value (true/false, yes/no, 1/0).")
        return (column == (text.lower() in TRUE_WORDS)).fillna(False).astype(bool)
    if pd.api.types.is_numeric_dtype(column):
        try:
            number = float(text)
        except ValueError:
            raise ConfigError(f"--where {cond}: the column holds numbers, and {text!r} is not one.") from None
        return (column == number).fillna(False).astype(bool)
    if pd.api.types.is_datetime64_any_dtype(column):  # a moment, or a day given as a date
        try:
            moment = pd.Timestamp(text)
        except ValueError:
            raise ConfigError(f"--where {cond}: the column holds timestamps, and {text!r} is not one.") from None
        moment = moment.tz_localize("UTC") if moment.tzinfo is None else moment.tz_convert("UTC")
        if len(text) <= 10:  # 2025-01-01: that day (UTC)
            return ((column >= moment) & (column < moment + pd.Timedelta(days=1))).fillna(False).astype(bool)
        return (column == moment).fillna(False).astype(bool)
    if kind == "category":  # categories are read lower-cased, spaces as underscores
        text = text.lower().replace(" ", "_")
    return (column.astype("str") == text).fillna(False).astype(bool)
