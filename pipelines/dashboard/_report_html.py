"""``cxlens report DIR --out report.html``: every dashboard page in one self-contained HTML file.

The pages are the same :class:`~cxlens.pipelines.dashboard._data.Page` objects the Streamlit app
shows. Charts are drawn with matplotlib (no pyplot state) and embedded as base64 PNG; CSS is
inline; there are no scripts, fonts or links to anything outside the file, so it opens with no
network. Every value from the data is HTML-escaped and URL schemes in it are dropped. Each chart
keeps its drill-down as a collapsed ``<details>`` block with the rows behind it and CSV downloads
(``data:`` links inside the file).
"""

from __future__ import annotations

import base64
import html
import io
import logging
import math
import re
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cxlens._csv_safety import write_csv
from cxlens.pipelines.dashboard._data import SEMANTIC_COLOURS, Chart, DashboardFilters, DashboardSettings, Page

__all__ = ["chart_png", "render_report_html", "report_pages", "write_report"]

log = logging.getLogger(__name__)

_SCHEME = re.compile(r"\b[a-z][a-z0-9+.-]*://", re.IGNORECASE)
ROWS_SHOWN = 100
CSV_ROWS = 2000
TABLE_ROWS = 50
CONVERSATIONS = 5
#: columns of the report's rows-behind CSV (ids and the chart's keys; the app offers every column)
ID_COLUMNS = ("ticket_id", "account_id", "mention_id", "message_id", "agent_id", "month", "kpi", "step")
#: columns kept in the report's drill-down rows (the app shows every column)
ROW_COLUMNS = ("ticket_id", "account_id", "mention_id", "message_id", "agent_id", "month", "kpi", "created_at",
               "channel", "team", "subject", "status", "priority", "resolved_at", "contacts", "reopened", "kind",
               "score", "group", "solved on", "weekday", "hour", "first_response_s", "topic", "topic_parent",
               "request_type", "sentiment", "step", "found", "in_position", "evidence", "reason", "script_adherence",
               "auto_fail", "plan", "mrr", "churn_probability", "health_score", "health_band", "band", "probability",
               "signup_at", "churned_at", "author_role", "sent_at")
PALETTE = ("#1f5fa8", "#e07b39", "#3a9d5d", "#c0392b", "#8e6bb8", "#7f7f7f", "#b8860b", "#17becf", "#d46a9f")

CSS = """
body{font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;margin:0;color:#222;background:#fafafa}
header{padding:18px 28px;background:#fff;border-bottom:1px solid #ddd}
h1{font-size:22px;margin:0 0 4px} .sub{color:#666;font-size:13px}
nav{padding:8px 28px;background:#f2f4f7;border-bottom:1px solid #ddd;font-size:14px}
nav a{margin-right:16px;color:#1f5fa8;text-decoration:none}
section.page{padding:8px 28px 24px;border-bottom:2px solid #e3e3e3}
h2{font-size:20px;margin:20px 0 4px} h3{font-size:15px;margin:22px 0 6px}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:12px 0}
.card{background:#fff;border:1px solid #e3e3e3;border-radius:6px;padding:10px 14px;min-width:150px}
.card .v{font-size:20px;font-weight:600} .card .k{font-size:12px;color:#666} .card .m{font-size:11px;color:#999}
.note{background:#eef4fb;border-left:3px solid #1f5fa8;padding:6px 10px;margin:6px 0;font-size:13px}
.warn{background:#fff6e5;border-left:3px solid #d48806}
.caption{color:#666;font-size:12px;margin:4px 0}
table{border-collapse:collapse;background:#fff;font-size:12px;margin:6px 0}
th,td{border:1px solid #e6e6e6;padding:4px 6px;text-align:left;vertical-align:top;max-width:420px}
th{background:#f2f2f2} td.n{text-align:right;white-space:nowrap}
details{margin:6px 0 10px} summary{cursor:pointer;color:#1f5fa8;font-size:13px}
img.chart{max-width:100%;height:auto;background:#fff;border:1px solid #eee}
mark{background:#ffe58a} a{color:#1f5fa8}
"""


def _esc(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, list):
        value = "; ".join(map(str, value))
    return html.escape(_SCHEME.sub("", str(value)))


def _cell(value: Any) -> str:
    if isinstance(value, (float, np.floating)) and not math.isnan(float(value)):
        return f'<td class="n">{float(value):,.2f}</td>'
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return f'<td class="n">{int(value):,}</td>'
    return f"<td>{_esc(value)}</td>"


def _table(frame: pd.DataFrame, *, limit: int) -> str:
    if frame is None or not len(frame.columns):
        return ""
    head = "".join(f"<th>{_esc(c)}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>"
                   for row in frame.head(limit).itertuples(index=False, name=None))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _csv_link(frame: pd.DataFrame, name: str, label: str) -> str:
    text = _SCHEME.sub("", write_csv(frame))
    data = base64.b64encode(text.encode("utf-8")).decode("ascii")
    return f'<a download="{_esc(name)}" href="data:text/csv;base64,{data}">{_esc(label)}</a>'


def chart_png(chart: Chart) -> bytes:
    """The chart drawn with matplotlib, as PNG bytes (no metadata that names a web address)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    data = chart.data
    fig = Figure(figsize=(9, 3.4), dpi=80)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    x_labels = [str(v) for v in pd.unique(data[chart.x])]
    positions = np.arange(len(x_labels))
    if chart.series:
        series = [str(s) for s in pd.unique(data[chart.series])]
        width = 0.8 / max(1, len(series))
        for i, name in enumerate(series):
            part = data.loc[data[chart.series].astype(str) == name]
            values = pd.Series(pd.to_numeric(part[chart.y], errors="coerce").to_numpy(),
                               index=part[chart.x].astype(str)).reindex(x_labels).to_numpy(dtype=float)
            color = SEMANTIC_COLOURS.get(name, PALETTE[i % len(PALETTE)])
            if chart.kind == "line":
                ax.plot(positions, values, marker="o", label=name, color=color)
            else:
                ax.bar(positions - 0.4 + width * (i + 0.5), values, width=width, label=name, color=color)
        ax.legend(fontsize=7, loc="best", ncol=2)
    else:
        values = pd.to_numeric(data[chart.y], errors="coerce").to_numpy(dtype=float)
        if chart.kind == "line":
            ax.plot(positions, values, marker="o", color=PALETTE[0])
        else:
            ax.bar(positions, values, color=PALETTE[0])
    if chart.target is not None:
        ax.axhline(chart.target, color="#c0392b", linestyle="--", linewidth=1, label="target")
        ax.legend(fontsize=7, loc="best")
    ax.set_xticks(positions)
    rotate = len(x_labels) > 8 or max(map(len, x_labels or [""])) > 10
    ax.set_xticklabels(x_labels, rotation=40 if rotate else 0, ha="right" if rotate else "center", fontsize=7)
    ax.set_ylabel(chart.y, fontsize=8)
    ax.tick_params(axis="y", labelsize=7)
    ax.grid(axis="y", alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    fig.subplots_adjust(left=0.08, right=0.98, top=0.95, bottom=0.32 if rotate else 0.14)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _chart_html(page: Page, chart: Chart) -> str:
    parts = [f'<h3 id="{page.key}-{chart.key}">{_esc(chart.title)}</h3>']
    if chart.kind == "table":
        parts.append(_table(chart.data, limit=TABLE_ROWS))
    elif len(chart.data):
        png = base64.b64encode(chart_png(chart)).decode("ascii")
        parts.append(f'<img class="chart" alt="{_esc(chart.title)}" src="data:image/png;base64,{png}">')
    if chart.note:
        parts.append(f'<p class="caption">{_esc(chart.note)}</p>')
    base = f"{page.key}-{chart.key}"
    links = [_csv_link(chart.data, f"{base}.csv", "chart data (CSV)")]
    rows = chart.rows if chart.rows is not None else pd.DataFrame()
    narrow = rows[[c for c in rows.columns if c in ROW_COLUMNS or c in (chart.drill, chart.series)]]
    keys = rows[[c for c in rows.columns if c in ID_COLUMNS or c in (chart.drill, chart.series)]]
    if len(keys):
        cut = f", first {CSV_ROWS}" if len(keys) > CSV_ROWS else ""
        links.append(_csv_link(keys.head(CSV_ROWS), f"{base}-rows.csv", f"ids of the rows behind (CSV{cut})"))
    shown = min(len(narrow), ROWS_SHOWN)
    parts.append(f"<details><summary>Rows behind this chart: {len(rows):,} (first {shown} shown; by "
                 f"{_esc(chart.drill or chart.x)})</summary><p class=\"caption\">Download: {' | '.join(links)}</p>"
                 f"{_table(narrow, limit=ROWS_SHOWN)}</details>")
    if chart.kind != "table":
        parts.append(f"<details><summary>Chart data</summary>{_table(chart.data, limit=500)}</details>")
    return "\n".join(parts)


def _conversations_html(page: Page, conversations: dict[str, pd.DataFrame]) -> str:
    from cxlens.pipelines.dashboard._ai_pages import highlight_evidence

    if not conversations:
        return ""
    parts = ["<h3>Lowest-scoring conversations, evidence marked</h3>"]
    for ticket_id, convo in conversations.items():
        lines = []
        for row in convo.itertuples(index=False):
            label = getattr(row, "found_by", "") or row.steps  # step: what found it, score
            steps = f" <small>[{_esc(label)}]</small>" if label else ""
            lines.append(f"<p><b>{int(row.position)}. {_esc(row.author_role)}</b>{steps}: "
                         f"{highlight_evidence(row.text, row.evidence)}</p>")
        parts.append(f"<details><summary>{_esc(ticket_id)}</summary>{''.join(lines)}</details>")
    return "\n".join(parts)


def _page_html(page: Page, conversations: dict[str, pd.DataFrame]) -> str:
    cards = "".join(
        f'<div class="card"><div class="v">{_esc(m.text)}</div><div class="k">{_esc(m.label)}</div>'
        + (f'<div class="m">n = {m.n:,}</div>' if m.n else "")
        + (f'<div class="m">{_esc(m.note)}</div>' if m.note and m.value is None else "") + "</div>"
        for m in page.metrics)
    notes = "".join(f'<p class="note{" warn" if "cxlens score" in n else ""}">{_esc(n)}</p>' for n in page.notes)
    charts = "\n".join(_chart_html(page, chart) for chart in page.charts)
    extra = _conversations_html(page, conversations) if page.key == "quality" else ""
    return (f'<section class="page" id="{page.key}"><h2>{_esc(page.title)}</h2><p class="sub">{_esc(page.summary)}'
            f'</p><div class="cards">{cards}</div>{notes}{charts}{extra}</section>')


def render_report_html(pages: Sequence[Page], *, source: str = "", filters: DashboardFilters | None = None,
                       conversations: dict[str, pd.DataFrame] | None = None, generated: datetime | None = None) -> str:
    """The pages as one HTML document (a table of contents, then one section per page)."""
    generated = generated or datetime.now(timezone.utc)
    filters = filters or DashboardFilters()
    scope = [f"period {filters.start or 'start'} to {filters.end or 'end'}"]
    for name, chosen in (("channel", filters.channels), ("team", filters.teams), ("agent", filters.agents)):
        if chosen:
            scope.append(f"{name}: {', '.join(chosen)}")
    nav = "".join(f'<a href="#{p.key}">{_esc(p.title)}</a>' for p in pages)
    body = "\n".join(_page_html(p, conversations or {}) for p in pages)
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>cxlens report</title><style>{CSS}</style></head><body>"
            f"<header><h1>cxlens report</h1><div class=\"sub\">{_esc(source)}; {_esc('; '.join(scope))}; generated "
            f"{generated:%Y-%m-%d %H:%M} UTC. Offline file: no scripts, no external links.</div></header>"
            f"<nav>{nav}</nav>{body}</body></html>")


def report_pages(archive, *, filters: DashboardFilters | None = None,
                 settings: DashboardSettings | None = None) -> tuple[list[Page], dict[str, pd.DataFrame]]:
    """Every dashboard page, plus the lowest-scoring conversations with their evidence (quality drill-down)."""
    from cxlens.pipelines.dashboard._ai_pages import conversation_with_evidence
    from cxlens.pipelines.dashboard._data import filtered_archive
    from cxlens.pipelines.dashboard._pages import PAGES

    filtered = filtered_archive(archive, filters or DashboardFilters())
    settings = settings or DashboardSettings()
    pages = [function(filtered, settings) for _, _, function in PAGES]
    conversations: dict[str, pd.DataFrame] = {}
    quality = next(p for p in pages if p.key == "quality")
    if any(c.key == "lowest_conversations" for c in quality.charts):
        for ticket_id in quality.chart("lowest_conversations").data["ticket_id"].astype(str).head(CONVERSATIONS):
            conversations[ticket_id] = conversation_with_evidence(filtered.data, ticket_id)
    return pages, conversations


def write_report(source: str | Path, out: str | Path, *, filters: DashboardFilters | None = None,
                 settings: DashboardSettings | None = None, redact: bool = False) -> Path:
    """Read ``source`` (a ``cxlens score`` folder or raw tables), build every page, write ``out``.

    With ``redact``, personal data is replaced as the archive is read, so the file holds no raw value.
    """
    from cxlens.pipelines.score import read_scored

    archive = read_scored(source, redact=redact)
    pages, conversations = report_pages(archive, filters=filters, settings=settings)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_report_html(pages, source=str(source), filters=filters, conversations=conversations),
                   encoding="utf-8")
    log.info("wrote %s (%d pages, %.1f MB)", out, len(pages), out.stat().st_size / 1e6)
    return out
