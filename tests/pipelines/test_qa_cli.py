"""``cxlens qa`` and ``cxlens scorecard``: outputs, quarantine, and scorecard errors before any data is read."""

from __future__ import annotations

import pandas as pd
import pytest

from cxlens.cli import main
from cxlens.dataset import load_dataset
from cxlens.nlp.qa import StepDetector
from cxlens.pipelines.qa import qa_detector, qa_report_markdown, qa_run, scored_tickets

CARD = """\
name: mini
steps:
  - id: greet
    description: Greet the customer
    regexes: ['^(hi|hello)\\b']
    position: opening
  - id: verify
    description: Verify the identity
    phrases: ["verify your email"]
    auto_fail: true
  - id: bye
    description: Offer more help
    phrases: ["anything else"]
    position: closing
forbidden:
  - id: password
    description: asks for a password
    phrases: ["your password"]
    auto_fail: true
"""


@pytest.fixture()
def files(tmp_path):
    tickets = pd.DataFrame({
        "ticket_id": ["t1", "t2", "t3"],
        "created_at": ["2026-01-01T10:00:00Z"] * 3,
        "agent_id": ["a1", "a1", "a2"],
        "team": ["blue", "blue", "red"],
        "request_type": ["login", "login", "refund"],
    })
    rows = [
        ("t1", 0, "customer", "I cannot log in"), ("t1", 1, "agent", "Hello! Please verify your email."),
        ("t1", 2, "agent", "Done. Anything else?"),
        ("t2", 0, "customer", "help"), ("t2", 1, "agent", "Hi, send me your password"),
        ("t3", 0, "customer", "refund please"), ("t3", 1, "agent", "hello, verify your email please"),
        ("t3", 2, "agent", "anything else I can do?"),
        ("t3", 3, "robot", "bad role"),            # quarantined: not an author role
        ("t9", 0, "agent", "orphan"),              # quarantined: unknown ticket
    ]
    messages = pd.DataFrame([{"ticket_id": t, "sent_at": f"2026-01-01T10:0{m}:00Z", "author_role": r,
                              "author_id": "a" if r == "agent" else "c", "text": x} for t, m, r, x in rows])
    paths = {"tickets": tmp_path / "tickets.csv", "messages": tmp_path / "messages.csv",
             "card": tmp_path / "card.yaml"}
    tickets.to_csv(paths["tickets"], index=False)
    messages.to_csv(paths["messages"], index=False)
    paths["card"].write_text(CARD, encoding="utf-8")
    return paths


def test_qa_cli_writes_tables_report_and_quarantine(files, tmp_path, capsys):
    out = tmp_path / "out"
    rc = main(["qa", "--tickets", str(files["tickets"]), "--messages", str(files["messages"]),
               "--scorecard", str(files["card"]), "--out", str(out), "--encoder", "none"])
    assert rc == 0
    for name in ("qa_messages.csv", "qa_evidence.csv", "qa_steps.csv", "qa_conversations.csv", "qa_agents.csv",
                 "qa_teams.csv", "tickets_scored.csv", "qa_report.md", "quarantine/messages.csv"):
        assert (out / name).is_file(), name
    conv = pd.read_csv(out / "qa_conversations.csv").set_index("ticket_id")
    assert conv.at["t1", "script_adherence"] == 100.0 and not conv.at["t1", "auto_fail"]
    assert conv.at["t2", "auto_fail"] and conv.at["t2", "auto_fail_reasons"] == "missing verify;forbidden password"
    tickets = pd.read_csv(out / "tickets_scored.csv")
    assert {"script_adherence", "auto_fail"} <= set(tickets.columns)
    assert len(pd.read_csv(out / "quarantine" / "messages.csv")) == 2
    report = (out / "qa_report.md").read_text()
    assert "# Script QA report: mini" in report and "| a1 | 2 |" in report
    assert "quarantined 2" in capsys.readouterr().err


def test_qa_cli_bad_scorecard_fails_before_reading_data(tmp_path, capsys):
    card = tmp_path / "bad.yaml"
    card.write_text("steps:\n  - id: a\n    description: A\n    position: after:b\n"
                    "  - id: b\n    description: B\n    position: after:a\n    colour: red\n")
    rc = main(["qa", "--messages", str(tmp_path / "does-not-exist.csv"), "--scorecard", str(card),
               "--out", str(tmp_path / "out"), "--encoder", "none"])
    err = capsys.readouterr().err
    assert rc == 2
    assert "cycle in the order constraints" in err and "bad.yaml:8: steps[1].colour" in err
    assert "does-not-exist" not in err
    assert not (tmp_path / "out").exists()


def test_qa_cli_scorecard_check_and_list(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("steps:\n  - id: a\n    description: A\n    regexes: ['(x']\n")
    assert main(["scorecard", "check", "general_support", str(bad)]) == 2
    captured = capsys.readouterr()
    assert "general_support: 1 script(s), 7 steps" in captured.out
    assert "bad.yaml:4: steps[0].regexes[0]: bad regex" in captured.err
    assert main(["scorecard", "list"]) == 0
    assert "abcd_all" in capsys.readouterr().out


def test_qa_pipeline_functions(files):
    detector = qa_detector(files["card"], encoder=None)
    assert isinstance(detector, StepDetector)
    dataset = load_dataset(tickets=files["tickets"], messages=files["messages"])
    run = qa_run(detector, dataset)
    scored = scored_tickets(dataset.tickets, run.result)
    assert str(scored["script_adherence"].dtype) == "float64" and str(scored["auto_fail"].dtype) == "boolean"
    assert scored.set_index("ticket_id")["auto_fail"].to_dict() == {"t1": False, "t2": True, "t3": False}
    assert list(run.teams["team"]) == ["red", "blue"]
    text = qa_report_markdown(run)
    assert "Auto-fail rate: 33.3 %" in text and "forbidden password" in text


def test_qa_cli_shipped_scorecard_on_abcd_sample(shared_data, tmp_path):
    from cxlens.nlp.qa import abcd_to_tables, load_abcd_dialogues

    tickets, messages = abcd_to_tables(load_abcd_dialogues(shared_data / "abcd" / "abcd_sample.json"))
    tickets.to_csv(tmp_path / "t.csv", index=False)
    messages.to_csv(tmp_path / "m.csv", index=False)
    rc = main(["qa", "--tickets", str(tmp_path / "t.csv"), "--messages", str(tmp_path / "m.csv"),
               "--scorecard", "abcd_all", "--out", str(tmp_path / "out"), "--encoder", "none"])
    assert rc == 0
    conv = pd.read_csv(tmp_path / "out" / "qa_conversations.csv")
    assert sorted(conv["script"]) == ["refund_status", "return_size", "timing"]


def test_qa_cli_scored_tickets_feed_the_qa_kpis(files, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["qa", "--tickets", str(files["tickets"]), "--messages", str(files["messages"]),
                 "--scorecard", str(files["card"]), "--out", str(out), "--encoder", "none"]) == 0
    capsys.readouterr()
    assert main(["kpis", "compute", "--tickets", str(out / "tickets_scored.csv"), "--kpi", "script_adherence_rate",
                 "--kpi", "auto_fail_rate", "--format", "json"]) == 0
    import json

    report = json.loads(capsys.readouterr().out)
    assert report["kpis"]["auto_fail_rate"] == pytest.approx(100 / 3)
    conv = pd.read_csv(out / "qa_conversations.csv")
    assert report["kpis"]["script_adherence_rate"] == pytest.approx(conv["script_adherence"].mean())


def test_qa_cli_default_encoder_is_the_student(files, tmp_path, monkeypatch):
    import cxlens.pipelines.qa as qa_module

    used = []

    class Recording(StepDetector):
        def __init__(self, *, scorecard, encoder=None, **kw):
            used.append(encoder)
            super().__init__(scorecard=scorecard, encoder=None, **kw)  # rules only: the test needs no weights

    monkeypatch.setattr(qa_module, "StepDetector", Recording)
    assert main(["qa", "--tickets", str(files["tickets"]), "--messages", str(files["messages"]),
                 "--scorecard", str(files["card"]), "--out", str(tmp_path / "out")]) == 0
    assert used == ["minilm-l2"] == [qa_module.QA_ENCODER]
