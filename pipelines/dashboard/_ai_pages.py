"""The AI dashboard pages: top topics, at-risk accounts and quality (script adherence).

They read the columns ``cxlens score`` adds (docs/score-output.md). On an archive that was not
scored the columns are absent and each page returns a note saying to run ``cxlens score`` first,
not an error. :func:`conversation_with_evidence` and :func:`highlight_evidence` are the quality
drill-down: one conversation with the text that met each script step marked.
"""

from __future__ import annotations

import dataclasses
import html
import re

import numpy as np
import pandas as pd

from cxlens.pipelines.dashboard._data import (
    MONTH, Chart, DashboardSettings, FilteredArchive, Metric, Page, kpi_metric, missing_notes,
)
from cxlens.pipelines.score import ScoredArchive

__all__ = ["RUN_SCORE_FIRST", "at_risk_page", "conversation_with_evidence", "highlight_evidence", "quality_page",
           "topics_page"]

RUN_SCORE_FIRST = "run `cxlens score` first"
TOP_TOPICS = 8
BANDS = ("good", "average", "poor")
RANKED_COLUMNS = ("rank", "account_id", "plan", "mrr", "churn_probability", "at_risk", "health_score",
                  "health_band", "mrr_at_risk", "reason_1", "reason_2", "reason_3", "recent_problem_tickets")
_SCHEME = re.compile(r"\b[a-z][a-z0-9+.-]*://", re.IGNORECASE)


def _missing_note(what: str, columns: str) -> str:
    return f"{what} needs {columns}, which this archive does not have: {RUN_SCORE_FIRST} (see docs/score-output.md)."


def _share_chart(key: str, title: str, tickets: pd.DataFrame, column: str, shares: dict[str, float]) -> Chart:
    counts = tickets[column].value_counts()
    data = pd.DataFrame({column: list(shares), "share": list(shares.values())})
    data["tickets"] = [int(counts.get(v, 0)) for v in data[column]]
    rows = tickets.loc[tickets[column].notna().to_numpy()]
    return Chart(key=key, title=title, kind="bar", data=data, x=column, y="share", rows=rows, drill=column, unit="%")


# ---------------------------------------------------------------- topics
def topics_page(filtered: FilteredArchive, settings: DashboardSettings) -> Page:
    """Top topics: topic and request-type shares, trends, emerging topics, sentiment by topic."""
    page = Page(key="top_topics", title="Top topics",
                summary="What customers write about: topic and request-type shares, how they move month to "
                        "month, and how customers feel about each topic.")
    tickets, config = filtered.data.tickets, settings.config
    if tickets is None or not ({"topic", "request_type"} & set(tickets.columns)):
        page.notes.append(_missing_note("This page", "the tickets' topic and request_type columns"))
        return page
    tables = filtered.tables()
    has_topic = "topic" in tickets.columns
    page.metrics = [kpi_metric("sentiment_index", tables, config, label="Sentiment index"),
                    kpi_metric("negative_share", tables, config, label="Negative share")]
    if has_topic:
        share = kpi_metric("topic_share", tables, config)
        topics = [t for t in (share.value or {}) if t != "outlier"]
        outliers = (share.value or {}).get("outlier", 0.0)
        page.metrics = [Metric(label="Tickets with a topic", value=share.n, unit="count", n=share.n),
                        Metric(label="Topics", value=len(topics), unit="count", n=share.n),
                        Metric(label="Outliers (no topic)", value=outliers, unit="%", n=share.n)] + page.metrics
        if share.value:
            page.charts.append(_share_chart("topic_share", "Topic share (% of tickets)", tickets, "topic", share.value))
        trend = kpi_metric("topic_trend", tables, config)
        if trend.value and len(trend.value["periods"]):
            _topic_trend_charts(page, tickets, trend.value)
        if "sentiment" in tickets.columns:
            _sentiment_by_topic(page, tickets, [t for t in (share.value or {})][:TOP_TOPICS * 2])
    else:
        page.notes.append(_missing_note("Topic charts", "tickets.topic"))
    if "request_type" in tickets.columns:
        kinds = kpi_metric("request_type_share", tables, config)
        if kinds.value:
            page.charts.append(_share_chart("request_type_share", "Request types (% of tickets)", tickets,
                                            "request_type", kinds.value))
    page.notes += missing_notes(page.metrics)
    return page


def _topic_trend_charts(page: Page, tickets: pd.DataFrame, trend: dict) -> None:
    top = [t for t in trend["shares"] if t != "outlier"][:TOP_TOPICS]
    periods = trend["periods"]
    records = [{MONTH: p, "topic": t, "share": trend["shares"][t][i]} for t in top for i, p in enumerate(periods)]
    rows = tickets.loc[tickets["topic"].isin(top).to_numpy(dtype=bool, na_value=False)]
    rows = rows.assign(**{MONTH: rows["created_at"].dt.tz_convert(None).dt.to_period("M").astype(str).to_numpy()})
    page.charts.append(Chart(key="topic_trend", title=f"Top {len(top)} topics by month (% of the month's tickets)",
                             kind="line", data=pd.DataFrame(records), x=MONTH, y="share", series="topic", rows=rows,
                             drill=MONTH, unit="%"))
    change = {t: c for t, c in trend["change"].items() if c is not None and t != "outlier"}
    if not change or len(periods) < 2:
        page.notes.append("Emerging topics: need at least two months in the period.")
        return
    rising = sorted(change.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    last = periods[-1]
    data = pd.DataFrame({"topic": [t for t, _ in rising], "change (points)": [c for _, c in rising],
                         f"share {last} (%)": [trend["shares"][t][-1] for t, _ in rising]})
    data = data.loc[data["change (points)"] > 0].reset_index(drop=True)
    recent = tickets.loc[(tickets["created_at"].dt.tz_convert(None).dt.to_period("M").astype(str) == last).to_numpy()
                         & tickets["topic"].isin(data["topic"]).to_numpy(dtype=bool, na_value=False)]
    page.charts.append(Chart(key="emerging_topics", title=f"Emerging topics: share change in {last} (points)",
                             kind="bar", data=data, x="topic", y="change (points)", rows=recent, drill="topic",
                             unit="points", note=f"Topics whose share grew from the month before to {last}; "
                                                 f"the rows are their tickets of {last}."))


def _sentiment_by_topic(page: Page, tickets: pd.DataFrame, topics: list[str]) -> None:
    rows = tickets.loc[tickets["topic"].isin(topics).to_numpy(dtype=bool, na_value=False)
                       & tickets["sentiment"].notna().to_numpy()]
    if not len(rows):
        return
    counts = rows.groupby(["topic", "sentiment"], observed=True).size().rename("tickets").reset_index()
    counts["topic"] = pd.Categorical(counts["topic"], categories=topics, ordered=True)
    counts = counts.sort_values(["topic", "sentiment"]).assign(topic=lambda f: f["topic"].astype(str))
    page.charts.append(Chart(key="sentiment_by_topic", title="Sentiment by topic (tickets)", kind="bar",
                             data=counts.reset_index(drop=True), x="topic", y="tickets", series="sentiment",
                             rows=rows, drill="topic", unit="count"))


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
        page.notes.append(_missing_note("This page", "the accounts' churn_probability and health_score"))
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
        page.notes.append(_missing_note("This page", "script_adherence (cxlens score --scorecard ...)"))
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

    Columns: ``position``, ``author_role``, ``sent_at``, ``text``, ``steps`` (step ids, ``;``-joined)
    and ``evidence`` (a list of the matched text spans). Evidence is placed on the message that
    contains it, else on the step's ``first_position``; when ``qa_steps`` carries no evidence
    text, the whole message that met the step is the evidence.
    """
    messages = data.messages
    if messages is None or "ticket_id" not in messages.columns:
        return pd.DataFrame(columns=["position", "author_role", "sent_at", "text", "steps", "evidence"])
    convo = messages.loc[(messages["ticket_id"] == ticket_id).to_numpy(dtype=bool, na_value=False)]
    if "sent_at" in convo.columns:
        convo = convo.sort_values("sent_at", kind="stable")
    keep = [c for c in ("message_id", "author_role", "sent_at", "text") if c in convo.columns]
    out = convo[keep].reset_index(drop=True)
    out.insert(0, "position", np.arange(len(out)))
    texts = out["text"].astype(object).fillna("").astype(str).tolist() if "text" in out else [""] * len(out)
    steps = [[] for _ in range(len(out))]
    spans = [[] for _ in range(len(out))]
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
                position = int(getattr(row, "first_position", -1) or -1)
                where = position if 0 <= position < len(out) else None
            if where is not None:
                steps[where].append(str(row.step))
                spans[where].append(evidence or texts[where])
    out["steps"] = [";".join(s) for s in steps]
    out["evidence"] = spans
    return out


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
