"""``cxlens validate`` end to end: exit codes, messages and quarantine files."""

from __future__ import annotations

import pandas as pd

from cxlens.cli import main
from cxlens.io import REASON_COL


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return str(path)


def test_bad_rows_are_quarantined_and_the_run_succeeds(tmp_path, capsys):
    tickets = write(tmp_path / "tickets.csv", "ticket_id,created_at,resolved_at,csat\n"
                    "1,2025-01-01T10:00:00,2025-01-01T12:00:00,5\n"
                    "1,2025-01-01T10:00:00,,4\n"
                    "2,not-a-date,,\n"
                    "3,2025-01-02T10:00:00,2025-01-01T10:00:00,\n"
                    "4,2025-01-02T10:00:00,,9\n")
    messages = write(tmp_path / "messages.csv", "ticket_id,sent_at,author_role\n"
                     "1,2025-01-01T10:05:00,agent\n1,2025-01-01T10:06:00,wizard\n99,2025-01-01T10:00:00,customer\n")
    out = tmp_path / "out"
    rc = main(["validate", "--tickets", tickets, "--messages", messages, "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 0
    assert "tickets: read 5, used 1, quarantined 4" in err
    assert "messages: read 3, used 1, quarantined 2" in err
    q = pd.read_csv(out / "quarantine" / "tickets.csv", dtype=str)
    assert list(q["ticket_id"]) == ["2", "3", "4", "1"] or sorted(q["ticket_id"]) == ["1", "2", "3", "4"]
    by_id = dict(zip(q["ticket_id"], q[REASON_COL]))
    assert by_id["2"] == "created_at is not a valid datetime"
    assert by_id["3"] == "resolved_at is before created_at"
    assert by_id["4"] == "csat is above 5"
    assert by_id["1"].startswith("duplicate ticket_id")
    assert (q["_source"] == tickets).all() and q["created_at"].tolist().count("not-a-date") == 1
    qm = pd.read_csv(out / "quarantine" / "messages.csv", dtype=str)
    assert sorted(qm[REASON_COL]) == ["author_role is not one of customer, agent, bot, system, note",
                                      "ticket_id is not in the tickets table"]


def test_all_rows_valid_says_so(tmp_path, capsys):
    tickets = write(tmp_path / "tickets.csv", "ticket_id,created_at\n1,2025-01-01\n")
    assert main(["validate", "--tickets", tickets, "--out", str(tmp_path / "o")]) == 0
    assert "all rows valid" in capsys.readouterr().err
    assert not (tmp_path / "o" / "quarantine").exists()


def test_nothing_usable_is_a_non_zero_exit(tmp_path, capsys):
    tickets = write(tmp_path / "tickets.csv", "ticket_id,created_at\n1,never\n2,\n")
    assert main(["validate", "--tickets", tickets, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "No usable tickets rows" in err and "created_at is not a valid datetime" in err


def test_unreadable_inputs_exit_non_zero_with_a_clear_message(tmp_path, capsys):
    cases = {
        "empty.csv": ("", "utf-8", "empty"),
        "header.csv": ("ticket_id,created_at\n", "utf-8", "header but no rows"),
        "latin.csv": ("ticket_id,created_at,text\n1,2025-01-01,ça va\n", "latin-1", "--encoding"),
    }
    for name, (text, encoding, expected) in cases.items():
        rc = main(["validate", "--tickets", write(tmp_path / name, text, encoding), "--out", str(tmp_path / "o")])
        err = capsys.readouterr().err
        assert rc == 2, name
        assert expected in err, (name, err)
        assert "Traceback" not in err


def test_encoding_option(tmp_path, capsys):
    path = write(tmp_path / "latin.csv", "ticket_id,created_at,text\n1,2025-01-01,ça va\n", "latin-1")
    assert main(["validate", "--tickets", path, "--encoding", "latin-1", "--out", str(tmp_path / "o")]) == 0


def test_missing_columns_exit_2_naming_all_of_them_and_the_file(tmp_path, capsys):
    path = write(tmp_path / "messages.csv", "conversation,text\nc1,hello\n")
    tickets = write(tmp_path / "tickets.csv", "ticket_id,created_at\n1,2025-01-01\n")
    rc = main(["validate", "--tickets", tickets, "--messages", path, "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2
    assert "author_role, sent_at, ticket_id" in err and path in err
    assert err.count("cxlens: error:") == 1


def test_map_option_renames_columns(tmp_path, capsys):
    path = write(tmp_path / "export.csv", "Ticket ID,Created,Channel\nZ-1,2025-01-01 09:00,Email\n")
    rc = main(["validate", "--tickets", path, "--map", "Ticket ID=ticket_id", "--map", "Created=created_at",
               "--out", str(tmp_path / "o")])
    assert rc == 0
    assert "tickets: read 1, used 1, quarantined 0" in capsys.readouterr().err
    rc = main(["validate", "--tickets", path, "--map", "Ticket ID=ticket_id,Created=created_at",
               "--out", str(tmp_path / "o")])
    assert rc == 0
    assert main(["validate", "--tickets", path, "--map", "nonsense", "--out", str(tmp_path / "o")]) == 2
    assert "THEIR_COLUMN=OUR_COLUMN" in capsys.readouterr().err


def test_stray_quote_and_bad_jsonl_line_through_the_cli(tmp_path, capsys):
    tickets = write(tmp_path / "tickets.csv",
                    'ticket_id,created_at,text\n1,2025-01-01,"oops\n2,2025-01-02,fine\n3,2025-01-03,fine\n')
    mentions = write(tmp_path / "mentions.jsonl",
                     '{"mention_id": "m1", "posted_at": "2025-01-01", "text": "hi"}\n{oops\n')
    rc = main(["validate", "--tickets", tickets, "--mentions", mentions, "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 0
    assert "tickets: read 3, used 2, quarantined 1" in err
    assert "mentions: read 2, used 1, quarantined 1" in err
    q = pd.read_csv(tmp_path / "o" / "quarantine" / "mentions.csv", dtype=str)
    assert q.loc[0, REASON_COL].startswith("line is not JSON") and q.loc[0, "_raw"] == "{oops"
