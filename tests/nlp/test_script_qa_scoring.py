"""Conversation scoring: weighted adherence, missing / out-of-order steps, forbidden items, auto-fail."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlens.errors import DataError
from cxlens.nlp.qa import scorecard_from_dict
from cxlens.nlp.qa import StepDetector
from cxlens.nlp.qa import agent_summary, score_script_qa

CARD = scorecard_from_dict({
    "name": "rules",
    "opening_window": 1,
    "closing_window": 1,
    "order_credit": 0.5,
    "steps": [
        {"id": "greet", "description": "Greet", "regexes": [r"^hello\b"], "position": "opening"},
        {"id": "verify", "description": "Verify", "phrases": ["verify your email"], "weight": 2, "auto_fail": True},
        {"id": "resolve", "description": "Resolve", "phrases": ["refunded"], "position": "after:verify", "weight": 2},
        {"id": "bye", "description": "Close", "phrases": ["goodbye"], "position": "closing"},
        {"id": "sorry", "description": "Apologise", "phrases": ["sorry"], "when": {"sentiment": "negative"}},
        {"id": "upsell", "description": "Offer premium", "phrases": ["premium"], "required": False},
    ],
    "forbidden": [{"id": "password", "description": "password", "phrases": ["your password"], "auto_fail": True}],
}, source="rules.yaml")

T0 = pd.Timestamp("2026-03-01", tz="UTC")


def conversation(tid, turns, agent="a1"):
    return [{"ticket_id": tid, "sent_at": T0 + pd.Timedelta(minutes=i), "author_role": role,
             "author_id": agent if role == "agent" else None, "text": text} for i, (role, text) in enumerate(turns)]


def run(convs, tickets=None):
    det = StepDetector(scorecard=CARD, encoder=None).fit()
    msgs = pd.DataFrame([row for conv in convs for row in conv])
    return score_script_qa(det, msgs, tickets)


PERFECT = [("customer", "my order"), ("agent", "hello, thanks"), ("agent", "please verify your email"),
           ("customer", "a@b.c"), ("agent", "you are refunded"), ("agent", "goodbye")]


def test_script_qa_scoring_perfect_conversation():
    res = run([conversation("t1", PERFECT)])
    conv = res.conversations.iloc[0]
    assert conv["script_adherence"] == 100.0
    assert not conv["auto_fail"]
    assert conv["missing_steps"] == "" and conv["out_of_order_steps"] == ""
    assert conv["steps_found"] == "greet;verify;resolve;bye"
    assert conv["n_messages"] == 6 and conv["n_agent_messages"] == 4
    assert set(res.evidence["item"]) == {"greet", "verify", "resolve", "bye"}
    assert res.messages["steps_found"].tolist() == ["greet", "verify", "resolve", "bye"]


def test_script_qa_scoring_missing_and_out_of_order():
    turns = [("agent", "you are refunded"), ("agent", "hello"), ("agent", "please verify your email"),
             ("agent", "goodbye"), ("agent", "one more thing")]
    conv = run([conversation("t1", turns)]).conversations.iloc[0]
    # greet not in the opening (1 msg), resolve before verify, bye not in the closing: half credit each
    assert conv["out_of_order_steps"] == "greet;resolve;bye"
    assert conv["script_adherence"] == pytest.approx(100 * (0.5 + 2 + 0.5 * 2 + 0.5 + 1) / 7)
    assert not conv["auto_fail"]


def test_script_qa_scoring_auto_fail_on_missing_step_and_forbidden():
    turns = [("agent", "hello"), ("agent", "tell me your password"), ("agent", "refunded"), ("agent", "goodbye")]
    conv = run([conversation("t1", turns)]).conversations.iloc[0]
    assert conv["missing_steps"] == "verify"
    assert conv["forbidden_used"] == "password"
    assert conv["auto_fail"]
    assert conv["auto_fail_reasons"] == "missing verify;forbidden password"
    assert conv["script_adherence"] == pytest.approx(100 * (1 + 0 + 2 + 1 + 0) / 7)


def test_script_qa_scoring_optional_and_conditional_steps():
    turns = PERFECT[:-1] + [("agent", "try premium"), ("agent", "goodbye")]
    tickets = pd.DataFrame({"ticket_id": ["t1", "t2"], "sentiment": ["negative", "neutral"],
                            "agent_id": ["a1", "a2"], "team": ["x", "x"]})
    res = run([conversation("t1", turns), conversation("t2", PERFECT)], tickets)
    conv = res.conversations.set_index("ticket_id")
    assert conv.at["t1", "missing_steps"] == "sorry"           # the customer was upset: apology required
    assert conv.at["t1", "steps_applicable"] == 6
    assert conv.at["t2", "steps_applicable"] == 5 and conv.at["t2", "script_adherence"] == 100.0
    assert conv.at["t1", "script_adherence"] == pytest.approx(100 * 8 / 9)  # upsell found: counted
    assert conv.at["t1", "agent_id"] == "a1" and conv.at["t1", "team"] == "x"
    steps = res.steps.set_index(["ticket_id", "step"])
    assert steps.at[("t1", "upsell"), "found"] and not steps.at[("t1", "sorry"), "found"]


def test_script_qa_scoring_no_agent_messages_and_no_script():
    card = scorecard_from_dict({"scripts": [{"id": "refunds", "applies_to": "refund*", "steps": [
        {"id": "a", "description": "A", "phrases": ["x"]}]}]}, source="s.yaml")
    det = StepDetector(scorecard=card, encoder=None).fit()
    msgs = pd.DataFrame(conversation("t1", [("customer", "hi")]) + conversation("t2", [("agent", "x")]))
    tickets = pd.DataFrame({"ticket_id": ["t1", "t2"], "request_type": ["refund", "shipping"]})
    conv = score_script_qa(det, msgs, tickets).conversations.set_index("ticket_id")
    assert np.isnan(conv.at["t1", "script_adherence"]) and conv.at["t1", "script"] == "refunds"
    assert pd.isna(conv.at["t2", "script"]) and np.isnan(conv.at["t2", "script_adherence"])


def test_script_qa_scoring_order_uses_sent_at_not_file_order():
    rows = conversation("t1", PERFECT)
    res = run([list(reversed(rows))])
    assert res.conversations.iloc[0]["script_adherence"] == 100.0


def test_script_qa_scoring_needs_columns():
    det = StepDetector(scorecard=CARD, encoder=None).fit()
    with pytest.raises(DataError, match="author_role"):
        score_script_qa(det, pd.DataFrame({"ticket_id": ["t"], "sent_at": [T0], "text": ["x"]}))


def test_script_qa_agent_summary_spread_and_most_missed():
    convs = [conversation("t1", PERFECT, "a1"), conversation("t2", PERFECT, "a1"),
             conversation("t3", [("agent", "hello"), ("agent", "refunded")], "a2"),
             conversation("t4", [("agent", "hello")], "a2")]
    res = run(convs)
    summary = agent_summary(res).set_index("agent_id")
    assert summary.at["a1", "adherence_mean"] == 100.0 and summary.at["a1", "adherence_std"] == 0.0
    assert summary.at["a2", "auto_fail_rate"] == 100.0
    assert summary.at["a2", "most_missed"].startswith("verify (2), bye (2)")
    assert summary.index[0] == "a1"
    with pytest.raises(DataError, match="team"):
        agent_summary(res, by="team")
