"""Chunked reading: every row comes back once, in order, with its source line; bad lines and files are reported."""

from __future__ import annotations

import pandas as pd
import pytest

from cxlens.errors import UnreadableFileError
from cxlens.io_stream import file_fingerprint, iter_raw_chunks


def test_jsonl_chunks_keep_line_numbers_and_report_bad_lines(tmp_path):
    f = tmp_path / "t.jsonl"
    f.write_text('{"ticket_id":"a"}\nnot json\n\n{"ticket_id":"b"}\n[1]\n{"ticket_id":"c"}\n')
    chunks = list(iter_raw_chunks(f, chunk_rows=2))
    rows = pd.concat([c.frame for c in chunks])
    # _row numbers records (blank lines are not records); _line is the line of a set-aside record
    assert rows["ticket_id"].tolist() == ["a", "b", "c"] and rows["_row"].tolist() == [1, 3, 5]
    bad = pd.concat([c.unreadable for c in chunks])
    assert bad["_row"].tolist() == [2, 4] and bad["_line"].tolist() == [2, 5]
    assert bad["_reason"].str.contains("not JSON|not an object").all()


def test_csv_chunks_cover_every_row_and_survive_a_stray_quote(tmp_path):
    f = tmp_path / "t.csv"
    lines = ["ticket_id,text"] + [f"T{i},hello {i}" for i in range(7)]
    f.write_text("\n".join(lines) + "\n")
    rows = pd.concat([c.frame for c in iter_raw_chunks(f, chunk_rows=3)])
    assert rows["ticket_id"].tolist() == [f"T{i}" for i in range(7)]
    assert rows["_row"].tolist() == list(range(1, 8))
    broken = tmp_path / "broken.csv"
    broken.write_text("ticket_id,text\nT0,ok\nT1,\"never closed\nT2,fine\n")
    got = list(iter_raw_chunks(broken, chunk_rows=1))
    kept = pd.concat([c.frame for c in got])
    assert "T0" in set(kept["ticket_id"])


def test_parquet_chunks_and_a_corrupt_file_in_a_folder(tmp_path):
    pd.DataFrame({"ticket_id": [f"T{i}" for i in range(5)]}).to_parquet(tmp_path / "a.parquet")
    (tmp_path / "b.parquet").write_bytes(b"PAR1 broken")
    problems: list = []
    rows = pd.concat([c.frame for c in iter_raw_chunks(tmp_path, chunk_rows=2, problems=problems)])
    assert rows["ticket_id"].tolist() == [f"T{i}" for i in range(5)]
    assert [p.source.endswith("b.parquet") for p in problems] == [True]
    with pytest.raises(UnreadableFileError, match="b.parquet"):
        list(iter_raw_chunks(tmp_path, chunk_rows=2))


def test_fingerprint_changes_with_the_content(tmp_path):
    f = tmp_path / "x.csv"
    f.write_text("a\n1\n")
    first = file_fingerprint(f)
    f.write_text("a\n2\n")
    assert first["sha256"] != file_fingerprint(f)["sha256"] and first["bytes"] == 4
