"""Conversation scoring: adherence to the applied script, from the detections of each message.

:func:`score_script_qa` takes validated ``messages`` (and ``tickets``, for the request type and
any ``when`` columns), picks the script of each conversation, runs the
:class:`~cxlens.nlp.qa._detect.StepDetector` once over every agent (and system) message, and
returns a :class:`QAResult` of four tables:

* ``evidence``: one row per (message, step or forbidden item) found, with score and evidence span;
* ``messages``: one row per scored message: steps and forbidden items found;
* ``steps``: one row per (conversation, applicable step): found, in position, credit;
* ``conversations``: one row per conversation: ``script_adherence`` (0-100), ``auto_fail`` and why,
  missing required steps, steps out of order, forbidden items used, the script applied.

Scoring. Each applicable step earns ``weight x credit``: 1 when found in its position, the
scorecard's ``order_credit`` (default 0.5) when found out of position, 0 when missing. Optional
steps count only when found. Each forbidden item earns its weight when it is *not* used.
``script_adherence = 100 x earned / possible``. ``auto_fail`` is true when an ``auto_fail`` step is
missing or out of position, or an ``auto_fail`` forbidden item is used; the score is kept as is.

Positions: ``opening`` = among the first ``opening_window`` messages of the step's speaker in the
conversation, ``closing`` = among the last ``closing_window``; ``after:x`` = the step occurs at or
after the first occurrence of ``x`` (checked only when both are found).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cxlens.errors import DataError
from cxlens.nlp.qa._scorecard import Scorecard, Script, Step
from cxlens.nlp.qa._detect import StepDetector
from cxlens.nlp.qa._units import sentence_at

__all__ = ["QAResult", "SPEAKER_OF_ROLE", "agent_summary", "answer_questions", "score_script_qa"]

#: Which message author roles are checked, and as which scorecard ``speaker``.
SPEAKER_OF_ROLE = {"agent": "agent", "system": "system"}


@dataclass
class QAResult:
    """The tables of one QA run (see the module docstring)."""

    evidence: pd.DataFrame
    messages: pd.DataFrame
    steps: pd.DataFrame
    conversations: pd.DataFrame
    questions: pd.DataFrame | None = None   # yes/no questions: one row per (conversation, question)


def _ticket_info(tickets: pd.DataFrame | None, ticket_ids: pd.Index) -> pd.DataFrame:
    if tickets is None:
        return pd.DataFrame(index=pd.Index(ticket_ids, name="ticket_id"))
    info = tickets.drop_duplicates("ticket_id").set_index("ticket_id")
    return info.reindex(info.index.union(pd.Index(ticket_ids)))


def _records(info: pd.DataFrame) -> dict[str, dict]:
    clean = info.astype(object).where(info.notna(), None)
    return {str(k): v for k, v in clean.to_dict(orient="index").items()}


def _ordered(messages: pd.DataFrame) -> pd.DataFrame:
    for col in ("ticket_id", "sent_at", "author_role"):
        if col not in messages:
            raise DataError(f"messages need the column {col!r} for script QA.")
    msgs = messages.reset_index(drop=True).copy()
    msgs["_order"] = np.arange(len(msgs))
    msgs = msgs.sort_values(["ticket_id", "sent_at", "_order"], kind="mergesort").reset_index(drop=True)
    if "message_id" not in msgs:
        msgs["message_id"] = None
    pos = msgs.groupby("ticket_id", sort=False).cumcount()
    missing = msgs["message_id"].isna()
    msgs.loc[missing, "message_id"] = msgs.loc[missing, "ticket_id"].astype(str) + "#" + (pos[missing] + 1).astype(str)
    msgs["_pos"] = pos.to_numpy()
    msgs["_speaker"] = msgs["author_role"].map(SPEAKER_OF_ROLE)
    return msgs


def score_script_qa(detector: StepDetector, messages: pd.DataFrame, tickets: pd.DataFrame | None = None) -> QAResult:
    """Detect and score every conversation of ``messages`` (see the module docstring)."""
    detector._check()
    card: Scorecard = detector.scorecard
    msgs = _ordered(messages)
    info = _ticket_info(tickets, pd.Index(msgs["ticket_id"].unique()))
    records = _records(info)
    scripts = {tid: card.script_for(rec.get("request_type")) for tid, rec in records.items()}
    columns = detector.columns_
    col_index = {(c.script, c.item): i for i, c in enumerate(columns)}

    scored = msgs[msgs["_speaker"].notna()].copy()
    scored["_spk_ord"] = scored.groupby(["ticket_id", "_speaker"], sort=False).cumcount()
    scored["_spk_n"] = scored.groupby(["ticket_id", "_speaker"], sort=False)["_pos"].transform("size")
    allowed = np.zeros((len(scored), len(columns)), dtype=bool)
    mask_of: dict[tuple, np.ndarray] = {}
    tids = scored["ticket_id"].astype(str).to_numpy()
    for row, tid in enumerate(tids):
        script = scripts.get(tid)
        if script is None:
            continue
        key = (script.id, tid)
        if key not in mask_of:
            rec = records.get(tid, {})
            m = np.zeros(len(columns), dtype=bool)
            for step in script.steps:
                if step.applies(rec):
                    m[col_index[(script.id, step.id)]] = True
            for item in script.forbidden:
                m[col_index[(script.id, item.id)]] = True
            mask_of[key] = m
        allowed[row] = mask_of[key]
    texts = scored["text"].fillna("").astype(str).tolist() if "text" in scored else [""] * len(scored)
    det = detector.detect(texts, speakers=scored["_speaker"].tolist(), allowed=allowed)
    found = det.found

    rows_i, cols_i = np.nonzero(found)
    evidence = pd.DataFrame({
        "ticket_id": scored["ticket_id"].to_numpy()[rows_i],
        "message_id": scored["message_id"].to_numpy()[rows_i],
        "position": scored["_pos"].to_numpy()[rows_i],
        "author_role": scored["author_role"].to_numpy()[rows_i],
        "script": [columns[c].script for c in cols_i],
        "item": [columns[c].item for c in cols_i],
        "kind": [columns[c].kind for c in cols_i],
        "score": np.round(det.score[rows_i, cols_i], 4),
        "similarity": np.round(det.similarity[rows_i, cols_i], 4),
        "rule": det.rule[rows_i, cols_i],
    })
    spans = [det.evidence(i, c) for i, c in zip(rows_i, cols_i)]
    evidence["start"] = [s for s, _ in spans]
    evidence["end"] = [e for _, e in spans]
    evidence["evidence"] = [texts[i][s:e] if s >= 0 else "" for i, (s, e) in zip(rows_i, spans)]
    evidence["fired"] = [det.fired(i, c) for i, c in zip(rows_i, cols_i)]
    evidence["sentence"] = [sentence_at(texts[i], s, e) for i, (s, e) in zip(rows_i, spans)]

    per_msg = evidence.groupby("message_id", sort=False).agg(
        steps_found=("item", lambda s: ";".join(s[evidence.loc[s.index, "kind"] == "step"])),
        forbidden_found=("item", lambda s: ";".join(s[evidence.loc[s.index, "kind"] == "forbidden"])),
        max_score=("score", "max"))
    keep = [c for c in ("ticket_id", "message_id", "sent_at", "author_role", "author_id") if c in scored]
    message_table = scored[keep].copy()
    message_table["script"] = [getattr(scripts.get(t), "id", None) for t in tids]
    message_table = message_table.join(per_msg, on="message_id")
    for col in ("steps_found", "forbidden_found"):
        message_table[col] = message_table[col].astype(object).where(message_table[col].notna(), "")
    message_table["max_score"] = message_table["max_score"].fillna(0.0)

    hits: dict[str, dict[str, list[tuple[int, int, int]]]] = {}
    spk_ord = scored["_spk_ord"].to_numpy()
    spk_n = scored["_spk_n"].to_numpy()
    pos = scored["_pos"].to_numpy()
    for i, c in zip(rows_i, cols_i):
        hits.setdefault(tids[i], {}).setdefault(columns[c].item, []).append((int(pos[i]), int(spk_ord[i]), int(spk_n[i])))

    counts = msgs.groupby("ticket_id", sort=False).agg(
        n_messages=("_pos", "size"), n_agent_messages=("_speaker", lambda s: int((s == "agent").sum())))
    conv_rows, step_rows = [], []
    for tid, rec in records.items():
        script = scripts.get(tid)
        conv, steps = _score_one(tid, script, card, rec, hits.get(tid, {}))
        if tid in counts.index:
            conv["n_messages"] = int(counts.at[tid, "n_messages"])
            conv["n_agent_messages"] = int(counts.at[tid, "n_agent_messages"])
        else:
            conv["n_messages"] = conv["n_agent_messages"] = 0
        if conv["n_agent_messages"] == 0 and conv["script"] is not None:
            conv["script_adherence"] = np.nan  # nothing to judge
            conv["auto_fail"] = False
            conv["auto_fail_reasons"] = ""
        conv_rows.append(conv)
        step_rows.extend(steps)
    conversations = pd.DataFrame(conv_rows)
    for col in ("agent_id", "team", "request_type"):
        if col in info:
            conversations[col] = conversations["ticket_id"].map(info[col].astype(object).to_dict())
    if "agent_id" not in conversations and "author_id" in msgs:
        agent_msgs = msgs[msgs["author_role"] == "agent"].dropna(subset=["author_id"])
        main = agent_msgs.groupby("ticket_id")["author_id"].agg(lambda s: s.mode().iat[0])
        conversations["agent_id"] = conversations["ticket_id"].map(main)
    conversations["auto_fail"] = conversations["auto_fail"].astype("boolean")
    conversations["script_adherence"] = conversations["script_adherence"].astype("float64")
    steps_table = pd.DataFrame(step_rows, columns=["ticket_id", "script", "step", "required", "weight", "found",
                                                   "in_position", "credit", "first_position"])
    questions = answer_questions(detector, msgs, list(records)) if card.questions else None
    return QAResult(evidence=evidence, messages=message_table.reset_index(drop=True), steps=steps_table,
                    conversations=conversations, questions=questions)


def answer_questions(detector: StepDetector, messages: pd.DataFrame, ticket_ids: list[str] | None = None) -> pd.DataFrame:
    """One row per (conversation, yes/no question of the scorecard): ``answer`` (yes/no) and, for a yes, the
    message, sentence, score and what fired (rule / semantic) of the best-matching message of the question's
    speaker."""
    detector._check()
    msgs = messages if "_pos" in messages else _ordered(messages)
    qcols = [c for c, col in enumerate(detector.columns_) if col.kind == "question"]
    roles = msgs["author_role"].astype(str).str.lower().to_numpy()
    keep = np.isin(roles, ("agent", "customer"))
    sub = msgs[keep]
    texts = sub["text"].fillna("").astype(str).tolist() if "text" in sub else [""] * len(sub)
    allowed = np.zeros((len(sub), len(detector.columns_)), dtype=bool)
    allowed[:, qcols] = True
    det = detector.detect(texts, speakers=roles[keep].tolist(), allowed=allowed)
    tids = sub["ticket_id"].astype(str).to_numpy()
    ids = ticket_ids if ticket_ids is not None else list(dict.fromkeys(msgs["ticket_id"].astype(str)))
    rows = []
    for c in qcols:
        question = detector.items_[c]
        score = det.score[:, c]
        frame = pd.DataFrame({"tid": tids, "score": score, "row": np.arange(len(sub))})
        best = frame[score >= 0.5].sort_values("score", ascending=False, kind="mergesort").drop_duplicates("tid")
        best = best.set_index("tid")["row"]
        for tid in ids:
            row = {"ticket_id": tid, "question_id": question.id, "question": question.question, "answer": "no",
                   "message_id": None, "author_role": None, "score": None, "fired": "", "evidence": ""}
            if tid in best.index:
                i = int(best[tid])
                s, e = det.evidence(i, c)
                row.update(answer="yes", message_id=sub["message_id"].iat[i], author_role=roles[keep][i],
                           score=round(float(score[i]), 4), fired=det.fired(i, c),
                           evidence=sentence_at(texts[i], s, e) if det.fired(i, c) == "rule" else texts[i][s:e])
            rows.append(row)
    return pd.DataFrame(rows, columns=["ticket_id", "question_id", "question", "answer", "message_id", "author_role",
                                       "score", "fired", "evidence"])


def _in_position(step: Step, occ: list[tuple[int, int, int]], first: dict[str, int], card: Scorecard) -> bool:
    where = step.where
    if where == "opening":
        return any(o < card.opening_window for _, o, _ in occ)
    if where == "closing":
        return any(n - 1 - o < card.closing_window for _, o, n in occ)
    if where == "after":
        last = max(p for p, _, _ in occ)
        return all(last >= first[dep] for dep in step.after if dep in first)
    return True


def _score_one(tid: str, script: Script | None, card: Scorecard, rec: dict,
               hits: dict[str, list[tuple[int, int, int]]]) -> tuple[dict, list[tuple]]:
    conv = {"ticket_id": tid, "script": getattr(script, "id", None), "script_adherence": np.nan,
            "auto_fail": False, "auto_fail_reasons": "", "missing_steps": "", "out_of_order_steps": "",
            "forbidden_used": "", "steps_found": "", "steps_applicable": 0}
    if script is None:
        return conv, []
    first = {item: min(p for p, _, _ in occ) for item, occ in hits.items()}
    earned = possible = 0.0
    missing, disorder, used, found_ids, reasons, rows = [], [], [], [], [], []
    applicable = [s for s in script.steps if s.applies(rec)]
    for step in applicable:
        occ = hits.get(step.id, [])
        ok = bool(occ) and _in_position(step, occ, first, card)
        credit = 1.0 if ok else (card.order_credit if occ else 0.0)
        if occ:
            found_ids.append(step.id)
            if not ok:
                disorder.append(step.id)
                if step.auto_fail:
                    reasons.append(f"{step.id} out of position ({step.position})")
        elif step.required:
            missing.append(step.id)
            if step.auto_fail:
                reasons.append(f"missing {step.id}")
        if step.required or occ:
            earned += step.weight * credit
            possible += step.weight
        rows.append((tid, script.id, step.id, step.required, step.weight, bool(occ), ok, credit,
                     first.get(step.id, -1)))
    for item in script.forbidden:
        possible += item.weight
        if item.id in hits:
            used.append(item.id)
            if item.auto_fail:
                reasons.append(f"forbidden {item.id}")
        else:
            earned += item.weight
    conv.update(script_adherence=100.0 * earned / possible if possible else np.nan, auto_fail=bool(reasons),
                auto_fail_reasons=";".join(reasons), missing_steps=";".join(missing),
                out_of_order_steps=";".join(disorder), forbidden_used=";".join(used),
                steps_found=";".join(found_ids), steps_applicable=len(applicable))
    return conv, rows


def agent_summary(result: QAResult, *, by: str = "agent_id", top: int = 3) -> pd.DataFrame:
    """Per agent (or team): conversations, mean and spread of adherence, auto-fail rate, most-missed steps.

    ``adherence_std`` is the consistency signal: a low spread means the agent follows the script the
    same way every time. ``most_missed`` lists the required steps missed most often, with counts.
    """
    conv = result.conversations
    if by not in conv:
        raise DataError(f"Cannot summarise by {by!r}: the conversations have no such column "
                        "(pass tickets with it, or messages with author_id).")
    scored = conv[conv["script"].notna()]
    grouped = scored.groupby(by, dropna=True)
    out = grouped.agg(conversations=("ticket_id", "size"), adherence_mean=("script_adherence", "mean"),
                      adherence_std=("script_adherence", "std"), adherence_min=("script_adherence", "min"))
    out["auto_fail_rate"] = grouped["auto_fail"].apply(lambda s: 100.0 * s.fillna(False).astype(bool).mean())
    if "reference_similarity" in scored:
        out["reference_similarity_mean"] = grouped["reference_similarity"].mean()

    def missed(frame: pd.DataFrame) -> str:
        counter: Counter[str] = Counter()
        for value in frame["missing_steps"]:
            counter.update(s for s in str(value).split(";") if s)
        return ", ".join(f"{step} ({n})" for step, n in counter.most_common(top))

    out["most_missed"] = grouped[["missing_steps"]].apply(missed)
    return out.reset_index().sort_values("adherence_mean", ascending=False, kind="mergesort").reset_index(drop=True)
