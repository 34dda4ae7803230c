"""load_dataset: orphan messages, and first_response_at / agent_replies derived from messages."""

from __future__ import annotations

import pandas as pd
import pytest

from cxlens.dataset import derive_ticket_fields, load_dataset
from cxlens.errors import DataError
from cxlens.io import REASON_COL

T = pd.Timestamp


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture()
def archive(tmp_path):
    tickets = write(tmp_path / "tickets.csv", "ticket_id,created_at,first_response_at,agent_replies\n"
                    "t1,2025-01-01T10:00:00Z,,\n"
                    "t2,2025-01-01T10:00:00Z,2025-01-01T10:30:00Z,5\n"
                    "t3,2025-01-01T10:00:00Z,,\n"
                    "t4,2025-01-01T10:00:00Z,,\n")
    messages = write(tmp_path / "messages.csv", "ticket_id,sent_at,author_role,text\n"
                     "t1,2025-01-01T10:00:00Z,customer,help\n"
                     "t1,2025-01-01T10:00:05Z,bot,an agent will be with you\n"
                     "t1,2025-01-01T10:00:06Z,system,assigned to queue\n"
                     "t1,2025-01-01T10:01:00Z,note,internal: checking\n"
                     "t1,2025-01-01T10:05:00Z,agent,hello!\n"
                     "t1,2025-01-01T10:09:00Z,customer,thanks\n"
                     "t1,2025-01-01T10:10:00Z,agent,bye\n"
                     "t2,2025-01-01T10:20:00Z,agent,given values are kept\n"
                     "t3,2025-01-01T09:00:00Z,agent,a reply before the ticket existed\n"
                     "t3,2025-01-01T10:00:00Z,customer,hi\n"
                     "t3,2025-01-01T10:02:00Z,bot,only a bot answered\n"
                     "ghost,2025-01-01T10:00:00Z,customer,no such ticket\n")
    return tickets, messages


def test_first_response_and_replies_come_from_human_agents_only(archive):
    tickets, messages = archive
    data = load_dataset(tickets=tickets, messages=messages)
    got = data.tickets.set_index("ticket_id")
    assert got.loc["t1", "first_response_at"] == T("2025-01-01T10:05:00Z")  # not the bot, system or note
    assert got.loc["t1", "agent_replies"] == 2
    assert got.loc["t2", "first_response_at"] == T("2025-01-01T10:30:00Z")  # given values are kept
    assert got.loc["t2", "agent_replies"] == 5
    assert pd.isna(got.loc["t3", "first_response_at"])  # before creation / bot only: no response
    assert got.loc["t3", "agent_replies"] == 0
    assert pd.isna(got.loc["t4", "agent_replies"])  # no messages at all: unknown, not zero


def test_orphan_messages_are_quarantined(archive):
    tickets, messages = archive
    data = load_dataset(tickets=tickets, messages=messages)
    table = data.tables["messages"]
    assert len(table.quarantine) == 1
    assert table.quarantine.iloc[0]["ticket_id"] == "ghost"
    assert table.quarantine.iloc[0][REASON_COL] == "ticket_id is not in the tickets table"
    assert table.summary() == {"table": "messages", "read": 12, "used": 11, "quarantined": 1}
    assert data.n_quarantined() == 1


def test_derivation_without_any_agent_message():
    tickets = pd.DataFrame({"ticket_id": ["a", "b"], "created_at": pd.to_datetime(["2025-01-01"] * 2, utc=True)})
    messages = pd.DataFrame({"ticket_id": ["a"], "sent_at": pd.to_datetime(["2025-01-01 01:00"], utc=True),
                             "author_role": ["customer"]})
    out = derive_ticket_fields(tickets, messages)
    assert out["first_response_at"].isna().all()
    assert str(out["first_response_at"].dt.tz) == "UTC"
    assert list(out["agent_replies"].fillna(-1)) == [0.0, -1.0]


def test_mapping_applies_to_every_table(tmp_path):
    tickets = write(tmp_path / "t.csv", "id,opened\n1,2025-01-01\n")
    accounts = write(tmp_path / "a.csv", "account,signup_at\nacme,2024-01-01\n")
    data = load_dataset(tickets=tickets, accounts=accounts,
                        mapping={"id": "ticket_id", "opened": "created_at", "account": "account_id"})
    assert list(data.tickets["ticket_id"]) == ["1"] and list(data.accounts["account_id"]) == ["acme"]


def test_no_input_is_an_error():
    with pytest.raises(DataError, match="No input"):
        load_dataset()


def test_derivation_with_no_tickets_at_all():
    tickets = pd.DataFrame({"ticket_id": pd.Series([], dtype=object),
                            "created_at": pd.Series([], dtype="datetime64[ns, UTC]")})
    messages = pd.DataFrame({"ticket_id": ["a"], "sent_at": pd.to_datetime(["2025-01-01 01:00"], utc=True),
                             "author_role": ["agent"]})
    out = derive_ticket_fields(tickets, messages)
    assert out.empty and {"first_response_at", "agent_replies"} <= set(out.columns)
