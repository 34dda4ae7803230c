"""IBM Twitter customer-care (CDP) adapter: conversations -> tickets + messages."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from cxlens.adapters import read_ibm_cdp
from cxlens.cli import main
from cxlens.dataset import load_dataset
from cxlens.errors import NoUsableRowsError, UnreadableFileError
from cxlens.io import REASON_COL, write_table


def conversation(session, turns, *, closing_id="1245425308704149506", company="TeamYouTube"):
    return {
        "agentURL": {"doc_id": "17", "turn": str(len(turns) + 1), "tweet_ID": closing_id,
                     "url": "https://example.com/help", "url_utterance": "@u here's how: https://example.com/help"},
        "dialogContent": turns,
        "dialogHeader": {"company": company, "conversationDateTime": turns[0]["datetime"] if turns else "",
                         "duration": "00:30:00.0", "messageCount": str(len(turns) + 1), "sessionID": session},
    }


GOOD = [
    conversation("s1", [
        {"client": "ann", "datetime": "2020-04-01T17:31:32.000Z", "message": "@TeamYouTube my channel is gone",
         "tweet_ID": "1245403438755852288"},
        {"agent": "TeamYouTube", "datetime": "2020-04-01T17:40:00.000Z", "message": "@ann which channel?",
         "tweet_ID": "1245405570000000000"},
        {"client1": "bob", "datetime": "2020-04-01T17:45:00.000Z", "message": "@TeamYouTube same here",
         "tweet_ID": "1245406800000000000"},
    ]),
    conversation("s2", [{"client": "cy", "datetime": "2020-04-02T10:00:00.000Z", "message": "help",
                         "tweet_ID": "x1"}], closing_id="not-a-snowflake"),
]
BAD = [
    {"dialogContent": []},
    conversation("s3", []),
    conversation("s4", [{"robot": "r", "datetime": "2020-04-02T10:00:00.000Z", "message": "?", "tweet_ID": "5"}]),
    conversation("s5", [{"client": "d", "datetime": "soon", "message": "?", "tweet_ID": "6"}]),
    conversation("s1", [{"client": "e", "datetime": "2020-04-02T10:00:00.000Z", "message": "dup", "tweet_ID": "7"}]),
]


@pytest.fixture()
def converted(tmp_path):
    path = tmp_path / "dev.json"
    path.write_text(json.dumps(GOOD + BAD), encoding="utf-8")
    return read_ibm_cdp(path)


def test_conversations_become_tickets(converted):
    t = converted.tickets.set_index("ticket_id")
    assert list(t.index) == ["s1", "s2"]
    s1 = t.loc["s1"]
    assert (s1["channel"], s1["account_id"], s1["agent_id"], s1["team"]) == ("social", "ann", "TeamYouTube",
                                                                              "teamyoutube")
    assert s1["created_at"] == pd.Timestamp("2020-04-01T17:31:32Z")
    assert s1["first_response_at"] == pd.Timestamp("2020-04-01T17:40:00Z")
    assert s1["agent_replies"] == 2 and s1["contacts"] == 2 and s1["status"] == "solved"
    # the closing agentURL reply is timed from its tweet id (a Twitter snowflake)
    assert s1["resolved_at"] == pd.Timestamp("2020-04-01T18:58:27Z")
    # without a snowflake id: header start + duration
    assert t.loc["s2", "resolved_at"] == pd.Timestamp("2020-04-02T10:30:00Z")


def test_messages(converted):
    m = converted.messages
    s1 = m[m["ticket_id"] == "s1"]
    assert list(s1["author_role"]) == ["customer", "agent", "customer", "agent"]
    assert list(s1["author_id"]) == ["ann", "TeamYouTube", "bob", "TeamYouTube"]
    assert s1["message_id"].is_unique and s1["message_id"].iloc[0] == "s1/1245403438755852288"
    assert m["message_id"].is_unique


def test_bad_conversations_are_quarantined(converted):
    reasons = list(converted.quarantine[REASON_COL])
    assert any("no dialogHeader" in r for r in reasons)
    assert any("s3 has no valid client turn" in r for r in reasons)
    assert any("neither 'client' nor 'agent'" in r for r in reasons)
    assert any("'soon' is not a valid time" in r for r in reasons)
    assert any("duplicate sessionID s1" in r for r in reasons)


def test_output_validates(converted, tmp_path):
    data = load_dataset(tickets=write_table(converted.tickets, tmp_path / "t.csv"),
                        messages=write_table(converted.messages, tmp_path / "m.csv"))
    assert data.n_quarantined() == 0


def test_jsonl_input_with_a_broken_line(tmp_path):
    path = tmp_path / "convs.jsonl"
    path.write_text(json.dumps(GOOD[0]) + "\n{broken\n", encoding="utf-8")
    result = read_ibm_cdp(path)
    assert len(result.tickets) == 1
    assert result.quarantine[REASON_COL].iloc[0].startswith("line is not JSON")


def test_unreadable_and_empty_inputs(tmp_path):
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(UnreadableFileError, match="not valid JSON"):
        read_ibm_cdp(tmp_path / "bad.json")
    (tmp_path / "none.json").write_text(json.dumps(BAD[:1]), encoding="utf-8")
    with pytest.raises(NoUsableRowsError):
        read_ibm_cdp(tmp_path / "none.json")
    (tmp_path / "empty.json").write_text("", encoding="utf-8")
    with pytest.raises(UnreadableFileError, match="empty"):
        read_ibm_cdp(tmp_path / "empty.json")


def test_cli(tmp_path, capsys):
    src = tmp_path / "dev.json"
    src.write_text(json.dumps(GOOD + BAD), encoding="utf-8")
    assert main(["convert", "ibm", "--input", str(src), "--out", str(tmp_path / "out")]) == 0
    assert "2 tickets" in capsys.readouterr().err
    assert (tmp_path / "out" / "quarantine" / "ibm.csv").exists()
    (tmp_path / "bad.json").write_text("[", encoding="utf-8")
    assert main(["convert", "ibm", "--input", str(tmp_path / "bad.json"), "--out", str(tmp_path / "o2")]) == 2


@pytest.mark.shared_data
def test_real_dev_file(shared_data):
    path = shared_data / "ibm_twitter_cdp" / "dev.json"
    if not path.exists():
        pytest.skip(f"{path} not found")
    result = read_ibm_cdp(path)
    assert len(result.tickets) == 525 and len(result.quarantine) == 0
    assert (result.tickets["status"] == "solved").all()
    assert (result.tickets["first_response_at"] >= result.tickets["created_at"]).all()
    assert (result.tickets["agent_replies"] >= 1).all()
    assert result.messages["message_id"].is_unique
