"""The at-risk review as one self-contained HTML page.

Inline CSS, inline SVG charts, no scripts, no external fonts, images or links:
the file can be mailed or opened offline.  Every value from the data is
HTML-escaped, and URL schemes inside ticket text are dropped so that nothing
on the page points outside it.  Ticket ids link to the ticket list at the
bottom of the same page.
"""

from __future__ import annotations

import html
import math
import re
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["render_at_risk_html"]

_SCHEME = re.compile(r"\b[a-z][a-z0-9+.-]*://", re.IGNORECASE)

CSS = """
body{font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;margin:24px;color:#222;background:#fafafa}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
.sub{color:#666;font-size:13px;margin-bottom:16px}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{background:#fff;border:1px solid #e3e3e3;border-radius:6px;padding:10px 14px;min-width:150px}
.card .v{font-size:20px;font-weight:600} .card .k{font-size:12px;color:#666}
table{border-collapse:collapse;background:#fff;font-size:13px;width:100%}
th,td{border:1px solid #e6e6e6;padding:5px 7px;text-align:left;vertical-align:top}
th{background:#f2f2f2;position:sticky;top:0} td.n{text-align:right;white-space:nowrap}
.band-good{color:#1e7e34;font-weight:600} .band-average{color:#b7791f;font-weight:600}
.band-poor{color:#c0392b;font-weight:600}
.bar{display:inline-block;height:8px;background:#c0392b;border-radius:2px;vertical-align:middle;margin-right:4px}
ul.r{margin:0;padding-left:16px} .note{color:#666;font-size:12px} .charts{display:flex;gap:24px;flex-wrap:wrap}
a{color:#1f5fa8}
"""


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return html.escape(_SCHEME.sub("", str(value)))


def _money(value: Any) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return ""
    return "" if math.isnan(number) else f"{number:,.0f}"


def _kpi_value(name: str, value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, dict):
        parts = []
        for k, v in value.items():
            if isinstance(v, dict):
                parts.append(", ".join(f"{_text(b)}: {_text(c)}" for b, c in v.items()))
            elif isinstance(v, float):
                parts.append(f"{_text(k)} {v:.1f}")
            else:
                parts.append(f"{_text(k)} {_text(v)}")
        return "; ".join(parts)
    if isinstance(value, (int, float)):
        if name.startswith("mrr") or name in ("customer_lifetime_value", "revenue_at_risk"):
            return _money(value)
        if name in ("at_risk_accounts",):
            return f"{value:,.0f}"
        return f"{value:.1f}%"
    return _text(value)


def _histogram_svg(values: np.ndarray, *, lo: float, hi: float, bins: int, title: str, color: str) -> str:
    """A small bar chart of ``values`` as inline SVG (no external references)."""
    values = values[~np.isnan(values)]
    counts, edges = np.histogram(values, bins=bins, range=(lo, hi))
    width, height, pad = 320, 150, 26
    top = max(int(counts.max()) if len(counts) else 1, 1)
    bar_w = (width - 2 * pad) / bins
    bars = []
    for i, c in enumerate(counts):
        h = (height - 2 * pad) * c / top
        x = pad + i * bar_w
        bars.append(f'<rect x="{x:.1f}" y="{height - pad - h:.1f}" width="{bar_w - 2:.1f}" height="{h:.1f}" '
                    f'fill="{color}"><title>{edges[i]:.2g}-{edges[i + 1]:.2g}: {c}</title></rect>')
    axis = (f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="#888"/>'
            f'<text x="{pad}" y="{height - 8}" font-size="10">{lo:g}</text>'
            f'<text x="{width - pad - 14}" y="{height - 8}" font-size="10">{hi:g}</text>'
            f'<text x="{pad}" y="14" font-size="12">{html.escape(title)} (max bar {top})</text>')
    label = html.escape(title)
    return f'<svg width="{width}" height="{height}" role="img" aria-label="{label}">{axis}{"".join(bars)}</svg>'


def _summary_cards(summary: dict[str, Any]) -> str:
    bands = summary.get("health_bands", {})
    cards = [
        ("accounts scored", f"{summary['accounts_scored']:,}"),
        (f"at risk (p &ge; {summary['risk_threshold']:.1%})", f"{summary['at_risk_accounts']:,}"),
        ("revenue at risk (sum MRR &times; p, flagged)", _money(summary.get("revenue_at_risk", float("nan")))),
        ("MRR of at-risk accounts", _money(summary["mrr_of_at_risk_accounts"])),
        ("expected MRR loss (sum p &times; MRR)", _money(summary["expected_mrr_loss"])),
        ("total MRR scored", _money(summary["total_mrr"])),
        ("health: good / average / poor",
         f"{bands.get('good', 0)} / {bands.get('average', 0)} / {bands.get('poor', 0)}"),
    ]
    return '<div class="cards">' + "".join(
        f'<div class="card"><div class="v">{v}</div><div class="k">{k}</div></div>' for k, v in cards) + "</div>"


def _rule_section(summary: dict[str, Any]) -> str:
    """Who counts as at risk, and why this rule."""
    rule = summary.get("risk_rule")
    if not rule:
        return ""
    return (f"<p><b>At risk</b> = {_text(rule)}: {summary['at_risk_accounts']:,} accounts, revenue at risk "
            f"{_money(summary.get('revenue_at_risk', float('nan')))} (sum of MRR &times; churn probability over "
            f"them). <span class='note'>Rule {_text(summary.get('risk_rule_why', ''))}.</span></p>")


def _pct(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and np.isnan(value)) else f"{float(value):.0%}"


def _lift(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and np.isnan(value)) else f"{float(value):.1f}x"


def _rule_label(key: str) -> str:
    """``top_0.1`` -> ``top 10%``, ``relative_2`` -> ``>= 2x base rate``."""
    kind, _, value = key.partition("_")
    if kind == "top":
        return f"top {float(value):.0%}"
    if kind == "relative":
        return f">= {float(value):g}x base rate"
    return key.replace("_", " ")


def _backtest_table(rows: list[dict[str, Any]]) -> str:
    """Precision at 10/20/50 and each rule's precision on past dates (a model trained before each)."""
    if not rows:
        return ("<p class='note'>No back-test: it needs churned_at dates and a horizon of history before the "
                "review date (cxlens accounts at-risk --backtest 3).</p>")
    rules = [k[:-len("_precision")] for k in rows[0] if k.endswith("_precision") and not k.startswith("precision")]
    head = ("<tr><th>date</th><th>accounts</th><th>churned</th><th>base rate</th>"
            + "".join(f"<th>precision@{k} (lift)</th>" for k in (10, 20, 50))
            + "".join(f"<th>{_text(_rule_label(r))}: flagged, precision (lift)</th>" for r in rules) + "</tr>")
    body = []
    for row in rows:
        cells = [_text(row["date"]), f"{row['accounts']:,}", f"{row['churned']:,}", _pct(row["base_rate"])]
        cells += [f"{_pct(row.get(f'precision_at_{k}'))} ({_lift(row.get(f'lift_at_{k}'))})" for k in (10, 20, 50)]
        cells += [f"{row.get(f'{r}_flagged', 0):,}, {_pct(row.get(f'{r}_precision'))} ({_lift(row.get(f'{r}_lift'))})"
                  for r in rules]
        body.append("<tr>" + "".join(f"<td class='n'>{c}</td>" for c in cells) + "</tr>")
    note = ("<p class='note'>For each date a model was trained only on what was known before it (features from "
            "earlier events, labels whose window had closed) and scored the accounts that were customers then; "
            "churned = churned_at in the horizon after the date. Lift = precision / base rate. The accounts' "
            "usage counters (today's values) are left out; plan, MRR and the other account columns are "
            "today's values, not replayed in time.</p>")
    return "<table>" + head + "".join(body) + "</table>" + note


def _retention_table(retention: dict[str, Any], skipped: dict[str, list[str]]) -> str:
    rows = [f"<tr><td>{_text(k)}</td><td class='n'>{_kpi_value(k, v)}</td></tr>" for k, v in retention.items()]
    rows += [f"<tr><td>{_text(k)}</td><td class='note'>not computed: needs {_text(', '.join(v))}</td></tr>"
             for k, v in skipped.items()]
    return "<table><tr><th>KPI</th><th>value</th></tr>" + "".join(rows) + "</table>"


def _ranked_table(table: pd.DataFrame, top: int) -> str:
    head = ("<tr><th>#</th><th>account</th><th>plan</th><th>churn probability</th><th>health</th>"
            "<th>MRR</th><th>MRR at risk</th><th>top reasons</th><th>recent problem tickets</th></tr>")
    rows = []
    for row in table.head(top).itertuples(index=False):
        p = float(row.churn_probability)
        reasons = [(getattr(row, f"reason_{i}", ""), str(getattr(row, f"reason_{i}_tickets", "") or "").split())
                   for i in (1, 2, 3)]
        tickets = " ".join(f'<a href="#t-{_text(t)}">{_text(t)}</a>'
                           for t in str(row.recent_problem_tickets).split() if t)
        band = _text(row.health_band)
        rows.append(
            f"<tr><td class='n'>{row.rank}</td><td>{_text(row.account_id)}</td>"
            f"<td>{_text(getattr(row, 'plan', ''))}</td>"
            f"<td class='n'><span class='bar' style='width:{60 * p:.0f}px'></span>{p:.0%}</td>"
            f"<td><span class='band-{band}'>{_text(row.health_score)} {band}</span>"
            f"<div class='note'>{_text(row.health_reasons)}</div></td>"
            f"<td class='n'>{_money(row.mrr)}</td><td class='n'>{_money(row.mrr_at_risk)}</td>"
            f"<td><ul class='r'>{''.join(f'<li>{_text(r)}{_ticket_links(t)}</li>' for r, t in reasons if _real(r))}"
            f"</ul></td>"
            f"<td>{tickets}</td></tr>")
    return "<table>" + head + "".join(rows) + "</table>"


def _real(text: Any) -> bool:
    return isinstance(text, str) and text not in ("", "nan")


def _ticket_links(tickets: list[str]) -> str:
    if not tickets:
        return ""
    return " <span class='note'>(" + ", ".join(_text(t) for t in tickets if t != "nan") + ")</span>"


def _ticket_table(tickets: pd.DataFrame, accounts: set[str]) -> str:
    shown = tickets.loc[tickets["account_id"].isin(accounts)] if len(tickets) else tickets
    if not len(shown):
        return "<p class='note'>No negative, unresolved, reopened or low-rated tickets in the last 90 days.</p>"
    rows = [f"<tr id='t-{_text(r.ticket_id)}'><td>{_text(r.ticket_id)}</td><td>{_text(r.account_id)}</td>"
            f"<td>{pd.Timestamp(r.created_at):%Y-%m-%d}</td><td>{_text(r.why)}</td><td>{_text(r.subject)}</td></tr>"
            for r in shown.itertuples(index=False)]
    return ("<table><tr><th>ticket</th><th>account</th><th>created</th><th>why listed</th><th>subject</th></tr>"
            + "".join(rows) + "</table>")


def _model_section(info: dict[str, Any], method: str) -> str:
    keep = ("trained", "model", "validation", "horizon_days", "label_col", "n_rows", "n_accounts", "n_snapshots",
            "validation_roc_auc", "validation_pr_auc", "validation_brier", "validation_lift_top_decile")
    items = []
    for key in keep:
        if key in info and info[key] is not None:
            value = info[key]
            text = f"{value:.3f}" if isinstance(value, float) else _text(value)
            items.append(f"<li>{_text(key.replace('_', ' '))}: {text}</li>")
    notes = {
        "exact-linear": "Reasons are exact contributions of the logistic model (they add up to its log-odds).",
        "tree-shap": "Reasons are TreeSHAP contributions of the gradient-boosted model (shap package).",
        "permutation-global": "The gradient-boosted model was chosen and shap is not installed: reasons are the "
                              "globally most important features (permutation importance), not per account.",
    }
    return f"<ul>{''.join(items)}</ul><p class='note'>{_text(notes.get(method, ''))}</p>"


def render_at_risk_html(review, *, top: int = 50) -> str:
    """The whole page for an :class:`cxlens.pipelines.accounts.AtRiskReview`."""
    table, summary = review.table, review.summary
    as_of = pd.Timestamp(summary["as_of"])
    charts = (_histogram_svg(table["churn_probability"].to_numpy(dtype=float), lo=0, hi=1, bins=10,
                             title="churn probability", color="#c0392b")
              + _histogram_svg(pd.to_numeric(table["health_score"], errors="coerce").to_numpy(dtype=float),
                               lo=0, hi=100, bins=10, title="health score", color="#2e86c1"))
    shown = set(table.head(top)["account_id"].astype(str))
    body = [
        "<h1>At-risk accounts</h1>",
        f"<div class='sub'>As of {as_of:%Y-%m-%d %H:%M} UTC &middot; top {min(top, len(table))} of "
        f"{len(table)} current accounts by churn probability &middot; generated by cxlens</div>",
        "<h2>Summary</h2>", _summary_cards(summary), _rule_section(summary),
        f"<div class='charts'>{charts}</div>",
        "<h2>Retention and revenue</h2>",
        f"<p class='note'>Over the {summary.get('period_days', 90):g} days before the review date; from the "
        "cxlens KPI registry.</p>",
        _retention_table(review.retention, review.retention_skipped),
        "<h2>Ranked accounts</h2>", _ranked_table(table, top),
        "<h2>Back-test: of the accounts flagged on past dates, how many churned</h2>",
        _backtest_table(summary.get("backtest", [])),
        "<h2>Recent problem tickets</h2>", _ticket_table(review.tickets, shown),
        "<h2>Model</h2>", _model_section(review.model_info, summary.get("explanation_method", "")),
    ]
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>cxlens at-risk accounts</title>"
            f"<style>{CSS}</style></head><body>{''.join(body)}</body></html>")
