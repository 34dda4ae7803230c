"""Intercom adapter: conversations with parts, statistics and ratings -> canonical tables.

The fixture (tests/core/data/intercom) is built from Intercom's documented REST schemas: a list page and a
JSON Lines file that repeats a conversation with later parts, Fin (bot) replies, a note, a close and a reopen,
a conversation Fin resolved alone, a snoozed one with business-hour statistics only, a deleted one, a broken
line, an unknown state, an off-scale rating and Unix times.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cxlens.adapters import read_intercom
from cxlens.cli import main
from cxlens.dataset import load_dataset
from cxlens.io import REASON_COL, write_table

DATA = Path(__file__).parent / "data" / "intercom"


@pytest.fixture(scope="module")
def converted():
    return read_intercom(DATA)


def test_every_record_is_used_or_quarantined(converted):
    s = converted.summary()
    # 3 + 6 conversation records (one line broken) + 10 parts of the kept 1001 + 3 of 1003 + 1 of 1004
    assert s["records_read"] == 23
    assert s["records_read"] == s["records_used"] + s["quarantined"]


def test_conversations(converted):
    t = converted.tickets.set_index("ticket_id")
    assert sorted(t.index) == ["1001", "1002", "1003", "1004"]
    a = t.loc["1001"]
    assert a["status"] == "solved" and bool(a["reopened"]) and a["created_at"] == pd.Timestamp("2024-04-01T09:00Z")
    assert a["resolved_at"] == pd.Timestamp("2024-04-01T10:20:00Z")  # the last close, after the reopen
    assert a["first_response_at"] == pd.Timestamp("2024-04-01T09:10:00Z")  # not Fin at 09:00:30, not the note
    assert bool(t.loc["1003", "self_service"]) and pd.isna(t.loc["1003", "first_response_at"])
    assert t.loc["1004", "status"] == "pending" and t.loc["1002", "status"] == "open"
    assert "not a 1-5 rating" in t.loc["1002", "rating_problem"]


def test_parts(converted):
    m = converted.messages[converted.messages["ticket_id"] == "1001"].set_index("message_id")
    assert list(m["author_role"]) == ["customer", "bot", "note", "agent", "customer", "customer", "agent"]
    assert m.loc["7", "text"] == "It's broken again <sigh>"  # a reopen part with a body is a customer message
    assert m.loc["4", "text"] == "Hi Maria,\nI\u2019ve reset it for you."
    assert "2" not in m.index and "6" not in m.index  # assignment and close events carry no message


def test_set_aside(converted):
    reasons = " | ".join(converted.quarantine[REASON_COL])
    for expected in ("is not JSON", "conversation 1005 was deleted", "an older version of conversation 1001",
                     "unknown state 'archived'", "'sometime' is not a valid time", "'garbage' is not a valid time"):
        assert expected in reasons, expected


def test_rating_and_vendor_figures(converted):
    assert converted.surveys[["ticket_id", "score", "agent_id"]].values.tolist() == [["1001", 4.0, "814860"]]
    c = converted.comparison.set_index(["ticket_id", "metric"])
    assert c.loc[("1001", "first_response"), "verdict"] == "match"
    assert c.loc[("1001", "resolution"), "verdict"] == "match"
    assert c.loc[("1003", "resolution"), "verdict"] == "match"
    assert "business hours only" in c.loc[("1004", "first_response"), "verdict"]


def test_validates_and_cli(converted, tmp_path, capsys):
    data = load_dataset(tickets=write_table(converted.tickets, tmp_path / "t.csv"),
                        messages=write_table(converted.messages, tmp_path / "m.csv"),
                        surveys=write_table(converted.surveys, tmp_path / "s.csv"))
    assert data.n_quarantined() == 0
    assert main(["convert", "intercom", "--input", str(DATA), "--out", str(tmp_path / "out")]) == 0
    assert "4 tickets, 13 messages, 1 survey answers, quarantined 6" in capsys.readouterr().err
