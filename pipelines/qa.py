"""The script-QA job: validated tickets and messages + a scorecard in; QA tables and a report out.

Plain functions named for what they return. The ``cxlens qa`` command and the batch scorer call
these; nothing here parses arguments or prints. The scorecard is loaded and the detector built
(prototypes encoded, rules compiled) before any data is read, so a broken scorecard fails fast.

Outputs of :func:`write_qa_outputs` (in ``out_dir``): ``qa_messages.csv``, ``qa_evidence.csv``,
``qa_steps.csv``, ``qa_conversations.csv``, ``qa_agents.csv`` (and ``qa_teams.csv``),
``tickets_scored.csv`` (tickets + ``script_adherence``, ``auto_fail``) and ``qa_report.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cxlens.dataset import Dataset
from cxlens.errors import DataError
from cxlens.nlp.qa import Scorecard, load_scorecard
from cxlens.nlp.qa import StepDetector
from cxlens.nlp.qa import QAResult, agent_summary, score_script_qa

__all__ = ["QARun", "qa_detector", "qa_report_markdown", "qa_run", "reference_model", "scored_tickets",
           "write_qa_outputs"]


@dataclass
class QARun:
    """Everything one QA run produced."""

    scorecard: Scorecard
    result: QAResult
    tickets: pd.DataFrame
    agents: pd.DataFrame | None = None
    teams: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)


#: The encoder script QA uses unless told otherwise: the distilled student. Measured against the teacher
#: (docs/benchmarks.md, issue 5): step-detection macro-F1 0.858 / 0.903 against 0.851 / 0.902 (AmazonHelp /
#: SpotifyCares, 10 splits), reply-vs-reference top-1 94.8 % against 94.1 %, about three times the speed.
QA_ENCODER = "minilm-l2"


def qa_detector(scorecard: str | Path | Scorecard, *, encoder: object | str | None = QA_ENCODER,
                granularity: str = "sentence", threshold: float | None = None) -> StepDetector:
    """A fitted detector for the scorecard (a path, a shipped name, or a :class:`Scorecard`).

    ``encoder``: a registered name (default :data:`QA_ENCODER`), an encoder object, or ``None`` (rules only).
    """
    card = scorecard if isinstance(scorecard, Scorecard) else load_scorecard(scorecard)
    return StepDetector(scorecard=card, encoder=encoder, granularity=granularity, threshold=threshold).fit()


def reference_model(path: str | Path, *, encoder: object | str = QA_ENCODER, intent_col: str = "intent",
                    text_col: str = "response", max_per_intent: int = 20):
    """Intent prototypes from a reference-reply file (Bitext's CSV by default columns)."""
    from cxlens.nlp.qa import ReferenceReplies, load_reference_replies

    refs = load_reference_replies(path, intent_col=intent_col, text_col=text_col)
    return ReferenceReplies(encoder=encoder, max_per_intent=max_per_intent).fit(refs["intent"], refs["response"])


def scored_tickets(tickets: pd.DataFrame, result: QAResult) -> pd.DataFrame:
    """The tickets with ``script_adherence`` (0-100, float) and ``auto_fail`` (boolean) added."""
    conv = result.conversations.set_index("ticket_id")
    out = tickets.drop(columns=[c for c in tickets.columns if str(c).startswith("_")])
    out["script_adherence"] = out["ticket_id"].map(conv["script_adherence"]).astype("float64")
    out["auto_fail"] = out["ticket_id"].map(conv["auto_fail"].astype(object)).astype("boolean")
    if "reference_similarity" in conv:
        out["reference_similarity"] = out["ticket_id"].map(conv["reference_similarity"]).astype("float64")
    return out


def qa_run(detector: StepDetector, dataset: Dataset, *, references=None) -> QARun:
    """Score every conversation of the dataset's messages against the detector's scorecard."""
    messages, tickets = dataset.messages, dataset.tickets
    if messages is None or messages.empty:
        raise DataError("Script QA needs a messages table with agent messages: give {messages}.",
                        params=("messages",))
    if tickets is None:
        first = messages.groupby("ticket_id", sort=False)["sent_at"].min()
        tickets = pd.DataFrame({"ticket_id": first.index, "created_at": first.to_numpy()})
    notes = []
    card = detector.scorecard
    if card.per_type and "request_type" not in tickets:
        notes.append("The scorecard has per-request-type scripts but the tickets have no request_type column: "
                     "only scripts without applies_to were used.")
    result = score_script_qa(detector, messages, tickets)
    if references is not None:
        sims = references.score_conversations(messages, tickets)
        result.conversations["reference_similarity"] = result.conversations["ticket_id"].map(sims).astype("float64")
    agents = agent_summary(result, by="agent_id") if "agent_id" in result.conversations else None
    teams = agent_summary(result, by="team") if "team" in result.conversations and \
        result.conversations["team"].notna().any() else None
    unscored = int(result.conversations["script"].isna().sum())
    if unscored:
        notes.append(f"{unscored} conversation(s) matched no script (their request_type is not in any applies_to).")
    return QARun(scorecard=card, result=result, tickets=scored_tickets(tickets, result), agents=agents,
                 teams=teams, notes=notes)


def _pct(x: float) -> str:
    return "-" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{x:.1f}"


def qa_report_markdown(run: QARun, *, summary: list[dict] | None = None, top: int = 10) -> str:
    """A short markdown report: overall adherence, auto-fails, most-missed steps, agents."""
    conv = run.result.conversations
    scored = conv[conv["script_adherence"].notna()]
    steps = run.result.steps
    lines = [f"# Script QA report: {run.scorecard.name}", ""]
    if summary:
        lines += ["Input: " + "; ".join(f"{s['table']} read {s['read']:,}, used {s['used']:,}, "
                                         f"quarantined {s['quarantined']:,}" for s in summary), ""]
    fails = scored["auto_fail"].fillna(False).astype(bool)
    lines += [
        f"* Conversations scored: {len(scored):,} of {len(conv):,}",
        f"* Mean script adherence: {_pct(scored['script_adherence'].mean())} / 100 "
        f"(median {_pct(scored['script_adherence'].median())}, sd {_pct(scored['script_adherence'].std())})",
        f"* Auto-fail rate: {_pct(100.0 * fails.mean() if len(scored) else float('nan'))} % ({int(fails.sum())})",
    ]
    if "reference_similarity" in conv and conv["reference_similarity"].notna().any():
        lines.append(f"* Mean reply-vs-reference similarity: {conv['reference_similarity'].mean():.3f} "
                     f"({int(conv['reference_similarity'].notna().sum())} conversations with references)")
    lines.append("")
    if run.scorecard.per_type:
        per_script = scored.groupby("script")["script_adherence"].agg(["size", "mean"]).sort_values("size", ascending=False)
        lines += ["## Scripts applied", "", "| script | conversations | mean adherence |", "|---|---:|---:|"]
        lines += [f"| {s} | {int(r['size'])} | {_pct(r['mean'])} |" for s, r in per_script.head(top).iterrows()]
        lines.append("")
    if not steps.empty:
        req = steps[steps["required"]]
        rate = req.groupby("step").agg(applicable=("found", "size"), found=("found", "mean"),
                                       in_position=("in_position", "mean")).sort_values("found")
        lines += ["## Steps (required)", "", "| step | applicable | found % | in position % |", "|---|---:|---:|---:|"]
        lines += [f"| {s} | {int(r['applicable'])} | {_pct(100 * r['found'])} | {_pct(100 * r['in_position'])} |"
                  for s, r in rate.head(top).iterrows()]
        lines.append("")
    reasons = conv["auto_fail_reasons"].fillna("").str.split(";").explode()
    reasons = reasons[reasons != ""].value_counts()
    if len(reasons):
        lines += ["## Auto-fail reasons", "", "| reason | conversations |", "|---|---:|"]
        lines += [f"| {r} | {n} |" for r, n in reasons.head(top).items()]
        lines.append("")
    if run.agents is not None and len(run.agents):
        lines += ["## Agents", "", "| agent | conversations | mean adherence | sd | auto-fail % | most missed |",
                  "|---|---:|---:|---:|---:|---|"]
        for _, r in run.agents.head(top).iterrows():
            lines.append(f"| {r['agent_id']} | {int(r['conversations'])} | {_pct(r['adherence_mean'])} | "
                         f"{_pct(r['adherence_std'])} | {_pct(r['auto_fail_rate'])} | {r['most_missed']} |")
        if len(run.agents) > top:
            lines.append(f"\n({len(run.agents) - top} more in qa_agents.csv)")
        lines.append("")
    if run.notes:
        lines += ["## Notes", ""] + [f"* {n}" for n in run.notes] + [""]
    return "\n".join(lines)


def write_qa_outputs(run: QARun, out_dir: str | Path, *, summary: list[dict] | None = None) -> dict[str, Path]:
    """Write the QA tables and the markdown report; returns name -> path."""
    from cxlens.io import write_table

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = {
        "messages": write_table(run.result.messages, out / "qa_messages.csv"),
        "evidence": write_table(run.result.evidence, out / "qa_evidence.csv"),
        "steps": write_table(run.result.steps, out / "qa_steps.csv"),
        "conversations": write_table(run.result.conversations, out / "qa_conversations.csv"),
        "tickets": write_table(run.tickets, out / "tickets_scored.csv"),
    }
    if run.result.questions is not None:
        written["questions"] = write_table(run.result.questions, out / "qa_questions.csv")
    if run.agents is not None:
        written["agents"] = write_table(run.agents, out / "qa_agents.csv")
    if run.teams is not None:
        written["teams"] = write_table(run.teams, out / "qa_teams.csv")
    report = out / "qa_report.md"
    report.write_text(qa_report_markdown(run, summary=summary), encoding="utf-8")
    written["report"] = report
    return written
