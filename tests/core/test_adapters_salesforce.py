"""Salesforce Service Cloud adapter: Case, CaseComment, EmailMessage, CaseMilestone, surveys -> canonical tables.

The fixture (tests/core/data/salesforce) is built from Salesforce's documented object fields: CSV files as Data
Export writes them (one with a broken quote), a merged case (IsDeleted with MasterRecordId), a deleted one, an
ambiguous date, private comments, incoming and outgoing emails with HTML, an automatic reply, milestones in
business and calendar minutes, and a REST query result with Feedback Management answers.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cxlens.adapters import read_salesforce
from cxlens.cli import main
from cxlens.dataset import load_dataset
from cxlens.io import REASON_COL, write_table

DATA = Path(__file__).parent / "data" / "salesforce"
A, B = "5001x000001AAAA", "5001x000001BBBB"


@pytest.fixture(scope="module")
def converted():
    return read_salesforce(DATA)


def test_every_record_is_used_or_quarantined(converted):
    s = converted.summary()
    assert s["records_read"] == 5 + 7 + 4 + 4 + 5  # cases, emails (one broken), comments, milestones, survey rows
    assert s["records_read"] == s["records_used"] + s["quarantined"]


def test_cases(converted):
    t = converted.tickets.set_index("ticket_id")
    assert sorted(t.index) == [A, B]
    assert t.loc[A, "status"] == "closed" and t.loc[A, "resolved_at"] == pd.Timestamp("2024-06-04T10:00:00Z")
    assert t.loc[B, "created_at"] == pd.Timestamp("2024-06-05T13:00:00Z")  # 09:00 at -0400
    assert (t.loc[B, "status"], t.loc[B, "team"], t.loc[B, "channel"]) == ("open", "00G1x000003", "web")
    assert t.loc[A, "sf_first_response_target_min"] == 60 and not t.loc[A, "sf_first_response_violated"]
    assert t.loc[A, "sf_resolution_time_elapsed_min"] == 480  # business minutes, kept as a vendor column


def test_messages(converted):
    m = converted.messages.set_index("message_id")
    assert m.loc["00a1x0000001", "author_role"] == "note" and m.loc["02s1x0000002", "author_role"] == "customer"
    assert m.loc["02s1x0000001", "text"] == "We're sorry! Please restart the router & wait 5 minutes."
    t = converted.tickets.set_index("ticket_id")
    assert t.loc[A, "first_response_at"] == pd.Timestamp("2024-06-03T14:20:00Z")  # not the 14:10 private comment


def test_set_aside(converted):
    reasons = " | ".join(converted.quarantine[REASON_COL])
    for expected in ("unbalanced quote", f"Case 5001x000001CCCC was merged into Case {A}",
                     "Case 5001x000001DDDD was deleted", "'06/07/2024' is not a valid time",
                     "CaseMilestone of Case 5001x000001CCCC", "message of ticket 5001x000001ZZZZ",
                     "CaseComment 00a1x0000004 was deleted", "set aside (merged)", "off the csat scale"):
        assert expected in reasons, expected


def test_surveys_and_milestones(converted):
    s = converted.surveys.sort_values("kind")
    assert s[["kind", "score", "ticket_id"]].values.tolist() == [["csat", 4.0, A], ["nps", 9.0, A]]
    c = converted.comparison.set_index(["ticket_id", "metric"])
    assert c.loc[(A, "first_response"), "verdict"] == "match" and c.loc[(A, "resolution"), "verdict"] == "match"
    # calendar time from CompletionDate, not ActualElapsedTimeInMins (business hours less stopped time: 480 min)
    assert c.loc[(A, "resolution"), "vendor_s"] == 20 * 3600
    # the automatic reply email counts on both sides: Salesforce records no flag for it (docs/data-model.md)
    assert c.loc[(B, "first_response"), "cxlens_s"] == 60


def test_validates_and_cli(converted, tmp_path, capsys):
    data = load_dataset(tickets=write_table(converted.tickets, tmp_path / "t.csv"),
                        messages=write_table(converted.messages, tmp_path / "m.csv"),
                        surveys=write_table(converted.surveys, tmp_path / "s.csv"))
    assert data.n_quarantined() == 0
    assert main(["convert", "salesforce", "--input", str(DATA), "--out", str(tmp_path / "out"),
                 "--format", "parquet"]) == 0
    assert "2 tickets, 9 messages, 2 survey answers, quarantined 9" in capsys.readouterr().err
    assert (tmp_path / "out" / "tickets.parquet").exists()
