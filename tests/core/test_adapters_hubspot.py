"""HubSpot adapter: CRM ticket pages, thread messages and feedback submissions -> canonical tables.

The fixture (tests/core/data/hubspot) is built from HubSpot's documented CRM v3 schemas: two ticket pages that
repeat a ticket, an archived (deleted) and a merged ticket, a custom pipeline stage, thread messages with a bot,
a comment (internal note), a status event and rich text, a time with an offset, durations in milliseconds and
NPS / CSAT / CES submissions, one off its scale.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cxlens.adapters import read_hubspot
from cxlens.cli import main
from cxlens.dataset import load_dataset
from cxlens.io import REASON_COL, write_table

DATA = Path(__file__).parent / "data" / "hubspot"


@pytest.fixture(scope="module")
def converted():
    return read_hubspot(DATA)


def test_every_record_is_used_or_quarantined(converted):
    s = converted.summary()
    assert s["records_read"] == 3 + 5 + 11 + 5  # tickets on two pages, thread messages, feedback
    assert s["records_read"] == s["records_used"] + s["quarantined"]


def test_tickets(converted):
    t = converted.tickets.set_index("ticket_id")
    assert sorted(t.index) == ["301", "302", "303", "307"]
    assert t.loc["301", "status"] == "closed"  # the later page's version
    assert t.loc["302", "created_at"] == pd.Timestamp("2024-05-02T12:00:00Z")  # 08:00 at -04:00
    assert (t.loc["302", "channel"], t.loc["302", "priority"], t.loc["302", "account_id"]) == ("chat", "high", "9901")
    assert t.loc["302", "text"] == "Chat: can't add a user"
    assert t.loc["307", "status"] == "open" and t.loc["307", "hs_pipeline_stage"] == "98765"


def test_messages(converted):
    m = converted.messages.set_index("message_id")
    assert list(m.loc[["1", "2", "3", "4"], "author_role"]) == ["customer", "bot", "note", "agent"]
    assert m.loc["4", "text"] == "Sorry about that \u2013 a replacement is on its way."
    assert "5" not in m.index  # a status change is not a message
    assert m.loc["303/content", "author_role"] == "customer"  # no thread: the ticket's content
    t = converted.tickets.set_index("ticket_id")
    assert t.loc["301", "first_response_at"] == pd.Timestamp("2024-05-01T11:00:00Z")  # not the bot at 10:05


def test_set_aside(converted):
    reasons = " | ".join(converted.quarantine[REASON_COL])
    for expected in ("an older version of ticket 301", "ticket 304 was deleted (archived)",
                     "ticket 305 was merged into ticket 302", "'yesterday' is not a valid time",
                     "message of ticket 305, merged", "'not a time'", "'11' is off the nps scale",
                     "'CUSTOM' is not NPS, CSAT or CES"):
        assert expected in reasons, expected


def test_surveys_and_vendor_figures(converted):
    s = converted.surveys.sort_values("kind")
    assert s[["kind", "score"]].values.tolist() == [["ces", 6.0], ["csat", 2.0], ["nps", 9.0]]
    c = converted.comparison.set_index(["ticket_id", "metric"])
    for key in (("301", "first_response"), ("301", "resolution"), ("302", "first_response"), ("302", "resolution")):
        assert c.loc[key, "verdict"] == "match", key
    assert "holds no agent reply" in c.loc[("303", "first_response"), "verdict"]


def test_validates_and_cli(converted, tmp_path, capsys):
    data = load_dataset(tickets=write_table(converted.tickets, tmp_path / "t.csv"),
                        messages=write_table(converted.messages, tmp_path / "m.csv"),
                        surveys=write_table(converted.surveys, tmp_path / "s.csv"))
    assert data.n_quarantined() == 0
    assert main(["convert", "hubspot", "--input", str(DATA), "--out", str(tmp_path / "out")]) == 0
    assert "4 tickets, 10 messages, 3 survey answers, quarantined 8" in capsys.readouterr().err
