"""``cxlens scorecard tune`` and ``check``'s closeness warnings; ``cxlens qa`` with yes/no questions and auditable
evidence (what fired, the sentence)."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from cxlens.cli import main
from cxlens.nlp.qa import load_scorecard

CARD = """\
name: tunable
steps:
  - id: restart_device
    description: The agent asks the customer to restart their device.
    examples: ["Please restart your phone.", "Could you restart the device?"]
  - id: give_link
    description: The agent gives the customer a link.
questions:
  - id: callback
    question: Did the agent offer a callback?
    examples: ["We can call you back tomorrow.", "Shall we give you a call back?"]
"""


def labelled_rows():
    rows = []
    for k in range(12):
        rows.append({"Text": f"Please restart your phone number {k}.", "Restart Device": 1, "Give link": 0})
        rows.append({"Text": f"The guide is here: https://t.co/x{k}", "Restart Device": 0, "Give link": 1})
        rows.append({"Text": f"Your order {k} ships on Monday.", "Restart Device": 0, "Give link": 0})
    return pd.DataFrame(rows)


@pytest.fixture()
def card(tmp_path):
    path = tmp_path / "card.yaml"
    path.write_text(CARD, encoding="utf-8")
    return path


def test_qa_cli_scorecard_tune_reports_and_writes_thresholds(card, tmp_path, capsys):
    labelled = tmp_path / "labelled.csv"
    labelled_rows().to_csv(labelled, index=False)
    out = tmp_path / "tuned.yaml"
    assert main(["scorecard", "tune", str(card), "--labelled", str(labelled), "--text-column", "Text",
                 "--per-step", "4", "--encoder", "tfidf", "--out", str(out), "--format", "csv"]) == 0
    captured = capsys.readouterr()
    report = pd.read_csv(io.StringIO(captured.out)).set_index("step")
    assert list(report.index) == ["restart_device", "give_link"]
    assert report.loc["restart_device", "tuned_on"] == 4 and report.loc["restart_device", "heldout_pos"] == 8
    assert report.loc["give_link", "threshold"] == "off"       # the act is the criterion
    assert report.loc["give_link", "precision"] == 1.0 and report.loc["give_link", "recall"] == 1.0
    assert "macro-F1 on the held-out replies" in captured.err
    tuned = load_scorecard(out)
    steps = {s.id: s for s in tuned.scripts[0].steps}
    assert steps["restart_device"].threshold is not None and steps["give_link"].threshold == 1.0
    assert len(steps["restart_device"].examples) > 2                # the tuning replies became examples
    assert tuned.questions == load_scorecard(card).questions


def test_qa_cli_scorecard_tune_without_step_columns_fails(card, tmp_path, capsys):
    labelled = tmp_path / "labelled.csv"
    pd.DataFrame({"text": ["a"], "other": [1]}).to_csv(labelled, index=False)
    assert main(["scorecard", "tune", str(card), "--labelled", str(labelled), "--encoder", "tfidf"]) != 0
    assert "no column is named after a step" in capsys.readouterr().err


def test_qa_cli_scorecard_check_warns_about_close_steps(tmp_path, capsys):
    path = tmp_path / "close.yaml"
    path.write_text("name: close\nsteps:\n"
                    "  - id: restart\n    description: The agent asks the customer to restart the device.\n"
                    "    examples: ['Please restart the device now.', 'Restart the device please.']\n"
                    "  - id: reboot\n    description: The agent asks the customer to reboot the device.\n"
                    "    examples: ['Please restart the device.', 'Reboot the device please.']\n", encoding="utf-8")
    assert main(["scorecard", "check", str(path), "--encoder", "tfidf"]) == 0
    err = capsys.readouterr().err
    assert "warning: close: step 'reboot': example 'Please restart the device.' is closer to step 'restart'" in err
    assert main(["scorecard", "check", str(path), "--encoder", "none"]) == 0
    assert "warning" not in capsys.readouterr().err


def test_qa_cli_answers_questions_and_audits_evidence(card, tmp_path):
    ts = "2026-01-01T10:0{}:00Z"
    messages = pd.DataFrame([
        {"ticket_id": "t1", "sent_at": ts.format(0), "author_role": "customer", "text": "My phone froze."},
        {"ticket_id": "t1", "sent_at": ts.format(1), "author_role": "agent",
         "text": "Sorry to hear that! Please restart your phone. We can call you back tomorrow."},
        {"ticket_id": "t2", "sent_at": ts.format(2), "author_role": "agent", "text": "See https://t.co/abc please."},
    ])
    tickets = pd.DataFrame({"ticket_id": ["t1", "t2"], "created_at": [ts.format(0)] * 2})
    messages.to_csv(tmp_path / "m.csv", index=False)
    tickets.to_csv(tmp_path / "t.csv", index=False)
    out = tmp_path / "out"
    assert main(["qa", "--tickets", str(tmp_path / "t.csv"), "--messages", str(tmp_path / "m.csv"),
                 "--scorecard", str(card), "--out", str(out), "--encoder", "tfidf", "--threshold", "0.3"]) == 0
    answers = pd.read_csv(out / "qa_questions.csv").set_index("ticket_id")
    assert answers.loc["t1", "answer"] == "yes" and answers.loc["t2", "answer"] == "no"
    assert answers.loc["t1", "evidence"] == "We can call you back tomorrow."
    evidence = pd.read_csv(out / "qa_evidence.csv")
    link = evidence[evidence["item"] == "give_link"].iloc[0]
    assert link["fired"] == "act" and link["sentence"] == "See https://t.co/abc please."
    restart = evidence[evidence["item"] == "restart_device"].iloc[0]
    assert restart["fired"] == "semantic" and restart["sentence"] == "Please restart your phone."
    assert set(evidence["item"]) == {"give_link", "restart_device"}


def test_qa_cli_scorecard_tune_learns_phrases_when_asked(card, tmp_path, capsys):
    labelled = tmp_path / "labelled.csv"
    labelled_rows().to_csv(labelled, index=False)
    out = tmp_path / "tuned.yaml"
    assert main(["scorecard", "tune", str(card), "--labelled", str(labelled), "--text-column", "Text",
                 "--per-step", "4", "--encoder", "tfidf", "--learn-phrases", "--out", str(out), "--format", "csv"]) == 0
    report = pd.read_csv(io.StringIO(capsys.readouterr().out)).set_index("step")
    assert report.loc["restart_device", "learned_phrases"] == "restart"   # a word of the step's own criterion
    assert "restart" in {s.id: s for s in load_scorecard(out).scripts[0].steps}["restart_device"].phrases
