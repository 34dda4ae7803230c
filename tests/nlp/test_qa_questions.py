"""Yes/no questions over conversations: the scorecard format (questions:), and answers with their evidence."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlens.errors import ConfigError
from cxlens.nlp.qa import (StepDetector, answer_questions, load_scorecard, score_script_qa, scorecard_from_dict,
                           write_scorecard)
from cxlens.nlp.qa._scorecard import question_statement


class BagEncoder:
    name = "fake"
    VOCAB = ("callback", "call", "back", "competitor", "cheaper", "provider", "parcel", "hello", "order")

    def encode(self, texts):
        out = np.zeros((len(texts), len(self.VOCAB) + 1), dtype=np.float32)
        for i, text in enumerate(texts):
            words = [w.strip(".,!?:'\"/").lower() for w in str(text).split()]
            for j, v in enumerate(self.VOCAB):
                out[i, j] = words.count(v)
            out[i, -1] = 0.3
        return out / np.linalg.norm(out, axis=1, keepdims=True)


SPEC = {"name": "questions", "threshold": 0.7,
        "steps": [{"id": "greet", "description": "hello", "regexes": [r"^\W*hello\b"]}],
        "questions": [
            {"id": "callback", "question": "Did the agent offer a callback?",
             "examples": ["We can call you back", "a callback tomorrow"]},
            {"id": "competitor", "question": "Did the customer mention a competitor?", "speaker": "customer",
             "examples": ["another provider is cheaper", "a competitor"]},
            {"id": "order_number", "question": "Did the agent quote the order number?",
             "regexes": [r"\border #?\d{3}-\d{7}-\d{7}\b"]},
        ]}


def conversations() -> pd.DataFrame:
    ts = pd.Timestamp("2026-01-01", tz="UTC")
    rows = [("a", "customer", "My parcel is late. Another provider is cheaper."),
            ("a", "agent", "Hello! Sorry about that."),
            ("a", "agent", "Your order 123-1234567-1234567 ships today. We can call you back tomorrow."),
            ("b", "customer", "Where is my parcel? I can call back later."),
            ("b", "agent", "Hello, it arrives tomorrow.")]
    return pd.DataFrame({"ticket_id": [r[0] for r in rows], "message_id": [f"m{i}" for i in range(len(rows))],
                         "author_role": [r[1] for r in rows], "text": [r[2] for r in rows],
                         "sent_at": [ts + pd.Timedelta(minutes=i) for i in range(len(rows))]})


def test_qa_questions_statement():
    assert question_statement("Did the agent offer a callback?") == "the agent offer a callback"
    assert question_statement("Was a refund promised?") == "a refund promised"


def test_qa_questions_answered_with_evidence_sentence():
    card = scorecard_from_dict(SPEC, source="q.yaml")
    det = StepDetector(scorecard=card, encoder=BagEncoder()).fit()
    result = score_script_qa(det, conversations())
    answers = result.questions.set_index(["ticket_id", "question_id"])
    yes = answers.loc[("a", "callback")]
    assert yes["answer"] == "yes" and yes["message_id"] == "m2" and yes["fired"] == "semantic"
    assert yes["evidence"] == "We can call you back tomorrow."
    assert answers.loc[("b", "callback"), "answer"] == "no"             # only the customer talks of calling back
    comp = answers.loc[("a", "competitor")]
    assert comp["answer"] == "yes" and comp["author_role"] == "customer"
    assert comp["evidence"] == "Another provider is cheaper."
    assert answers.loc[("b", "competitor"), "answer"] == "no"
    rule = answers.loc[("a", "order_number")]
    assert rule["fired"] == "rule" and rule["evidence"] == "Your order 123-1234567-1234567 ships today."
    # questions are reported, not scored: adherence and the steps table know nothing of them
    assert set(result.steps["step"]) == {"greet"}
    assert result.conversations["script_adherence"].tolist() == [100.0, 100.0]
    again = answer_questions(det, conversations())
    pd.testing.assert_frame_equal(again, result.questions)


def test_qa_questions_absent_means_no_table():
    spec = {k: v for k, v in SPEC.items() if k != "questions"}
    det = StepDetector(scorecard=scorecard_from_dict(spec), encoder=BagEncoder()).fit()
    assert score_script_qa(det, conversations()).questions is None


def test_qa_questions_round_trip(tmp_path):
    card = scorecard_from_dict(SPEC, source="q.yaml")
    again = load_scorecard(write_scorecard(card, tmp_path / "q.yaml"))
    assert again.questions == card.questions


def test_qa_questions_errors_name_file_and_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\nsteps:\n  - id: a\n    description: A\nquestions:\n  - id: q1\n    question: ''\n"
                    "  - id: q2\n    question: Did they?\n    speaker: robot\n    keywords: [x]\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_scorecard(path)
    text = str(err.value)
    assert "bad.yaml:7: questions[0].question: a non-empty question is required" in text
    assert "bad.yaml:10: questions[1].speaker: must be one of agent, customer, any" in text
    assert "bad.yaml:11: questions[1].keywords: unknown field 'keywords'" in text
