"""Zendesk adapter: API export pages (tickets, comments, metrics, ratings, CSAT responses) -> canonical tables.

The fixture (tests/core/data/zendesk) is built from Zendesk's documented API schemas, not from a real export:
two incremental-export pages that repeat a ticket, sideloaded users, comments as {ticket_id, comments} pages with
a broken line, comments embedded in a ticket, Answer Bot and AI-agent replies, private notes, a reopen after
solve, a merged and a deleted ticket, HTML with entities and times with offsets.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from cxlens.adapters import ADAPTERS, read_zendesk
from cxlens.cli import main
from cxlens.dataset import load_dataset
from cxlens.io import REASON_COL

DATA = Path(__file__).parent / "data" / "zendesk"


@pytest.fixture(scope="module")
def converted():
    return read_zendesk(DATA)


def _fixture_records() -> int:
    """The records of the fixture, counted apart from the adapter."""
    n = 0
    for name in ("tickets-page1.json", "tickets-page2.json"):
        page = json.loads((DATA / name).read_text())
        n += len(page["tickets"]) + len(page.get("users", []))
        n += sum(len(t.get("comments", [])) for t in page["tickets"] if isinstance(t, dict))
    for line in (DATA / "ticket_comments.jsonl").read_text().splitlines():
        try:
            n += len(json.loads(line)["comments"])
        except json.JSONDecodeError:
            n += 1  # the broken line is one record
    n += len(json.loads((DATA / "ticket_metrics.json").read_text())["ticket_metrics"])
    n += len(json.loads((DATA / "satisfaction_ratings.json").read_text())["satisfaction_ratings"])
    n += len(json.loads((DATA / "survey_responses.json").read_text())["survey_responses"])
    return n


def test_registered():
    assert ADAPTERS["zendesk"] is read_zendesk


def test_every_record_is_used_or_quarantined(converted):
    summary = converted.summary()
    assert summary["records_read"] == _fixture_records() == 41
    assert summary["records_read"] == summary["records_used"] + summary["quarantined"]


def test_tickets(converted):
    t = converted.tickets.set_index("ticket_id")
    assert sorted(t.index) == ["101", "102", "106"]
    one = t.loc["101"]  # the later incremental-export page wins: solved, not open
    assert one["status"] == "solved" and one["priority"] == "high" and one["channel"] == "email"
    assert one["resolved_at"] == pd.Timestamp("2024-03-04T10:30:00Z")
    assert one["zd_reply_time_calendar_s"] == 45 * 60 and one["zd_full_resolution_time_business_s"] == 90 * 60
    # created 16:30 at UTC-5 -> 21:30 UTC; reopened after solve; chat channel; organisation is the account
    two = t.loc["102"]
    assert two["created_at"] == pd.Timestamp("2024-03-08T21:30:00Z") and bool(two["reopened"])
    assert (two["channel"], two["account_id"]) == ("chat", "3300")
    assert t.loc["106", "status"] == "on_hold" and pd.isna(t.loc["106", "resolved_at"])


def test_bots_and_notes_never_count_as_first_response(converted):
    t = converted.tickets.set_index("ticket_id")
    # 101: Answer Bot at 09:01 and a private note at 09:20; the agent's public reply is at 09:45
    assert t.loc["101", "first_response_at"] == pd.Timestamp("2024-03-04T09:45:00Z")
    assert t.loc["101", "agent_replies"] == 2
    # 102: the AI agent (via.source.rel ai_agent) at 21:31; the human at 21:40
    assert t.loc["102", "first_response_at"] == pd.Timestamp("2024-03-08T21:40:00Z")
    assert t.loc["106", "first_response_at"] == pd.Timestamp("2024-03-10T09:00:00Z")  # an admin, after a note


def test_messages_roles_and_html(converted):
    m = converted.messages.set_index("message_id")
    assert list(m.loc[["10101", "10102", "10103", "10104"], "author_role"]) == ["customer", "bot", "note", "agent"]
    assert m.loc["10202", "author_role"] == "bot"
    assert m.loc["10101", "text"] == "Hi, my order #A-10023 hasn't arrived & I\u2019m worried.\n\nThanks,\nAnn"
    assert m.loc["10603", "text"] == "We\u2019re checking with finance \u2014 back soon."  # embedded comment
    assert m.loc["10602", "author_role"] == "note"
    assert converted.messages["message_id"].is_unique


def test_quarantine_reasons(converted):
    reasons = " | ".join(converted.quarantine[REASON_COL])
    for expected in ("an older version of ticket 101", "ticket 103 was deleted", "ticket 104 was merged",
                     "'last tuesday' is not a valid time", "comment of ticket 103, which was set aside",
                     "message of ticket 999", "'yesterday' is not a valid time", "unknown score 'meh'",
                     "is not JSON", "not a JSON object", "metrics of ticket 555", "no rating answer"):
        assert expected in reasons, expected


def test_survey_scales(converted):
    s = converted.surveys.set_index("ticket_id")
    assert (s["kind"] == "csat").all()
    assert s.loc["101", "score"] == 5 and s.loc["102", "score"] == 1  # good -> 5, bad_with_comment -> 1
    assert s.loc["106", "score"] == 4 and s.loc["106", "comment"] == "Slow but fine"  # 4 on 5 points
    assert len(converted.surveys) == 3  # "offered" is not an answer; the embedded 101 rating is not counted twice


def test_vendor_figures_match_or_are_explained(converted):
    c = converted.comparison.set_index(["ticket_id", "metric"])
    assert c.loc[("101", "first_response"), "verdict"] == "match"
    assert c.loc[("102", "resolution"), "verdict"] == "match"  # 660 min full resolution, after the reopen
    assert c.loc[("102", "first_response"), "verdict"].startswith("explained: the vendor counts the bot")
    assert not (converted.comparison["verdict"] == "unexplained").any()


def test_output_validates(converted, tmp_path):
    from cxlens.io import write_table

    data = load_dataset(tickets=write_table(converted.tickets, tmp_path / "t.csv"),
                        messages=write_table(converted.messages, tmp_path / "m.csv"),
                        surveys=write_table(converted.surveys, tmp_path / "s.csv"))
    assert data.n_quarantined() == 0


def test_cli_convert_then_score_end_to_end(tmp_path, capsys):
    out = tmp_path / "archive"
    assert main(["convert", "zendesk", "--input", str(DATA), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "read 41 records -> 3 tickets, 16 messages, 3 survey answers, quarantined 12" in err
    assert "3 match, 1 differ for a known reason, 0 unexplained" in err
    assert (out / "quarantine" / "zendesk.csv").exists() and (out / "conversion" / "vendor_comparison.csv").exists()
    scored = tmp_path / "scored"
    assert main(["score", "--archive", str(out), "--out", str(scored), "--fast", "--skip", "topic"]) == 0
    kpis = json.loads((scored / "kpis.json").read_text())["kpis"]
    # bots and notes are not responses: 45 min, 10 min and 2 h
    assert kpis["first_response_time_median_s"] == 2700 and kpis["first_response_time_mean_s"] == 3500
    assert kpis["ticket_volume"] == 3 and kpis["csat"] == pytest.approx(200 / 3)


def test_score_archive_recognises_a_zendesk_export_and_redacts_it(tmp_path, capsys):
    out = tmp_path / "scored"
    assert main(["score", "--archive", str(DATA), "--out", str(out), "--fast", "--skip", "topic", "--redact"]) == 0
    assert "--archive is a zendesk export: converted 41 records" in capsys.readouterr().err
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["converted_from"]["kind"] == "zendesk" and manifest["converted_from"]["quarantined"] == 12
    assert manifest["redaction"]["at_conversion"]["PERSON"] == 2
    converted = tmp_path / "scored.converted-input"  # beside the output, with the conversion's quarantine
    assert (converted / "quarantine" / "zendesk.csv").exists()
    messages = pd.read_parquet(out / "messages")
    assert "Sorry [PERSON]! We've reshipped order #A-10023." in set(messages["text"])
    assert not messages["text"].str.contains("Ann", regex=False).any()
