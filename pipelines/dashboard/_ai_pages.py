"""The AI dashboard pages: at-risk accounts and quality (script adherence); top topics in ``_topic_page``.

They read the columns ``cxlens score`` adds (docs/score-output.md). On an archive that was not
scored the columns are absent and each page returns a note saying to run ``cxlens score`` first,
not an error. :func:`conversation_with_evidence` and :func:`highlight_evidence` are the quality
drill-down: one conversation with the text that met each script step marked.
"""

from __future__ import annotations

import dataclasses
import html
import re
from typing import Any

import numpy as np
import pandas as pd

from cxlens.pipelines.dashboard._data import (
    RUN_SCORE_FIRST, Chart, DashboardSettings, FilteredArchive, Metric, Page, kpi_metric, missing_notes,
    score_first_note,
)
from cxlens.pipelines.score import ScoredArchive

__all__ = ["RUN_SCORE_FIRST", "at_risk_page", "conversation_with_evidence", "highlight_evidence", "quality_page"]

BANDS = ("good", "average", "poor")
RANKED_COLUMNS = ("rank", "account_id", "plan", "mrr", "churn_probability", "at_risk", "health_score",
                  "health_band", "mrr_at_risk", "reason_1", "reason_2", "reason_3", "recent_problem_tickets")
_SCHEME = re.compile(r"\b[a-z][a-z0-9+.-]*://", re.IGNORECASE)


# ---------------------------------------------------------------- at-risk accounts
def _risk_rule_note(scored: pd.DataFrame, config) -> tuple[str, np.ndarray]:
    """Who is at risk, in words, and the mask over ``scored``: a fixed ``risk_threshold`` when configured,
    else the at-risk review's flag (``at_risk``: the top decile or >= 2x the base rate), else 0.5."""
    p = scored["churn_probability"].to_numpy(dtype=float)
    base = f"base rate {np.nanmean(p):.1%} = the mean calibrated churn probability" if len(p) else "no accounts"
    if config.risk_threshold is None and "at_risk" in scored.columns:
        flag = scored["at_risk"].astype("boolean").fillna(False).to_numpy(dtype=bool)
        line = f" (>= {p[flag].min():.1%})" if flag.any() else ""
        return (f"At risk = the at-risk review's rule relative to the portfolio ({base}): {int(flag.sum())} of "
                f"{len(p)} accounts{line}; `cxlens accounts at-risk` shows its back-test.", flag)
    threshold = 0.5 if config.risk_threshold is None else config.risk_threshold
    return f"At risk = churn probability >= {threshold:g} ({base}).", p >= threshold


def at_risk_page(filtered: FilteredArchive, settings: DashboardSettings) -> Page:
    """At-risk accounts: the ranked review with churn probability, health, reasons and their tickets."""
    page = Page(key="at_risk", title="At-risk accounts",
                summary="Which current accounts may churn, why, and the tickets behind them.")
    accounts, config = filtered.data.accounts, settings.config
    if accounts is None or "churn_probability" not in accounts.columns:
        page.notes.append(score_first_note("This page", "the accounts' churn_probability and health_score"))
        return page
    tables = filtered.tables()
    health = kpi_metric("customer_health_score", tables, config)
    page.metrics = [kpi_metric("at_risk_accounts", tables, config, label="At-risk accounts"),
                    kpi_metric("predicted_churn_rate", tables, config, label="Predicted churn rate"),
                    kpi_metric("revenue_at_risk", tables, config, label="Revenue at risk (MRR)"),
                    Metric(label="Mean health score", value=(health.value or {}).get("mean"), unit="score",
                           n=health.n, kpi="customer_health_score", note=health.note)]
    scored = accounts.loc[accounts["churn_probability"].notna().to_numpy()]
    scored = scored.sort_values(["rank"] if "rank" in scored else ["churn_probability"],
                                ascending="rank" in scored, kind="stable")
    tickets = filtered.data.tickets
    behind = pd.DataFrame(columns=["account_id", "ticket_id"])
    if tickets is not None and "account_id" in tickets.columns:
        behind = tickets.loc[tickets["account_id"].isin(scored["account_id"]).to_numpy(dtype=bool, na_value=False)]
    ranked = scored[[c for c in RANKED_COLUMNS if c in scored.columns]].reset_index(drop=True)
    rule, flagged = _risk_rule_note(scored, config)
    if "mrr_at_risk" in scored.columns:
        expected = float(np.nansum(pd.to_numeric(scored["mrr_at_risk"], errors="coerce").to_numpy()[flagged]))
        page.metrics.insert(3, Metric(label="Revenue at risk (MRR x probability)", value=expected, unit="currency",
                                      n=int(flagged.sum()), note="sum over the at-risk accounts"))
    page.charts.append(Chart(key="ranked_accounts", title="Accounts ranked by churn probability", kind="table",
                             data=ranked, x="account_id", y="churn_probability", rows=behind, drill="account_id",
                             note=f"{rule} The rows behind an "
                                  f"account are its tickets in the selection; recent_problem_tickets lists the "
                                  f"ones behind its reasons."))
    if "health_band" in scored.columns:
        rows = scored.assign(band=scored["health_band"].astype(object).fillna("unknown").to_numpy())
        order = [b for b in BANDS] + sorted(set(rows["band"]) - set(BANDS))
        counts = rows["band"].value_counts()
        data = pd.DataFrame({"band": order, "accounts": [int(counts.get(b, 0)) for b in order]})
        page.charts.append(Chart(key="health_bands", title="Current accounts by health band", kind="bar",
                                 data=data.loc[data["accounts"] > 0].reset_index(drop=True), x="band", y="accounts",
                                 rows=rows, drill="band", unit="count"))
    edges = np.linspace(0, 1, 11)
    labels = [f"{lo:.1f}-{hi:.1f}" for lo, hi in zip(edges[:-1], edges[1:])]
    bins = pd.cut(scored["churn_probability"].astype("float64"), edges, labels=labels, include_lowest=True)
    rows = scored.assign(probability=bins.astype(str).to_numpy())
    counts = rows["probability"].value_counts()
    page.charts.append(Chart(key="churn_probability", title="Current accounts by churn probability", kind="bar",
                             data=pd.DataFrame({"probability": labels,
                                                "accounts": [int(counts.get(b, 0)) for b in labels]}),
                             x="probability", y="accounts", rows=rows, drill="probability", unit="count"))
    page.notes += missing_notes(page.metrics)
    return page


# ---------------------------------------------------------------- quality
def _conversations(data: ScoredArchive) -> pd.DataFrame | None:
    """One row per scored conversation: ``qa_conversations``, else the tickets' QA columns."""
    if data.qa_conversations is not None and "script_adherence" in data.qa_conversations.columns:
        return data.qa_conversations
    tickets = data.tickets
    if tickets is not None and "script_adherence" in tickets.columns:
        keep = [c for c in ("ticket_id", "agent_id", "team", "script_adherence", "auto_fail") if c in tickets]
        return tickets.loc[tickets["script_adherence"].notna().to_numpy(), keep]
    return None


def quality_page(filtered: FilteredArchive, settings: DashboardSettings) -> Page:
    """Quality: script adherence by agent and step, auto-fails, the conversations behind them."""
    page = Page(key="quality", title="Quality",
                summary="Whether agents follow the script: adherence by agent and by step, auto-fails, and the "
                        "conversations with the evidence marked.")
    data, config = filtered.data, settings.config
    conversations = _conversations(data)
    if conversations is None:
        page.notes.append(score_first_note("This page", "script_adherence (cxlens score --scorecard ...)"))
        return page
    tables = filtered.tables()
    tickets = tables.tickets
    if tickets is not None and "script_adherence" not in tickets.columns:
        qa = conversations.drop_duplicates("ticket_id").set_index("ticket_id")
        extra = {c: tickets["ticket_id"].map(qa[c]) for c in ("script_adherence", "auto_fail") if c in qa}
        tables = dataclasses.replace(tables, tickets=tickets.assign(**extra))
    page.metrics = [Metric(label="Conversations scored", value=int(conversations["script_adherence"].notna().sum()),
                           unit="count"),
                    kpi_metric("script_adherence_rate", tables, config, label="Script adherence"),
                    kpi_metric("auto_fail_rate", tables, config, label="Auto-fail rate"),
                    kpi_metric("agent_consistency", tables, config, label="Agent consistency (std. dev.)")]
    scored = conversations.loc[conversations["script_adherence"].notna().to_numpy()]
    if "agent_id" in scored.columns and scored["agent_id"].notna().any():
        by_agent = scored.groupby("agent_id", observed=True).agg(
            adherence=("script_adherence", "mean"), conversations=("script_adherence", "size")).reset_index()
        if "auto_fail" in scored.columns:
            fails = scored.assign(_f=scored["auto_fail"].astype("boolean").fillna(False).astype(float))
            by_agent["auto_fail %"] = 100.0 * fails.groupby("agent_id", observed=True)["_f"].mean().to_numpy()
        by_agent = by_agent.sort_values(["adherence", "agent_id"], ascending=[False, True]).reset_index(drop=True)
        page.charts.append(Chart(key="adherence_by_agent", title="Script adherence by agent (0-100)", kind="bar",
                                 data=by_agent, x="agent_id", y="adherence", rows=scored, drill="agent_id", unit="%"))
    steps = data.qa_steps
    if steps is not None and {"step", "found"} <= set(steps.columns) and len(steps):
        found = steps["found"].astype("boolean").fillna(False).astype(float)
        by_step = (steps.assign(_found=found).groupby("step", observed=True, sort=False)
                   .agg(**{"found %": ("_found", "mean"), "conversations": ("_found", "size")}).reset_index())
        by_step["found %"] *= 100.0
        page.charts.append(Chart(key="steps", title="Script steps: % of conversations where the step was found",
                                 kind="bar", data=by_step, x="step", y="found %", rows=steps, drill="step", unit="%"))
    else:
        page.notes.append("Adherence by step needs the qa_steps table (cxlens score --scorecard ...).")
    if "auto_fail" in scored.columns:
        _auto_fail_chart(page, scored)
    worst = scored.sort_values("script_adherence", kind="stable").head(50).reset_index(drop=True)
    behind = data.messages if data.messages is not None else pd.DataFrame(columns=["ticket_id"])
    behind = behind.loc[behind["ticket_id"].isin(worst["ticket_id"]).to_numpy(dtype=bool, na_value=False)]
    page.charts.append(Chart(key="lowest_conversations", title="Lowest-scoring conversations", kind="table",
                             data=worst, x="ticket_id", y="script_adherence", rows=behind, drill="ticket_id",
                             note="Pick a conversation to read it with the evidence for each step marked."))
    page.notes += missing_notes(page.metrics)
    return page


def _auto_fail_chart(page: Page, scored: pd.DataFrame) -> None:
    failed = scored.loc[scored["auto_fail"].astype("boolean").fillna(False).to_numpy(dtype=bool)]
    if not len(failed):
        page.notes.append("Auto-fails: none in the selection.")
        return
    if "auto_fail_reasons" in failed.columns:
        reason = failed["auto_fail_reasons"].astype(object).fillna("").str.split(";")
        rows = failed.assign(reason=reason.to_numpy()).explode("reason")
        rows["reason"] = rows["reason"].replace("", "unspecified")
    else:
        rows = failed.assign(reason="auto-fail")
    counts = rows["reason"].value_counts()
    data = pd.DataFrame({"reason": list(counts.index), "conversations": counts.to_numpy()})
    page.charts.append(Chart(key="auto_fails", title="Auto-fails by reason (conversations)", kind="bar", data=data,
                             x="reason", y="conversations", rows=rows.reset_index(drop=True), drill="reason",
                             unit="count"))


def conversation_with_evidence(data: ScoredArchive, ticket_id: str) -> pd.DataFrame:
    """One conversation's messages in order, with the script steps each message met and their evidence.

    Columns: ``position``, ``author_role``, ``sent_at``, ``text``, ``steps`` (step ids, ``;``-joined),
    ``evidence`` (a list of the matched text spans) and ``found_by`` (per step, ``;``-joined: the step,
    what found it -- rule, semantic match, dialogue act -- and its score, when ``qa_steps`` carries
    ``evidence_fired`` / ``evidence_score``, as ``cxlens score`` writes them). Evidence is placed on the
    message that contains it, else on the step's ``first_position``; when ``qa_steps`` carries no
    evidence text, the whole message that met the step is the evidence.
    """
    messages = data.messages
    if messages is None or "ticket_id" not in messages.columns:
        return pd.DataFrame(columns=["position", "author_role", "sent_at", "text", "steps", "evidence", "found_by"])
    convo = messages.loc[(messages["ticket_id"] == ticket_id).to_numpy(dtype=bool, na_value=False)]
    if "sent_at" in convo.columns:
        convo = convo.sort_values("sent_at", kind="stable")
    keep = [c for c in ("message_id", "author_role", "sent_at", "text") if c in convo.columns]
    out = convo[keep].reset_index(drop=True)
    out.insert(0, "position", np.arange(len(out)))
    texts = out["text"].astype(object).fillna("").astype(str).tolist() if "text" in out else [""] * len(out)
    steps = [[] for _ in range(len(out))]
    spans = [[] for _ in range(len(out))]
    how = [[] for _ in range(len(out))]
    qa = data.qa_steps
    if qa is not None and "step" in qa.columns:
        found = qa.loc[(qa["ticket_id"] == ticket_id).to_numpy(dtype=bool, na_value=False)]
        if "found" in found.columns:
            found = found.loc[found["found"].astype("boolean").fillna(False).to_numpy(dtype=bool)]
        for row in found.itertuples(index=False):
            evidence = str(getattr(row, "evidence", "") or "")
            evidence = "" if evidence == "nan" else evidence
            where = next((i for i, t in enumerate(texts) if evidence and evidence in t), None)
            if where is None:
                position = getattr(row, "first_position", -1)
                position = -1 if position is None or pd.isna(position) else int(position)  # 0 is a position
                where = position if 0 <= position < len(out) else None
            if where is not None:
                steps[where].append(str(row.step))
                spans[where].append(evidence or texts[where])
                how[where].append(_found_by(row))
    out["steps"] = [";".join(s) for s in steps]
    out["evidence"] = spans
    detailed = qa is not None and bool({"evidence_fired", "evidence_score"} & set(qa.columns))
    out["found_by"] = [";".join(hows) if detailed else "" for hows in how]
    return out


def _found_by(row: Any) -> str:
    """``"greet: rule, 1.00"`` from a qa_steps row with ``evidence_fired`` / ``evidence_score`` (else the step)."""
    fired = str(getattr(row, "evidence_fired", "") or "")
    score = getattr(row, "evidence_score", None)
    fired = "" if fired == "nan" else fired
    has_score = score is not None and not pd.isna(score)
    if not fired and not has_score:
        return str(row.step)  # still named: the label replaces the plain step list when any step has details
    parts = [p for p in (fired, f"{float(score):.2f}" if has_score else "") if p]
    return f"{row.step}: {', '.join(parts)}"


def highlight_evidence(text: str, evidence: list[str]) -> str:
    """``text`` as HTML-escaped markup with every evidence span wrapped in ``<mark>`` (URL schemes dropped)."""
    text = _SCHEME.sub("", str(text or ""))
    marks = sorted({e for e in evidence if e and e in text}, key=len, reverse=True)
    if not marks:
        return html.escape(text)
    pattern = re.compile("|".join(re.escape(m) for m in marks))
    out, last = [], 0
    for match in pattern.finditer(text):
        out.append(html.escape(text[last:match.start()]))
        out.append(f"<mark>{html.escape(match.group(0))}</mark>")
        last = match.end()
    out.append(html.escape(text[last:]))
    return "".join(out)
