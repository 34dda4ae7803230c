"""Fuzzing the readers with random corruptions of the example archive (issue #19).

For every corruption (stray quotes, odd bytes, truncation, extra or missing separators, JSON junk): no traceback,
and for each file ``records = used + quarantined`` (``load_table`` proves it; here it is checked again from the
outside, and the streaming reader must count the same), or one clear cxlens error.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxlens.cli import main
from cxlens.errors import CxlensError
from cxlens.example_data import example_archive_path
from cxlens.io import load_table, read_files
from cxlens.io_stream import iter_raw_chunks

N_LINES = 40
FUZZ = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _sample(table: str) -> bytes:
    lines = (example_archive_path() / f"{table}.csv").read_bytes().splitlines(keepends=True)
    return b"".join(lines[:N_LINES])


def _as_jsonl(csv_bytes: bytes) -> bytes:
    import io

    frame = pd.read_csv(io.BytesIO(csv_bytes), dtype=str, keep_default_na=False)
    return "".join(json.dumps(r) + "\n" for r in frame.to_dict("records")).encode()


TICKETS_CSV = _sample("tickets")
MESSAGES_CSV = _sample("messages")
JUNK = [b'"', b'""', b",", b"\n", b"\r", b"\r\n", b"\x00", b"\xff", b"\xe9", b"\xef\xbb\xbf", b"\t", b"=cmd|' /C calc'!A0",
        b"{", b"}", b"[", b"]", b"null", b"\\", b"\xc3", b"\x80"]


@st.composite
def corrupted(draw, data: bytes) -> bytes:
    """``data`` with 1-4 random edits: insert junk, overwrite a byte, delete a span, or truncate."""
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["insert", "overwrite", "delete", "truncate"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "insert":
            data = data[:at] + draw(st.sampled_from(JUNK)) + data[at:]
        elif kind == "overwrite":
            data = data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1:]
        elif kind == "delete":
            data = data[:at] + data[at + draw(st.integers(1, 80)):]
        else:
            data = data[:at]
    return data


def _check(path, table: str) -> None:
    """Either a clear cxlens error, or every record accounted for, the same whole and streamed."""
    try:
        _, _, counts = read_files(path)
    except CxlensError:
        return
    records = sum(c.records for c in counts)
    try:
        loaded = load_table(path, table, allow_empty=True)
    except CxlensError:  # e.g. a header that lost a required column
        return
    assert loaded.n_read == records == len(loaded.frame) + len(loaded.quarantine)
    streamed = list(iter_raw_chunks(path, chunk_rows=7))
    assert sum(len(c.frame) + len(c.unreadable) for c in streamed) == records


def _check_bytes(tmp_path_factory, name: str, data: bytes) -> None:
    """Write ``data`` as the file ``name`` (``tickets.csv``...) and :func:`_check` it against its table."""
    path = tmp_path_factory.mktemp("fuzz") / name
    path.write_bytes(data)
    _check(path, name.split(".")[0])


@FUZZ
@given(data=corrupted(TICKETS_CSV))
def test_corrupted_tickets_csv(tmp_path_factory, data):
    _check_bytes(tmp_path_factory, "tickets.csv", data)


@FUZZ
@given(data=corrupted(MESSAGES_CSV))
def test_corrupted_messages_csv(tmp_path_factory, data):
    _check_bytes(tmp_path_factory, "messages.csv", data)


@FUZZ
@given(data=corrupted(_as_jsonl(TICKETS_CSV)))
def test_corrupted_tickets_jsonl(tmp_path_factory, data):
    _check_bytes(tmp_path_factory, "tickets.jsonl", data)


@FUZZ
@given(elements=st.lists(st.one_of(
    st.fixed_dictionaries({"ticket_id": st.text(max_size=5), "created_at": st.sampled_from(
        ["2025-01-01", "2025-01-01T10:00:00Z", "-1", "04.03.2025", "", "inf"])}),
    st.none(), st.integers(), st.text(max_size=5), st.lists(st.integers(), max_size=2)), max_size=12))
def test_json_arrays_with_junk_elements(tmp_path_factory, elements):
    path = tmp_path_factory.mktemp("fuzz") / "tickets.json"
    path.write_text(json.dumps(elements))
    _check(path, "tickets")
    if elements:
        _, _, (count,) = read_files(path)
        assert count.records == len(elements)
        assert count.malformed == sum(not isinstance(e, dict) for e in elements)


@pytest.mark.parametrize("seed", range(6))
def test_the_validate_command_never_shows_a_traceback(tmp_path, capsys, seed):
    import random

    rng = random.Random(seed)
    data = bytearray(TICKETS_CSV)
    for _ in range(5):
        at = rng.randrange(len(data))
        data[at:at] = rng.choice(JUNK)
    (tmp_path / "tickets.csv").write_bytes(bytes(data))
    code = main(["validate", "--tickets", str(tmp_path / "tickets.csv"), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code in (0, 2) and "Traceback" not in err
    if code == 0:
        line = next(x for x in err.splitlines() if x.startswith("cxlens: tickets: read"))
        read, used, quarantined = (int(part.split()[-1].replace(",", "")) for part in line.split(":")[2].split(","))
        assert read == used + quarantined
