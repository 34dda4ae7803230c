"""TEST FIXTURE ONLY: a fake ``cxlens score`` output folder built from examples/archive.

The AI columns here are NOT model output. They are derived from the archive's truth columns
(``true_request_type``, ``true_sentiment``) plus seeded random numbers, so that the dashboard,
report and browser tests have a complete score folder in the documented layout
(docs/score-output.md) without running any model. Nothing outside tests/ may use it.

Used by tests/pipelines/test_dashboard_*.py and test_report_html.py; pytest runs with
``--import-mode=importlib``, so each of them loads this helper by file path in its ``score_dir``
fixture, which writes the folder once per session under pytest's base temp folder.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[2]
ARCHIVE = REPO / "examples" / "archive"
STEPS = ("greet", "identify_issue", "empathise", "verify_identity", "resolve", "offer_further_help",
         "close_politely")
AUTO_FAIL_STEPS = ("verify_identity",)


def _topic_label(request_type: str) -> str:
    return request_type.replace("_", " ") + " questions"


#: top-level topics of the fixture's two-level hierarchy (a request type not listed is its own parent)
PARENTS = {"Orders & delivery": ("shipping_delivery", "order_status", "return", "product_availability"),
           "Billing & money": ("refund", "billing_payment", "sales_pricing", "cancellation"),
           "Product & account": ("technical_issue", "how_to", "account")}
#: a subtopic that spikes in the last two months (so the emerging-topic alert has something to find)
SPIKE = {"topic_id": 90, "topic": "app crashes after update", "parent": "Product & account",
         "months": {"2025-11": 35, "2025-12": 30},
         "texts": ("The app crashes every time I open it since the last update.",
                   "After updating the app it closes straight away on my phone.",
                   "Since yesterday's update the app keeps crashing at checkout.")}


def _topic_levels(t: pd.DataFrame, labels: list[str], rng: np.random.Generator) -> None:
    """Add ``topic_parent_id`` / ``topic_parent`` (as ``cxlens score`` will) and the spiking subtopic."""
    months = t["created_at"].dt.tz_convert(None).dt.to_period("M").astype(str)
    customer_text = t["customer_text"].astype(object).to_numpy().copy()
    topic_id, topic = t["topic_id"].to_numpy().copy(), t["topic"].astype(object).to_numpy().copy()
    for month, n in SPIKE["months"].items():
        pool = np.flatnonzero((months == month).to_numpy() & (topic_id >= 0))
        picked = rng.choice(pool, size=n, replace=False)
        topic_id[picked] = SPIKE["topic_id"]
        topic[picked] = SPIKE["topic"]
        customer_text[picked] = [SPIKE["texts"][i % len(SPIKE["texts"])] for i in range(n)]
    t["topic_id"], t["topic"] = topic_id, pd.array(topic, dtype="str")
    t["customer_text"] = pd.array(customer_text, dtype="str")
    parent_of = {_topic_label(rt): name for name, kinds in PARENTS.items() for rt in kinds}
    parent_of[SPIKE["topic"]] = SPIKE["parent"]
    names = sorted(PARENTS) + sorted(_topic_label(label) for label in labels if _topic_label(label) not in parent_of)
    parent = [None if i < 0 else parent_of.get(name, name) for i, name in zip(topic_id, topic)]
    t["topic_parent"] = pd.array(np.where(topic_id < 0, "outlier", np.array(parent, dtype=object)), dtype="str")
    t["topic_parent_id"] = [-1 if i < 0 else 100 + names.index(p) for i, p in zip(topic_id, parent)]


def _scored_tickets(tickets: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    t = tickets.copy()
    n = len(t)
    truth = t["true_request_type"].astype(object).fillna("other")
    noisy = rng.random(n) < 0.1
    t["customer_text"] = t["text"].fillna(t["subject"])
    t["request_type"] = pd.array(np.where(noisy, "other", truth), dtype="str")
    t["request_type_confidence"] = np.round(np.where(noisy, rng.uniform(0.2, 0.5, n), rng.uniform(0.5, 1.0, n)), 4)
    labels = sorted(set(truth))
    topic_id = truth.map({label: i for i, label in enumerate(labels)}).to_numpy(dtype=np.int64)
    outlier = rng.random(n) < 0.05
    topic_id = np.where(outlier, -1, topic_id)
    t["topic_id"] = topic_id
    t["topic"] = pd.array([("outlier" if i < 0 else _topic_label(labels[i])) for i in topic_id], dtype="str")
    t["topic_confidence"] = np.round(rng.uniform(0.3, 1.0, n), 4)
    _topic_levels(t, labels, np.random.default_rng(11))
    t["sentiment"] = t["true_sentiment"]
    score = t["sentiment"].map({"negative": -0.6, "neutral": 0.0, "positive": 0.6}).astype("float64")
    t["sentiment_score"] = np.clip(score.to_numpy() + rng.normal(0, 0.15, n), -1, 1).round(4)
    return t


def _scored_messages(messages: pd.DataFrame, tickets: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    m = messages.copy()
    customer = (m["author_role"] == "customer").to_numpy(dtype=bool, na_value=False)
    sentiment = m["ticket_id"].map(tickets.set_index("ticket_id")["true_sentiment"].astype(object))
    m["sentiment"] = pd.array(np.where(customer, sentiment.astype(object), None), dtype="str")
    base = m["sentiment"].map({"negative": -0.6, "neutral": 0.0, "positive": 0.6}).astype("float64")
    m["sentiment_score"] = np.where(customer, base.to_numpy() + rng.normal(0, 0.1, len(m)), np.nan).round(4)
    m["sentiment_confidence"] = np.where(customer, rng.uniform(0.5, 1.0, len(m)), np.nan).round(4)
    m["language"] = pd.array(np.where(customer, "en", None), dtype="str")
    m["sentiment_flag"] = pd.array(np.where(customer, "", None), dtype="str")
    return m


def _qa_tables(tickets: pd.DataFrame, messages: pd.DataFrame,
               rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seeded random step results for every ticket with agent messages; evidence is real agent text."""
    agent = messages.loc[(messages["author_role"] == "agent").to_numpy(dtype=bool, na_value=False)].copy()
    agent["_pos"] = messages.groupby("ticket_id").cumcount().loc[agent.index]
    info = tickets.set_index("ticket_id")
    conv_rows, step_rows = [], []
    for tid, msgs in agent.groupby("ticket_id", sort=True):
        skill = rng.uniform(0.55, 0.98)
        earned = possible = 0.0
        missing, reasons = [], []
        for step in STEPS:
            found = bool(rng.random() < skill)
            in_position = found and bool(rng.random() < 0.9)
            credit = 1.0 if in_position else (0.5 if found else 0.0)
            row = msgs.iloc[int(rng.integers(len(msgs)))]
            text = str(row["text"]) if isinstance(row["text"], str) else ""
            evidence = text[:40] if found else ""
            earned += credit
            possible += 1.0
            if not found:
                missing.append(step)
                if step in AUTO_FAIL_STEPS:
                    reasons.append(f"missing {step}")
            step_rows.append({"ticket_id": tid, "script": "general_support", "step": step, "required": True,
                              "weight": 1.0, "found": found, "in_position": in_position, "credit": credit,
                              "first_position": int(row["_pos"]) if found else -1,
                              "message_id": row["message_id"] if found else None,
                              "evidence": evidence, "score": round(float(rng.uniform(0.5, 1.0)), 4) if found else 0.0})
        conv_rows.append({"ticket_id": tid, "script": "general_support", "script_adherence": 100.0 * earned / possible,
                          "auto_fail": bool(reasons), "auto_fail_reasons": ";".join(reasons),
                          "missing_steps": ";".join(missing), "agent_id": info.at[tid, "agent_id"],
                          "team": info.at[tid, "team"], "n_agent_messages": len(msgs)})
    conversations = pd.DataFrame(conv_rows)
    conversations["auto_fail"] = conversations["auto_fail"].astype("boolean")
    for col in ("ticket_id", "script", "auto_fail_reasons", "missing_steps", "agent_id", "team"):
        conversations[col] = conversations[col].astype("str")
    steps = pd.DataFrame(step_rows)
    for col in ("ticket_id", "script", "step", "message_id", "evidence"):
        steps[col] = steps[col].astype("str")
    return conversations, steps


def _scored_accounts(accounts: pd.DataFrame, tickets: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    a = accounts.copy()
    current = a["churned_at"].isna().to_numpy()
    n = len(a)
    probability = np.where(current, rng.beta(2, 5, n).round(4), np.nan)
    health = np.where(current, np.clip(100 * (1 - probability) + rng.normal(0, 8, n), 0, 100).round(1), np.nan)
    band = np.where(health >= 70, "good", np.where(health < 40, "poor", "average"))
    a["churn_probability"] = probability
    a["health_score"] = health
    a["health_band"] = pd.array(np.where(current, band, None), dtype="str")
    a["health_reasons"] = pd.array(np.where(current, "usage; tickets", None), dtype="str")
    a["mrr_at_risk"] = (probability * a["mrr"].to_numpy()).round(2)
    reasons = ("fewer logins in the last 30 days", "several unresolved tickets", "low CSAT on recent tickets",
               "downgraded plan", "negative sentiment in tickets")
    for k in range(3):
        picks = rng.choice(len(reasons), n)
        a[f"reason_{k + 1}"] = pd.array(np.where(current, [reasons[(p + k) % len(reasons)] for p in picks], None),
                                        dtype="str")
    negative = tickets.loc[(tickets["sentiment"] == "negative").to_numpy(dtype=bool, na_value=False)
                           & tickets["account_id"].notna().to_numpy()]
    per_account = negative.groupby("account_id")["ticket_id"].apply(lambda s: " ".join(list(s)[:5]))
    a["recent_problem_tickets"] = pd.array(np.where(current, a["account_id"].map(per_account).fillna(""), None),
                                           dtype="str")
    order = pd.Series(probability).rank(ascending=False, method="first")
    a["rank"] = pd.array(np.where(current, order, np.nan)).astype("Int64")
    return a


def write_fixture_score_dir(out: str | Path, *, seed: int = 7) -> Path:
    """TEST FIXTURE: write a fake score folder (docs/score-output.md layout) derived from examples/archive.

    Idempotent: a folder that already has a complete manifest is reused.
    """
    from cxlens.metrics import compute_kpis, make_tables
    from cxlens.pipelines.score import read_scored

    out = Path(out)
    if (out / "manifest.json").is_file():
        return out
    rng = np.random.default_rng(seed)
    raw = read_scored(ARCHIVE)
    drop = ["_row"]
    tickets = _scored_tickets(raw.tickets.drop(columns=drop, errors="ignore"), rng)
    messages = _scored_messages(raw.messages.drop(columns=drop, errors="ignore"), tickets, rng)
    conversations, steps = _qa_tables(tickets, raw.messages, rng)
    qa = conversations.set_index("ticket_id")
    tickets["script_adherence"] = tickets["ticket_id"].map(qa["script_adherence"]).astype("float64")
    tickets["auto_fail"] = tickets["ticket_id"].map(qa["auto_fail"].astype(object)).astype("boolean")
    accounts = _scored_accounts(raw.accounts.drop(columns=drop, errors="ignore"), tickets, rng)
    mentions = raw.mentions.drop(columns=drop, errors="ignore").copy()
    mentions["sentiment"] = mentions["true_sentiment"]
    mentions["is_question"] = (mentions["true_is_question"] == "true").astype("boolean")
    mentions["is_complaint"] = (mentions["true_is_complaint"] == "true").astype("boolean")
    surveys = raw.surveys.drop(columns=drop, errors="ignore")
    for name, frame in (("tickets", tickets), ("messages", messages), ("qa_conversations", conversations),
                        ("qa_steps", steps)):
        (out / name).mkdir(parents=True, exist_ok=True)
        frame.to_parquet(out / name / "part-00000.parquet", index=False)
    for name, frame in (("accounts", accounts), ("mentions", mentions), ("surveys", surveys)):
        frame.to_parquet(out / f"{name}.parquet", index=False)
    report = compute_kpis(make_tables(tickets=tickets, messages=messages, accounts=accounts, surveys=surveys,
                                      mentions=mentions))
    (out / "kpis.json").write_text(json.dumps(report.to_dict(), default=str), encoding="utf-8")
    counts = {name: {"read": len(frame), "used": len(frame), "quarantined": 0}
              for name, frame in (("tickets", tickets), ("messages", messages), ("accounts", accounts),
                                  ("surveys", surveys), ("mentions", mentions))}
    manifest = {"status": "complete", "fixture": "TEST FIXTURE: AI columns derived from truth columns",
                "counts": counts, "inputs": {"archive": str(ARCHIVE)}}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return out


#: the settings the report fixture is written with (a cost, so the cost charts are drawn)
REPORT_MONTHLY_COST = 40000.0
REPORT_COST_TARGET = 200.0


def write_fixture_report(score_dir: str | Path, out: str | Path) -> Path:
    """TEST FIXTURE: ``cxlens report`` of the fixture score folder (written once, then reused)."""
    from cxlens.pipelines.dashboard import DashboardSettings
    from cxlens.pipelines.dashboard import write_report

    out = Path(out)
    if out.is_file():
        return out
    settings = DashboardSettings(monthly_cost=REPORT_MONTHLY_COST, cost_per_ticket_target=REPORT_COST_TARGET)
    return write_report(score_dir, out, settings=settings)
