"""File-level reading: empty, header-only, encodings, broken CSV/JSONL, Parquet, folders, missing columns."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from cxlens.errors import MissingColumnsError, NoUsableRowsError, UnreadableFileError
from cxlens.io import REASON_COL, ROW_COL, SOURCE_COL, load_table, read_frame

HEADER = "ticket_id,created_at,channel,text\n"


def write(path, text: str, encoding: str = "utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


def test_empty_file_is_a_clear_error(tmp_path):
    path = write(tmp_path / "tickets.csv", "")
    with pytest.raises(UnreadableFileError, match="empty"):
        load_table(path, "tickets")


def test_header_only_has_no_usable_rows(tmp_path):
    path = write(tmp_path / "tickets.csv", HEADER)
    with pytest.raises(NoUsableRowsError, match="header but no rows"):
        load_table(path, "tickets")
    assert len(load_table(path, "tickets", allow_empty=True).frame) == 0


def test_latin1_bytes_say_which_encoding_to_pass(tmp_path):
    path = write(tmp_path / "tickets.csv", HEADER + "1,2025-01-01T10:00:00,email,Café déjà vu\n", "latin-1")
    # the row is quarantined with the byte and the encoding to give (not half the file lost); here it is the only
    # row, so nothing is usable and the error says why
    with pytest.raises(NoUsableRowsError, match="not valid utf-8 text .byte 65 of the file.*latin-1"):
        load_table(path, "tickets")
    loaded = load_table(path, "tickets", encoding="latin-1")
    assert loaded.frame.loc[0, "text"] == "Café déjà vu"


def test_utf8_bom_is_accepted(tmp_path):
    path = tmp_path / "tickets.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (HEADER + "1,2025-01-01T10:00:00,email,hi\n").encode())
    assert list(load_table(path, "tickets").frame["ticket_id"]) == ["1"]


def test_stray_quote_sets_aside_one_line_and_keeps_the_rest(tmp_path):
    rows = [f"{i},2025-01-0{i}T10:00:00,email,ok {i}" for i in range(1, 7)]
    rows[2] = '3,2025-01-03T10:00:00,email,"she said hi'  # unbalanced quote would swallow the rest
    path = write(tmp_path / "tickets.csv", HEADER + "\n".join(rows) + "\n")
    loaded = load_table(path, "tickets")
    assert list(loaded.frame["ticket_id"]) == ["1", "2", "4", "5", "6"]
    assert len(loaded.quarantine) == 1
    row = loaded.quarantine.iloc[0]
    assert "unbalanced quote" in row[REASON_COL] and row[ROW_COL] == 3 and "she said hi" in row["_raw"]
    assert loaded.n_read == 6


def test_line_with_too_many_fields_is_quarantined(tmp_path):
    path = write(tmp_path / "tickets.csv",
                 HEADER + "1,2025-01-01T10:00:00,email,a\n2,2025-01-02T10:00:00,email,b,EXTRA\n3,2025-01-03,chat,c\n")
    loaded = load_table(path, "tickets")
    assert list(loaded.frame["ticket_id"]) == ["1", "3"]
    assert "wrong number of fields" in loaded.quarantine.iloc[0][REASON_COL]
    assert "EXTRA" in loaded.quarantine.iloc[0]["_raw"]


def test_mid_field_quote_is_just_a_character(tmp_path):
    path = write(tmp_path / "tickets.csv", HEADER + '1,2025-01-01T10:00:00,email,he said "hi\n')
    assert load_table(path, "tickets").frame.loc[0, "text"] == 'he said "hi'


def test_jsonl_line_that_is_not_json(tmp_path):
    path = write(tmp_path / "tickets.jsonl",
                 '{"ticket_id": "a", "created_at": "2025-01-01T10:00:00Z"}\n'
                 '{"ticket_id": "b", "created_at": \n'
                 '["not", "an", "object"]\n'
                 '{"ticket_id": "c", "created_at": "2025-01-02T10:00:00Z"}\n')
    loaded = load_table(path, "tickets")
    assert list(loaded.frame["ticket_id"]) == ["a", "c"]
    reasons = dict(zip(loaded.quarantine[ROW_COL], loaded.quarantine[REASON_COL]))
    assert reasons[2].startswith("line is not JSON") and reasons[3] == "line is JSON but not an object (an array)"
    assert loaded.summary() == {"table": "tickets", "read": 4, "used": 2, "quarantined": 2}


def test_broken_json_array_is_unreadable(tmp_path):
    path = write(tmp_path / "tickets.json", '[{"ticket_id": "a",')
    with pytest.raises(UnreadableFileError, match="not valid JSON"):
        load_table(path, "tickets")


def test_unknown_suffix_and_missing_file(tmp_path):
    with pytest.raises(UnreadableFileError, match="Cannot tell the format"):
        load_table(write(tmp_path / "tickets.xlsx", "x"), "tickets")
    with pytest.raises(UnreadableFileError, match="does not exist"):
        load_table(tmp_path / "nope.csv", "tickets")


def test_missing_required_columns_one_error_naming_all_and_the_file(tmp_path):
    path = write(tmp_path / "messages.csv", "id,when,who,text\n1,2025-01-01,agent,hi\n")
    with pytest.raises(MissingColumnsError) as info:
        load_table(path, "messages")
    message = str(info.value)
    for col in ("ticket_id", "sent_at", "author_role"):
        assert col in message
    assert str(path) in message
    assert info.value.missing == ["author_role", "sent_at", "ticket_id"]


def test_missing_column_suggests_a_mapping(tmp_path):
    path = write(tmp_path / "tickets.csv", "ticket_ids,created_at\n1,2025-01-01\n")
    with pytest.raises(MissingColumnsError, match=re.escape("Perhaps: mapping={'ticket_ids': 'ticket_id'}.")) as info:
        load_table(path, "tickets")
    assert "--map" not in str(info.value)


def test_column_mapping_renames_on_read(tmp_path):
    path = write(tmp_path / "tickets.csv", "Ticket ID,Opened\nX1,2025-01-01T10:00:00\n")
    loaded = load_table(path, "tickets", mapping={"Ticket ID": "ticket_id", "Opened": "created_at"})
    assert loaded.frame.loc[0, "ticket_id"] == "X1"
    assert loaded.frame.loc[0, "created_at"] == pd.Timestamp("2025-01-01T10:00:00", tz="UTC")


def test_parquet_keeps_native_types(tmp_path):
    frame = pd.DataFrame({"ticket_id": [1, 2], "created_at": pd.to_datetime(["2025-01-01", "2025-01-02"]),
                          "csat": [5.0, None], "reopened": [True, False], "team": ["Billing ", "care"]})
    path = tmp_path / "tickets.parquet"
    frame.to_parquet(path)
    loaded = load_table(path, "tickets")
    out = loaded.frame
    assert list(out["ticket_id"]) == ["1", "2"]
    assert str(out["created_at"].dt.tz) == "UTC"
    assert out["reopened"].dtype == "boolean" and out["csat"].dtype == "float64"
    assert list(out["team"]) == ["billing", "care"]


def test_folder_of_files_is_one_table_with_sources(tmp_path):
    folder = tmp_path / "tickets"
    folder.mkdir()
    write(folder / "2025-01.csv", HEADER + "1,2025-01-01T10:00:00,email,a\n")
    write(folder / "2025-02.jsonl", '{"ticket_id": "2", "created_at": "2025-02-01T10:00:00Z"}\n'
                                    '{"ticket_id": "3", "created_at": "not a date"}\n')
    write(folder / ".hidden.csv", HEADER)
    write(folder / "notes.txt", "ignored")
    loaded = load_table(folder, "tickets")
    assert sorted(loaded.frame["ticket_id"]) == ["1", "2"]
    assert loaded.quarantine.iloc[0][SOURCE_COL].endswith("2025-02.jsonl")
    raw, _ = read_frame(folder)
    assert raw[SOURCE_COL].str.endswith(("2025-01.csv", "2025-02.jsonl")).all()


def test_empty_folder_is_unreadable(tmp_path):
    with pytest.raises(UnreadableFileError, match="holds no"):
        load_table(tmp_path, "tickets")


def test_stray_quote_after_a_multiline_field(tmp_path):
    text = (HEADER + '1,2025-01-01T10:00:00,email,"two\nlines, quoted"\n'
            '2,2025-01-02T10:00:00,email,fine\n3,2025-01-03T10:00:00,email,"oops\n'
            '4,2025-01-04T10:00:00,email,fine\n5,2025-01-05T10:00:00,chat,last\n')
    loaded = load_table(write(tmp_path / "tickets.csv", text), "tickets")
    assert list(loaded.frame["ticket_id"]) == ["1", "2", "4", "5"]
    assert loaded.frame.loc[0, "text"] == "two\nlines, quoted"
    assert list(loaded.quarantine[ROW_COL]) == [3]
    assert list(loaded.frame[ROW_COL]) == [1, 2, 4, 5]
    assert loaded.summary()["read"] == 5
