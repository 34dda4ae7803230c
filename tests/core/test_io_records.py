"""Row accounting: every record of a file is used or quarantined (with its line and raw text), never lost.

Each test below reproduces a way rows vanished or changed silently before the record reader (issue #19).
"""

from __future__ import annotations

import json
import os

import pandas as pd
import pytest

from cxlens.errors import DuplicateColumnsError, UnreadableFileError
from cxlens.io import load_table, read_files, read_frame
from cxlens.io_stream import iter_raw_chunks
from cxlens.pipelines.score._partition import partition_inputs, unreadable_files_error

HEADER = "ticket_id,created_at,channel,text"


def _rows(n: int, *, start: int = 0) -> list[str]:
    return [f"T{i},2025-03-{1 + i % 28:02d}T10:00:00Z,email,hello {i}" for i in range(start, start + n)]


def _write(path, lines: list[str], encoding: str = "utf-8") -> None:
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))


def test_a_stray_quote_costs_its_own_line_and_nothing_else(tmp_path):
    lines = [HEADER] + _rows(6)
    lines[2] = 'T1,2025-03-02T10:00:00Z,email,"oops'
    _write(tmp_path / "t.csv", lines)
    table = load_table(tmp_path / "t.csv", "tickets", allow_empty=True)
    assert table.frame["ticket_id"].tolist() == ["T0", "T2", "T3", "T4", "T5"]
    bad = table.quarantine
    assert len(bad) == 1 and bad["_line"].tolist() == [3] and bad["_row"].tolist() == [2]
    assert bad["_raw"].iloc[0] == lines[2] and "quote" in bad["_reason"].iloc[0]


def test_stray_quotes_in_a_thousand_rows_lose_no_row(tmp_path):
    lines = [HEADER] + _rows(1000)
    for i in range(5, 1000, 97):  # quotes that would pair up across lines
        lines[i + 1] = f'T{i},2025-03-02T10:00:00Z,email,"broken {i}'
    _write(tmp_path / "t.csv", lines)
    table = load_table(tmp_path / "t.csv", "tickets")
    assert table.n_read == 1000
    assert len(table.quarantine) == len(range(5, 1000, 97))
    chunks = list(iter_raw_chunks(tmp_path / "t.csv", chunk_rows=64))
    assert sum(len(c.frame) + len(c.unreadable) for c in chunks) == 1000


def test_multi_line_quoted_fields_are_still_one_record(tmp_path):
    (tmp_path / "t.csv").write_text(HEADER + '\nT0,2025-03-01,email,"line one\nline two, with a comma"\n'
                                    'T1,2025-03-01,email,"she said ""hi"""\n')
    frame, bad = read_frame(tmp_path / "t.csv")
    assert frame["text"].tolist() == ["line one\nline two, with a comma", 'she said "hi"'] and bad.empty


def test_an_unescaped_quote_inside_a_quoted_field_is_quarantined_not_rewritten(tmp_path):
    (tmp_path / "t.csv").write_text(HEADER + '\nT0,2025-03-01,email,"he said "hi" twice"\nT1,2025-03-01,email,ok\n')
    frame, bad = read_frame(tmp_path / "t.csv")
    assert frame["ticket_id"].tolist() == ["T1"]
    assert bad["_line"].tolist() == [2] and "unescaped quote" in bad["_reason"].iloc[0]


def test_too_few_and_too_many_fields_are_quarantined_with_their_line(tmp_path):
    (tmp_path / "t.csv").write_text(HEADER + "\nT0,2025-03-01,email,ok\nT1,2025-03-01\nT2,2025-03-01,email,a,b\n"
                                    "T3,2025-03-01,email,fine\n")
    table = load_table(tmp_path / "t.csv", "tickets")
    assert table.frame["ticket_id"].tolist() == ["T0", "T3"]
    bad = table.quarantine.sort_values("_line")
    assert bad["_line"].tolist() == [3, 4] and bad["_row"].tolist() == [2, 3]
    assert bad["_reason"].tolist() == ["wrong number of fields: 2 where the header has 4",
                                       "wrong number of fields: 5 where the header has 4"]


def test_a_latin1_byte_late_in_a_utf8_file_costs_one_row_not_half_the_file(tmp_path):
    lines = [HEADER] + _rows(3000)
    lines[2500] = "T2499,2025-03-01T10:00:00Z,email,caf\xe9"
    _write(tmp_path / "t.csv", lines, encoding="latin-1")
    work = tmp_path / "work"
    partition = partition_inputs(tickets=tmp_path / "t.csv", messages=None, work=work, chunk_rows=500)
    counts = partition.counts["tickets"]
    assert (counts.read, counts.used, counts.quarantined) == (3000, 2999, 1)
    assert unreadable_files_error(partition) is None
    quarantined = pd.concat([pd.read_csv(p) for p in (work / "quarantine").glob("*.csv")])
    offset = len(("\n".join(lines[:2500]) + "\n").encode("latin-1")) + len("T2499,2025-03-01T10:00:00Z,email,caf")
    assert quarantined["_line"].tolist() == [2501]
    assert f"byte {offset:,} of the file" in quarantined["_reason"].iloc[0]
    assert "latin-1" in quarantined["_reason"].iloc[0]
    assert load_table(tmp_path / "t.csv", "tickets", encoding="latin-1").quarantine.empty


def test_json_array_elements_that_are_not_objects_are_quarantined(tmp_path):
    (tmp_path / "t.json").write_text(json.dumps([{"ticket_id": "a", "created_at": "2025-01-01"}, "junk", 42, None,
                                                 {"ticket_id": "b", "created_at": "2025-01-02"}]))
    table = load_table(tmp_path / "t.json", "tickets")
    assert table.frame["ticket_id"].tolist() == ["a", "b"] and table.n_read == 5
    assert table.quarantine["_row"].tolist() == [2, 3, 4]
    assert table.quarantine["_raw"].tolist() == ['"junk"', "42", "null"]


def test_repeated_keys_in_json_lines_are_quarantined(tmp_path):
    (tmp_path / "t.jsonl").write_text('{"ticket_id": "a", "created_at": "2025-01-01"}\n'
                                      '{"ticket_id": "b", "ticket_id": "c", "created_at": "2025-01-01"}\n')
    table = load_table(tmp_path / "t.jsonl", "tickets")
    assert table.frame["ticket_id"].tolist() == ["a"]
    assert "repeats the key 'ticket_id'" in table.quarantine["_reason"].iloc[0]


def test_duplicate_column_names_are_an_error_naming_them(tmp_path):
    (tmp_path / "t.csv").write_text("ticket_id,created_at,csat,csat,ticket_id\nT0,2025-01-01,5,1,X\n")
    with pytest.raises(DuplicateColumnsError, match="'csat', 'ticket_id'"):
        read_frame(tmp_path / "t.csv")


def test_symlinks_inside_an_input_folder_are_refused_unless_followed(tmp_path):
    folder = tmp_path / "tickets"
    folder.mkdir()
    _write(folder / "a.csv", [HEADER] + _rows(2))
    secret = tmp_path / "secret.csv"
    _write(secret, [HEADER] + _rows(1, start=9))
    os.symlink(secret, folder / "b.csv")
    with pytest.raises(UnreadableFileError, match="symbolic link") as info:
        read_frame(folder)
    assert "b.csv" in str(info.value) and "follow_symlinks" in str(info.value)
    frame, _ = read_frame(folder, follow_symlinks=True)
    assert len(frame) == 3


def test_counts_prove_records_equal_rows_plus_set_aside(tmp_path):
    _write(tmp_path / "t.csv", [HEADER, "", *_rows(3), "T9,x", "", ""])
    _, bad, counts = read_files(tmp_path / "t.csv")
    (count,) = counts
    assert (count.records, count.rows, count.malformed, count.blank_lines) == (4, 3, 1, 3)


def test_a_file_broken_part_way_stops_score_unless_skipped(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = tmp_path / "tickets"
    folder.mkdir()
    _write(folder / "a.csv", [HEADER] + _rows(10))
    table = pa.table({"ticket_id": [f"P{i}" for i in range(100)], "created_at": ["2025-01-01"] * 100})
    pq.write_table(table, folder / "b.parquet", row_group_size=10)
    data = (folder / "b.parquet").read_bytes()
    (folder / "b.parquet").write_bytes(data[:4] + b"\0" * 200 + data[204:])  # corrupt the first row groups
    partition = partition_inputs(tickets=folder, messages=None, work=tmp_path / "work", chunk_rows=10)
    error = unreadable_files_error(partition)
    assert error is not None and "b.parquet" in str(error) and "skip_unreadable" in str(error)


@pytest.mark.parametrize("block", [7, 64, 1 << 20])
def test_block_boundaries_change_nothing(tmp_path, monkeypatch, block):
    from cxlens import _records

    lines = [HEADER] + _rows(40)
    lines[5] = 'T4,2025-03-02T10:00:00Z,email,"a field\nover three\nlines"'
    lines[9] = 'T8,2025-03-02T10:00:00Z,email,"stray'
    lines[20] = 'T19,2025-03-02T10:00:00Z,email,"he said "hi""'
    lines[30] = "T29,2025-03-02T10:00:00Z,email,caf\xe9"
    (tmp_path / "t.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode("latin-1"))
    monkeypatch.setattr(_records, "BLOCK_BYTES", block)
    frame, bad, (count,) = read_files(tmp_path / "t.csv")
    assert (count.records, count.rows, count.malformed) == (40, 37, 3)
    assert frame.loc[frame["ticket_id"] == "T4", "text"].item() == "a field\nover three\nlines"
    assert bad["_line"].tolist() == [12, 23, 33] and bad["_row"].tolist() == [9, 20, 30]


def test_a_mapping_that_makes_two_columns_one_name_is_an_error(tmp_path):
    # a second ticket_id must not silently hide agent_id (the probe's case)
    (tmp_path / "t.csv").write_text("ticket_id,created_at,agent_id\nT0,2025-01-01,A1\n")
    with pytest.raises(DuplicateColumnsError, match="'ticket_id'.*'agent_id' -> 'ticket_id'"):
        load_table(tmp_path / "t.csv", "tickets", mapping={"agent_id": "ticket_id"})


def test_a_broken_file_in_score_keeps_its_own_advice_and_says_how_to_skip_it(tmp_path):
    from cxlens.cli._flags import flags_for

    folder = tmp_path / "tickets"
    folder.mkdir()
    _write(folder / "a.csv", [HEADER] + _rows(3))
    (folder / "b.csv").write_bytes("ticket_id,created_at,réponse\nT9,2025-01-01,ok\n".encode("latin-1"))
    error = unreadable_files_error(partition_inputs(tickets=folder, messages=None, work=tmp_path / "w", chunk_rows=2))
    cli = error.cli_message(flags_for(error.params))
    assert "b.csv" in cli and "--encoding latin-1" in cli and "--skip-unreadable" in cli
    assert "encoding=" not in cli and "skip_unreadable" not in cli


def test_a_field_longer_than_pythons_csv_limit_is_read(tmp_path):
    """An email thread or a call transcript of 300,000 characters is a value, not an unreadable record (Python's
    csv module stops at 131,072 by default), and its ticket keeps its messages."""
    from cxlens.io import read_frame

    path = tmp_path / "tickets.csv"
    pd.DataFrame({"ticket_id": ["T1", "T2", "T3"], "text": ["short", "x" * 300_000, "after"]}).to_csv(path, index=False)
    frame, unreadable = read_frame(path)
    assert len(unreadable) == 0
    assert frame["text"].str.len().tolist() == [5, 300_000, 5]


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
def test_a_quarantine_file_read_back_keeps_its_own_row_and_source_columns(tmp_path, fmt):
    """A quarantine file, fixed and fed back, has ``_source`` and ``_row`` itself: they are kept as
    ``_source_in_file`` / ``_row_in_file`` (and so on, read back again) beside this read's own."""
    frame = pd.DataFrame({"_source": ["a.csv", "a.csv"], "_row": [2, 5], "ticket_id": ["T1", "T2"],
                          "_reason": ["bad date", "bad date"]})
    path = tmp_path / f"quarantine.{fmt}"
    {"csv": lambda: frame.to_csv(path, index=False), "parquet": lambda: frame.to_parquet(path),
     "jsonl": lambda: frame.to_json(path, orient="records", lines=True)}[fmt]()
    read, unreadable = read_frame(path)
    assert len(unreadable) == 0 and read["_row"].tolist() == [1, 2]
    assert read["_row_in_file"].astype(str).tolist() == ["2", "5"] and read["_source_in_file"].tolist() == ["a.csv"] * 2
    read.drop(columns=["_source", "_row"]).assign(_source="x", _row=1).to_parquet(tmp_path / "again.parquet")
    again, _ = read_frame(tmp_path / "again.parquet")
    assert {"_row_in_file", "_row_in_file_2", "_source_in_file_2"} <= set(again.columns)
    assert again["_row_in_file_2"].astype(str).tolist() == ["2", "5"]  # the first read-back's, moved up one


def test_spaces_around_header_names_are_not_part_of_them(tmp_path):
    from cxlens.io import load_table

    path = tmp_path / "tickets.csv"
    path.write_text("ticket_id , created_at,channel\nT1,2025-01-01T10:00:00Z,email\n", encoding="utf-8")
    frame, _ = read_frame(path)
    assert {"ticket_id", "created_at", "channel"} <= set(frame.columns)
    assert len(load_table(path, "tickets").frame) == 1


def test_a_missing_column_suggests_a_header_written_another_way():
    from cxlens.errors import MissingColumnsError

    error = MissingColumnsError(table="tickets", missing=["ticket_id", "created_at"],
                                present=["Ticket ID", "Created-At", "channel"])
    assert set(error.renames) == {("Ticket ID", "ticket_id"), ("Created-At", "created_at")}
