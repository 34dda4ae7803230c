"""Row-level validation: every bad row goes to quarantine with its reason; read = used + quarantined."""

from __future__ import annotations

import pandas as pd
import pytest

from cxlens.io import REASON_COL, load_table, write_quarantine


def load_csv(tmp_path, table: str, text: str, **kwargs):
    path = tmp_path / f"{table}.csv"
    path.write_text(text, encoding="utf-8")
    return load_table(path, table, **kwargs)


def reasons(loaded) -> dict[str, str]:
    key = loaded.quarantine.columns[2]  # after _source, _row
    return dict(zip(loaded.quarantine[key].astype(str), loaded.quarantine[REASON_COL]))


def test_unparseable_timestamp(tmp_path):
    loaded = load_csv(tmp_path, "tickets", "ticket_id,created_at,first_response_at\n"
                      "1,2025-01-01T10:00:00,2025-01-01T11:00:00\n"
                      "2,yesterday,\n"
                      "3,2025-01-03T10:00:00,31/31/2025\n")
    assert list(loaded.frame["ticket_id"]) == ["1"]
    got = reasons(loaded)
    assert got["2"] == "created_at is not a valid datetime"
    assert got["3"] == "first_response_at is not a valid datetime"
    assert loaded.quarantine.loc[0, "created_at"] == "yesterday"  # the row as given


def test_duplicate_ticket_id_keeps_the_first(tmp_path):
    loaded = load_csv(tmp_path, "tickets", "ticket_id,created_at,channel\n"
                      "1,2025-01-01T10:00:00,email\n1,2025-01-02T10:00:00,chat\n2,2025-01-02T10:00:00,chat\n")
    assert list(loaded.frame["channel"]) == ["email", "chat"]
    assert "duplicate ticket_id" in loaded.quarantine.loc[0, REASON_COL]


def test_an_invalid_first_copy_does_not_push_out_a_valid_duplicate(tmp_path):
    loaded = load_csv(tmp_path, "tickets", "ticket_id,created_at\n1,never\n1,2025-01-02T10:00:00\n")
    assert len(loaded.frame) == 1 and loaded.frame.loc[0, "created_at"].day == 2


def test_resolved_before_created(tmp_path):
    loaded = load_csv(tmp_path, "tickets", "ticket_id,created_at,resolved_at\n"
                      "1,2025-01-02T10:00:00,2025-01-01T10:00:00\n2,2025-01-02T10:00:00,\n")
    assert list(loaded.frame["ticket_id"]) == ["2"]
    assert reasons(loaded)["1"] == "resolved_at is before created_at"


def test_scores_off_their_scale(tmp_path):
    loaded = load_csv(tmp_path, "surveys", "kind,score,responded_at,ticket_id\n"
                      "csat,5,2025-01-01,a\ncsat,6,2025-01-01,b\nnps,11,2025-01-01,c\nnps,0,2025-01-01,d\n"
                      "ces,0,2025-01-01,e\nmood,3,2025-01-01,f\ncsat,,2025-01-01,g\n")
    assert sorted(loaded.frame["ticket_id"]) == ["a", "d"]
    got = dict(zip(loaded.quarantine["ticket_id"], loaded.quarantine[REASON_COL]))
    assert "outside its kind's scale" in got["b"] and "outside" in got["c"] and "outside" in got["e"]
    assert got["f"].startswith("kind is not one of")
    assert got["g"] == "score is empty"
    tickets = load_csv(tmp_path, "tickets", "ticket_id,created_at,csat,nps,contacts\n"
                       "1,2025-01-01,7,,\n2,2025-01-01,3,10,1.5\n3,2025-01-01,4,9,-1\n4,2025-01-01,4,9,2\n")
    got = reasons(tickets)
    assert got["1"] == "csat is above 5"
    assert got["2"] == "contacts is not a whole number"
    assert got["3"] == "contacts is below 0"


def test_unknown_role_and_bad_booleans(tmp_path):
    loaded = load_csv(tmp_path, "messages", "ticket_id,sent_at,author_role,message_id\n"
                      "1,2025-01-01T10:00:00,Customer,m1\n1,2025-01-01T10:01:00,robot,m2\n"
                      "1,2025-01-01T10:02:00,,m3\n")
    assert list(loaded.frame["author_role"]) == ["customer"]
    got = dict(zip(loaded.quarantine["message_id"], loaded.quarantine[REASON_COL]))
    assert got["m2"].startswith("author_role is not one of customer, agent, bot, system, note")
    assert got["m3"] == "author_role is empty"
    flags = load_csv(tmp_path, "tickets", "ticket_id,created_at,reopened\n1,2025-01-01,yes\n2,2025-01-01,maybe\n")
    assert reasons(flags)["2"] == "reopened is not a valid bool"
    assert bool(flags.frame.loc[0, "reopened"]) is True


def test_every_problem_of_a_row_is_listed(tmp_path):
    loaded = load_csv(tmp_path, "tickets", "ticket_id,created_at,csat,status\n1,whenever,9,lost\n"
                      "2,2025-01-01,5,open\n")
    reason = loaded.quarantine.loc[0, REASON_COL]
    assert sorted(reason.split("; ")) == ["created_at is not a valid datetime", "csat is above 5",
                                          "status is not one of new, open, pending, on_hold, solved, closed"]


def test_naive_and_offset_timestamps_become_utc(tmp_path):
    loaded = load_csv(tmp_path, "tickets", "ticket_id,created_at\n"
                      "naive,2025-03-01T10:00:00\noffset,2025-03-01T10:00:00+02:00\nzulu,2025-03-01T10:00:00Z\n"
                      "space,2025-03-01 10:00:00\ndate,2025-03-01\nfrac,2025-03-01T10:00:00.250-05:00\n")
    got = dict(zip(loaded.frame["ticket_id"], loaded.frame["created_at"]))
    assert str(loaded.frame["created_at"].dt.tz) == "UTC"
    assert got["naive"] == pd.Timestamp("2025-03-01T10:00:00Z")
    assert got["offset"] == pd.Timestamp("2025-03-01T08:00:00Z")
    assert got["zulu"] == got["naive"] == got["space"]
    assert got["date"] == pd.Timestamp("2025-03-01T00:00:00Z")
    assert got["frac"] == pd.Timestamp("2025-03-01T15:00:00.250Z")


def test_canonical_types(tmp_path):
    loaded = load_csv(tmp_path, "tickets", "ticket_id,created_at,channel,handle_time_s,self_service,extra\n"
                      "007,2025-01-01,Web Form,12,TRUE,x\n")
    row = loaded.frame.iloc[0]
    assert row["ticket_id"] == "007"  # ids stay strings, leading zeros kept
    assert row["channel"] == "web_form"
    assert loaded.frame["handle_time_s"].dtype == "float64"
    assert loaded.frame["self_service"].dtype == "boolean"
    assert row["extra"] == "x"  # extra columns pass through


def test_read_equals_used_plus_quarantined(tmp_path):
    lines = ["ticket_id,created_at,resolved_at"]
    lines += [f"{i},2025-01-01T10:00:00,2025-01-02T10:00:00" for i in range(50)]
    lines += ["bad,soon,", "1,2025-01-01,", "x,2025-01-02,2025-01-01", "y,2025-01-01,2025-01-02,extra"]
    loaded = load_csv(tmp_path, "tickets", "\n".join(lines) + "\n")
    summary = loaded.summary()
    assert summary["read"] == 54 == summary["used"] + summary["quarantined"]
    assert summary["quarantined"] == 4
    written = write_quarantine([loaded], tmp_path / "out")
    back = pd.read_csv(written["tickets"], dtype=str)
    assert len(back) == 4 and back[REASON_COL].notna().all()


@pytest.mark.parametrize("table,header", [
    ("accounts", "account_id,signup_at,churned_at\n1,2025-02-01,2025-01-01\n2,2025-01-01,\n"),
    ("mentions", "mention_id,posted_at,text,replied_at\n1,2025-01-02,hi,2025-01-01\n2,2025-01-01,ok,\n"),
])
def test_time_order_checks_of_other_tables(tmp_path, table, header):
    loaded = load_csv(tmp_path, table, header)
    assert len(loaded.frame) == 1 and len(loaded.quarantine) == 1
    assert "before" in loaded.quarantine.loc[0, REASON_COL]
