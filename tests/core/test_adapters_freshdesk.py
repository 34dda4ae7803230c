"""Freshdesk adapter: tickets with stats, conversations and satisfaction ratings -> canonical tables.

The fixture (tests/core/data/freshdesk) is built from Freshdesk's documented v2 API schemas: two ticket pages
(bare arrays), embedded and separate conversations, private notes, a virtual agent posting as an agent, a
reopened ticket, a merged (by its private note), a deleted and a spam ticket, a custom status, HTML entities,
a time with an offset and the 103..-103 satisfaction scale.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from cxlens._adapter_freshdesk import RATING_TO_CSAT
from cxlens.adapters import read_freshdesk
from cxlens.cli import main
from cxlens.dataset import load_dataset
from cxlens.io import REASON_COL, write_table

DATA = Path(__file__).parent / "data" / "freshdesk"


@pytest.fixture(scope="module")
def converted():
    return read_freshdesk(DATA)


def test_every_record_is_used_or_quarantined(converted):
    tickets = [t for name in ("tickets-1.json", "tickets-2.json") for t in json.loads((DATA / name).read_text())]
    expected = (len(tickets) + sum(len(t.get("conversations", [])) for t in tickets)
                + len(json.loads((DATA / "conversations.json").read_text()))
                + len(json.loads((DATA / "satisfaction_ratings.json").read_text())))
    s = converted.summary()
    assert s["records_read"] == expected == 26
    assert s["records_read"] == s["records_used"] + s["quarantined"]


def test_tickets_and_statuses(converted):
    t = converted.tickets.set_index("ticket_id")
    assert sorted(t.index) == ["201", "202", "205", "208"]
    assert (t.loc["201", "status"], t.loc["202", "status"], t.loc["205", "status"]) == ("solved", "closed", "pending")
    assert t.loc["208", "status"] == "pending"  # a custom status (99)
    assert t.loc["202", "created_at"] == pd.Timestamp("2024-04-02T07:00:00Z")  # 09:00 at +02:00
    assert bool(t.loc["202", "reopened"]) and not bool(t.loc["201", "reopened"])
    assert (t.loc["202", "channel"], t.loc["202", "priority"], t.loc["202", "account_id"]) == ("chat", "high", "880")
    assert t.loc["201", "resolved_at"] == pd.Timestamp("2024-04-01T11:00:00Z")


def test_roles_notes_and_html(converted):
    m = converted.messages.set_index("message_id")
    assert m.loc["201/description", "author_role"] == "customer"
    assert list(m.loc[["20101", "20102", "20103"], "author_role"]) == ["note", "agent", "customer"]
    assert m.loc["20102", "text"] == "Hi Tom, we've refunded the duplicate charge on INV-2291."
    assert m.loc["20103", "text"] == "Thanks!\n\nTom" and m.loc["20104", "text"] == "Glad to help \U0001F600"
    t = converted.tickets.set_index("ticket_id")
    assert t.loc["201", "first_response_at"] == pd.Timestamp("2024-04-01T10:20:00Z")  # not the 10:10 note


def test_set_aside_with_reasons(converted):
    reasons = " | ".join(converted.quarantine[REASON_COL])
    for expected in ("ticket 203 was deleted", "ticket 204 was merged into ticket 201", "ticket 206 was marked as spam",
                     "'not-a-date' is not a valid time", "repeated ticket 201", "conversation of ticket 203",
                     "created_at 12 is not a valid time", "message of ticket 299", "default_question 5"):
        assert expected in reasons, expected


def test_satisfaction_scale():
    assert [RATING_TO_CSAT[v] for v in (103, 102, 100, -102, -103)] == [5, 4, 3, 2, 1]  # 5-point: one to one
    assert [RATING_TO_CSAT[v] for v in (103, 100, -103)] == [5, 3, 1]
    assert RATING_TO_CSAT[101] == 4 and RATING_TO_CSAT[-101] == 2


def test_surveys(converted):
    s = converted.surveys.set_index("ticket_id")
    assert s.loc["201", "score"] == 5 and s.loc["202", "score"] == 2 and s.loc["205", "score"] == 3
    assert s.loc["201", "other_questions"] == "question_430001=102"


def test_vendor_first_response(converted):
    c = converted.comparison.set_index(["ticket_id", "metric"])
    assert c.loc[("201", "first_response"), "verdict"] == "match"
    # the virtual agent posts as an agent (no bot flag in the export): Freshdesk counts the later human reply
    assert c.loc[("202", "first_response"), "verdict"].startswith("explained (likely)")
    assert "resolution" not in set(converted.comparison["metric"])  # resolved_at is Freshdesk's own: no oracle


def test_validates_and_cli(converted, tmp_path, capsys):
    data = load_dataset(tickets=write_table(converted.tickets, tmp_path / "t.csv"),
                        messages=write_table(converted.messages, tmp_path / "m.csv"),
                        surveys=write_table(converted.surveys, tmp_path / "s.csv"))
    assert data.n_quarantined() == 0
    assert main(["convert", "freshdesk", "--input", str(DATA), "--out", str(tmp_path / "out")]) == 0
    assert "4 tickets, 13 messages, 3 survey answers, quarantined 10" in capsys.readouterr().err
