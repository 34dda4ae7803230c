"""The tables ``cxlens kpis compute`` needs, read in chunks: messages never held, free text never read.

No KPI reads a message: messages only give each ticket its ``first_response_at`` and ``agent_replies`` where
the ticket lacks them (:func:`cxlens.dataset.derive_ticket_fields`). So messages are streamed chunk by chunk
(validated, de-duplicated, checked against the tickets, and reduced to three numbers per ticket), and the other
tables are kept without the columns no KPI reads. Optional free-text columns (ticket subject and text, message
text) are not read at all, which a Parquet file skips on disk; every other schema column is read and validated
as loading the whole table does (a bad author id still quarantines its message), then dropped when no KPI reads
it; columns no schema declares are read only when a KPI or the grouping reads them. The result equals
:func:`cxlens.dataset.load_dataset` followed by :func:`cxlens.pipelines.kpi_report.kpi_tables`
(tests/pipelines/test_kpi_stream.py), except that a quarantined row holds the columns read (plus ``_source``,
``_row`` pointing at the full record) and that message ids are told apart by 64-bit hashes.

What crosses chunks: per ticket 8 bytes of hash, its position, and the three derived numbers; per message
8 bytes of hash (:mod:`cxlens._keys`). Peak memory is the narrow tables plus two chunks: the one in use and the
next, read and validated meanwhile in a background thread (:mod:`cxlens._prefetch`).
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from cxlens._keys import IdIndex, SeenHashes, id_hashes
from cxlens._memory import give_back_memory
from cxlens._prefetch import prefetched
from cxlens._records import header_names
from cxlens.dataset import fill_derived, reply_figures
from cxlens.errors import ConfigError
from cxlens.io import (ROW_COL, SOURCE_COL, ValueRules, check_columns, file_format, reading_encoding, reason_counts,
                       validate_frame)
from cxlens.io_stream import RecordCount, check_accounted, input_files, iter_raw_chunks
from cxlens.metrics import Tables, make_tables
from cxlens.pipelines.validate import QuarantineFile, TableCheck, rows_set_aside
from cxlens.schema import get_schema

__all__ = ["streamed_kpi_tables"]

log = logging.getLogger(__name__)
Progress = Callable[[str, int, int | None], None]
#: columns validated (or not read at all) that no KPI reads: dropped from the kept tables
UNUSED = {"tickets": ("subject", "text"), "mentions": ("text", "author"), "accounts": (), "surveys": (),
          "messages": ()}
DUPLICATE = "duplicate {key} (the first occurrence is kept)"
ORPHAN = "ticket_id is not in the tickets table"


class _Reader:
    """One table's chunks, validated, with its counts and quarantine file."""

    def __init__(self, table: str, path, *, out: Path, mapping: Mapping[str, str] | None, encoding: str,
                 rules: ValueRules | None, follow_symlinks: bool, chunk_rows: int, progress: Progress,
                 by: tuple[str, ...] = ()) -> None:
        self.table, self.path, self.mapping = table, path, dict(mapping or {})
        self.schema = get_schema(table)
        self.kinds = {c.name: c.kind for c in self.schema.columns}
        if table == "messages":  # message ids are de-duplicated by hash across chunks, not by pandas per chunk
            self.schema = replace(self.schema, key=None)
        self.options = dict(chunk_rows=chunk_rows, encoding=encoding, follow_symlinks=follow_symlinks)
        self.rules, self.progress = rules, progress
        self.quarantine = QuarantineFile(out / "quarantine" / f"{table}.csv")
        self.check = TableCheck(table, source=str(path))
        self.extra = set() if table == "messages" else kpi_columns(table) | set(by)
        self.seen_columns: set[str] = set()
        self.header_checked = False

    def keep(self, raw_name: str) -> bool:
        """Read every schema column but the optional free texts (validated columns stay validated); columns of
        no schema only when a KPI or the grouping reads them."""
        name = self.mapping.get(raw_name, raw_name)
        kind = self.kinds.get(name)
        if kind is not None:
            return kind != "text" or name in self.schema.required
        return name in self.extra

    def check_header(self) -> None:
        """Missing and repeated columns (after ``--map``), as loading the table whole reports them, named by the
        files' own headers (CSV, TSV and Parquet files; JSON records are checked chunk by chunk)."""
        names = _header_names(self.path, encoding=self.options["encoding"],
                              follow_symlinks=self.options["follow_symlinks"])
        if names is not None:
            check_columns([self.mapping.get(n, n) for n in names], self.schema, source=str(self.path),
                          mapping=self.mapping)
            self.seen_columns |= {self.mapping.get(n, n) for n in names}
        self.header_checked = True

    def chunks(self):
        """``(valid, bad, read)`` per chunk: rows valid by the schema (duplicates within the chunk set aside), the
        rest, and the records read so far (for the caller's progress: this may run in a reading thread)."""
        if not self.header_checked:
            self.check_header()
        counts: list[RecordCount] = []
        for raw in iter_raw_chunks(self.path, counts=counts, keep=self.keep, **self.options):
            self.check.read += len(raw.frame) + len(raw.unreadable)
            frame = self._with_known_columns(raw.frame)
            valid, bad = validate_frame(frame, self.schema, source=str(self.path), mapping=self.mapping,
                                        rules=self.rules)
            yield valid, [bad, raw.unreadable], self.check.read
            del valid, bad, raw, frame  # what a chunk freed is reused by the next one: given back once per table
        self.counts = counts

    def _with_known_columns(self, frame: pd.DataFrame) -> pd.DataFrame:
        """A chunk (one file of a folder, or JSON records) without a required column that the table has
        elsewhere: the column added empty, so its rows are quarantined as loading the whole table would."""
        here = {self.mapping.get(c, c) for c in frame.columns}
        self.seen_columns |= here
        absent = [c for c in self.schema.required if c not in here and c in self.seen_columns]
        return frame.assign(**{c: pd.Series(pd.NA, index=frame.index, dtype=object) for c in absent}) \
            if absent and len(frame) else frame

    def set_aside(self, parts: list[pd.DataFrame]) -> None:
        parts = [p for p in parts if len(p)]
        if parts:
            bad = pd.concat(parts, ignore_index=True)
            self.check.quarantined += len(bad)
            self.check.reasons.update(reason_counts(bad))
            self.quarantine.append(bad)

    def finish(self, used: int) -> TableCheck:
        self.check.used = used
        check_accounted(self.table, self.counts, [], self.check.used + self.check.quarantined)
        self.check.quarantine_file = self.quarantine.finish()
        if self.check.quarantined:
            log.warning("%s: %d of %d rows quarantined", self.table, self.check.quarantined, self.check.read)
        return self.check


def _header_names(path, *, encoding: str, follow_symlinks: bool) -> list[str] | None:
    """The union of the column names of the table's CSV, TSV and Parquet files (``None`` with JSON files)."""
    names: list[str] = []
    for file in input_files(path, follow_symlinks=follow_symlinks):
        fmt = file_format(file)
        if file.stat().st_size == 0:  # the reader says what is wrong with an empty file
            return None
        try:
            if fmt == "parquet":
                import pyarrow.parquet as pq

                found = pq.ParquetFile(file).schema_arrow.names
            elif fmt in ("csv", "tsv"):
                with file.open(encoding=reading_encoding(encoding), newline="") as handle:
                    found = header_names(next(csv.reader(handle, delimiter="," if fmt == "csv" else "\t"), []))
            else:
                return None
        except Exception:  # an unreadable file is reported by the reader itself, with its own message
            return None
        names += [n for n in found if n not in names]
    return names


def kpi_columns(table: str) -> set[str]:
    """The columns of ``table`` that some registered KPI reads (its ``requires``, and the account flags the
    health KPIs look at)."""
    from cxlens.metrics import get_kpi, get_kpi_names

    found = {"at_risk", "health_band"} if table == "accounts" else set()
    for name in get_kpi_names():
        for need in get_kpi(name).requires:
            for option in need.split("|"):
                t, _, column = option.partition(".")
                if t == table:
                    found.add(column)
    return found


def _narrow(valid: pd.DataFrame, table: str) -> pd.DataFrame:
    drop = [c for c in UNUSED[table] if c in valid]
    return valid.drop(columns=drop) if drop else valid


def _kept_table(reader: _Reader) -> pd.DataFrame:
    """A whole table without its unused columns; repeated keys across chunks set aside (the first one kept)."""
    key = reader.schema.key
    chunks, seen = [], SeenHashes()
    for valid, bad, read in prefetched(reader.chunks()):  # the next chunk read and validated meanwhile
        reader.set_aside(bad)
        valid = _narrow(valid, reader.table)
        if key and key in valid:
            seen.add(id_hashes(valid[key]))
        # column by column, each owning its memory, so that joining them frees each chunk's column as it goes;
        # the file name of each row as a categorical (one byte a row, not the path repeated)
        chunks.append({col: valid[col].astype("category") if col == SOURCE_COL else valid[col].copy()
                       for col in valid.columns})
        reader.progress(f"read {reader.table}", read, None)
    frame = _joined(chunks)
    repeated = seen.repeated() if key and key in frame else np.zeros(0, dtype=np.uint64)
    if len(repeated):  # exact among the few rows whose hash repeats
        hashes = id_hashes(frame[key])
        maybe = np.flatnonzero(np.isin(hashes, repeated) & frame[key].notna().to_numpy())
        twice = np.zeros(len(frame), dtype=bool)
        twice[maybe] = frame[key].iloc[maybe].duplicated(keep="first").to_numpy()
        reader.set_aside([rows_set_aside(frame, twice, DUPLICATE.format(key=key))])
        frame = frame.loc[~twice].reset_index(drop=True)
    reader.finish(len(frame))
    frame = frame.drop(columns=[SOURCE_COL, ROW_COL], errors="ignore")
    give_back_memory()
    return frame


def _joined(chunks: list[dict[str, pd.Series]]) -> pd.DataFrame:
    """The chunks as one frame, joined a column at a time: the peak is the table plus one column, not twice it."""
    if not chunks:
        return pd.DataFrame()
    if any(list(chunk) != list(chunks[0]) for chunk in chunks):  # files of a folder with other columns
        return pd.concat([pd.DataFrame(chunk, copy=False) for chunk in chunks], ignore_index=True)
    columns = {}
    for col in list(chunks[0]):
        parts = [chunk.pop(col) for chunk in chunks]
        if col == SOURCE_COL:  # several files: one set of categories
            columns[col] = pd.Series(union_categoricals([p.array for p in parts]))
        else:
            columns[col] = pd.concat(parts, ignore_index=True)
        del parts
        give_back_memory()
    return pd.DataFrame(columns, copy=False)


class _MessageFigures:
    """What a pass over the messages leaves: per ticket the first in-time agent reply (ns), the count of such
    replies and whether it has any message; the message-id hashes seen; rows valid by the schema and used."""

    def __init__(self, n: int) -> None:
        self.first_ns = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
        self.replies = np.zeros(n, dtype=np.int64)
        self.has = np.zeros(n, dtype=bool)
        self.seen = SeenHashes()
        self.valid = self.used = 0


def _message_pass(reader: _Reader, index: IdIndex | None, created_ns: np.ndarray | None,
                  repeated: np.ndarray | None) -> _MessageFigures:
    """One pass over the messages (``index``: the valid tickets; ``None``: no tickets given, nothing to check
    them against). ``repeated``: message-id hashes to keep once (the second pass)."""
    n = 0 if index is None else len(index)
    out = _MessageFigures(n)
    taken = None if repeated is None else np.zeros(len(repeated), dtype=bool)
    for valid, bad, read in prefetched(reader.chunks()):  # the next chunk read and validated meanwhile
        parts = list(bad)
        if "message_id" in valid:
            hashes = id_hashes(valid["message_id"])
            present = valid["message_id"].notna().to_numpy()
            if taken is not None:
                twice = _repeats(hashes, present, repeated, taken)
                parts.append(rows_set_aside(valid, twice, DUPLICATE.format(key="message_id")))
                valid, hashes, present = valid.loc[~twice], hashes[~twice], present[~twice]
            out.seen.add(hashes[present])
        out.valid += len(valid)
        if index is None:
            reader.set_aside(parts)
            out.used += len(valid)
            reader.progress(f"read {reader.table}", read, None)
            continue
        positions = index.positions(valid["ticket_id"])
        orphan = positions < 0
        parts.append(rows_set_aside(valid, orphan, ORPHAN))
        reader.set_aside(parts)
        out.used += int((~orphan).sum())
        reply_figures(valid, positions, created_ns, into=(out.first_ns, out.replies, out.has))
        reader.progress(f"read {reader.table}", read, None)
    return out


def _repeats(hashes: np.ndarray, present: np.ndarray, repeated: np.ndarray, taken: np.ndarray) -> np.ndarray:
    """Rows whose hash was seen before (in an earlier chunk or earlier in this one); marks the first ones taken."""
    at = np.minimum(np.searchsorted(repeated, hashes), max(len(repeated) - 1, 0))
    hit = present & (repeated[at] == hashes) if len(repeated) else np.zeros(len(hashes), dtype=bool)
    twice = np.zeros(len(hashes), dtype=bool)
    rows = np.flatnonzero(hit)
    if len(rows):
        slots = at[rows]
        _, first = np.unique(slots, return_index=True)
        is_first = np.zeros(len(rows), dtype=bool)
        is_first[first] = True
        twice[rows] = taken[slots] | ~is_first
        taken[slots] = True
    return twice


def _messages(reader: _Reader, tickets: pd.DataFrame | None) -> _MessageFigures:
    """The messages read once (twice when a message id repeats: the second pass keeps each id's first valid
    occurrence, as loading the whole table does); ``tickets``: the valid tickets they must belong to."""
    index = created_ns = None
    if tickets is not None:
        index = IdIndex(tickets["ticket_id"])
        created_ns = tickets["created_at"].dt.as_unit("ns").array.asi8
    figures = _message_pass(reader, index, created_ns, None)
    repeated = figures.seen.repeated()
    if len(repeated):
        log.info("messages: %d message ids repeat; reading the messages a second time", len(repeated))
        reader.quarantine.discard()
        reader.quarantine = QuarantineFile(reader.quarantine.path)
        reader.check = TableCheck(reader.table, source=str(reader.path))
        figures = _message_pass(reader, index, created_ns, repeated)
    reader.finish(figures.used)
    give_back_memory()
    return figures


def _usable(check: TableCheck, valid: int) -> None:
    """Stop as loading the whole table does when no row of it passes validation (messages: before they are
    checked against the tickets, so messages that are all orphans stop nothing)."""
    if not valid:
        raise replace(check, used=0).problem()


def streamed_kpi_tables(paths: Mapping[str, str | Path | None], *, out: str | Path,
                        mapping: Mapping[str, str] | None = None, encoding: str = "utf-8",
                        rules: ValueRules | None = None, follow_symlinks: bool = False, chunk_rows: int = 500_000,
                        period_start: pd.Timestamp | None = None, period_end: pd.Timestamp | None = None,
                        by: tuple[str, ...] | list[str] = (),
                        progress: Progress | None = None) -> tuple[Tables, list[TableCheck]]:
    """The KPI tables of ``paths`` and each table's counts (``read = used + quarantined``); quarantined rows go to
    ``out/quarantine/<table>.csv``. Columns no schema declares are kept when a KPI reads them or ``by`` names
    them. See the module docstring."""
    progress = progress or (lambda stage, done, total: None)
    out = Path(out)

    def reader(table: str) -> _Reader:
        return _Reader(table, paths[table], out=out, mapping=mapping, encoding=encoding, rules=rules,
                       follow_symlinks=follow_symlinks, chunk_rows=chunk_rows, progress=progress, by=tuple(by))

    if chunk_rows < 1:
        raise ConfigError(f"chunk_rows must be at least 1, not {chunk_rows}.")
    frames: dict[str, pd.DataFrame | None] = {}
    checks: dict[str, TableCheck] = {}
    for table in ("tickets", "accounts", "surveys", "mentions"):
        if paths.get(table) is not None:
            r = reader(table)
            frames[table] = _kept_table(r)
            checks[table] = r.check
            _usable(r.check, len(frames[table]))
    if paths.get("messages") is not None:
        r = reader("messages")
        figures = _messages(r, frames.get("tickets"))
        checks["messages"] = r.check
        _usable(r.check, figures.valid)
        if frames.get("tickets") is not None:
            frames["tickets"] = fill_derived(frames["tickets"], figures.first_ns, figures.replies, figures.has)
    order = ("tickets", "messages", "accounts", "surveys", "mentions")
    tables = make_tables(tickets=frames.get("tickets"), accounts=frames.get("accounts"),
                         surveys=frames.get("surveys"), mentions=frames.get("mentions"),
                         period_start=period_start, period_end=period_end)
    return tables, [checks[t] for t in order if t in checks]

