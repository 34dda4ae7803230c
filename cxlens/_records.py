"""Reading data files record by record, with every record accounted for.

One reader per format yields a file's rows in frames of at most ``chunk_rows`` rows, values as given
(CSV fields as strings), tagged ``_source`` / ``_row`` (the record's number in its file: 1-based, the
header and blank lines not counted), plus the records it could not parse (``unreadable``: ``_source``,
``_row``, ``_line``, ``_reason``, ``_raw``). Every reader counts the file's records itself, apart from
the parser, in a :class:`RecordCount`; :meth:`RecordCount.check` then proves
``records = rows + malformed``, and the callers carry that on to ``records = used + quarantined``.

* **CSV / TSV** are read line by line (bytes split at ``\\n``, each line decoded on its own) and parsed
  with the standard library's strict CSV reader. A record that does not parse (an unbalanced or
  unescaped quote, a stray ``\\r``) or has a different number of fields than the header is set aside
  with its line number and raw text, and reading goes on at the *next line*: a stray quote costs one
  line, never the rest of the file. A quoted field may span lines only if the record it closes has
  the header's field count. A line that is not valid text in the encoding is set aside with the byte
  offset (the rest of the file is still read).
* **JSON Lines**: one record per non-blank line; a line that is not a JSON object is set aside.
* **JSON**: an array of objects (or an object holding one); each element that is not an object is set
  aside with its index.
* **Parquet**: the row count in the file's metadata is checked against the rows read.

An object with a repeated key and a header with a repeated column are refused: which copy is meant
cannot be guessed.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import json
import logging
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cxlens._prefetch import prefetched
from cxlens._validate import REASON_COL, ROW_COL, SOURCE_COL
from cxlens.errors import DuplicateColumnsError, RowAccountingError, UnreadableFileError

__all__ = ["LINE_COL", "RAW_COL", "RawChunk", "RecordCount", "file_chunks", "header_names", "undecodable"]

log = logging.getLogger(__name__)

LINE_COL = "_line"
RAW_COL = "_raw"
RAW_LIMIT = 1000  # characters of a set-aside record kept in the quarantine file


#: the longest CSV field read (Python's default, 131,072 characters, cut long email threads and call transcripts;
#: a quote left open still ends its record here instead of swallowing the rest of the file)
FIELD_LIMIT = 16 * 2**20


def _allow_long_fields() -> None:
    if csv.field_size_limit() < FIELD_LIMIT:
        csv.field_size_limit(FIELD_LIMIT)


@dataclass
class RecordCount:
    """What a reader found in one file: ``records = rows + malformed`` (blank lines are not records)."""

    source: str
    records: int = 0
    rows: int = 0
    malformed: int = 0
    blank_lines: int = 0
    undecodable: int = 0

    def check(self) -> None:
        """Raise :class:`RowAccountingError` unless every record became a row or a set-aside record."""
        if self.records != self.rows + self.malformed:
            raise RowAccountingError(
                f"{self.source}: {self.records:,} records were counted but {self.rows:,} rows were read and "
                f"{self.malformed:,} set aside. This is a bug in cxlens; please report it with the file.")


@dataclass
class RawChunk:
    """Rows of one file as given (``frame``) and the records of it that could not be parsed."""

    frame: pd.DataFrame
    unreadable: pd.DataFrame
    source: str


@dataclass
class _Bad:
    """Records set aside while reading one chunk."""

    rows: list[dict] = field(default_factory=list)

    def add(self, source: str, row: int, line: int | None, reason: str, raw: str) -> None:
        self.rows.append({SOURCE_COL: source, ROW_COL: row, LINE_COL: line, REASON_COL: reason,
                          RAW_COL: raw[:RAW_LIMIT]})

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows)


def undecodable(path: Path | str, encoding: str, exc: UnicodeDecodeError) -> UnreadableFileError:
    """The error for a file that is not ``encoding`` text: it names the byte and the ``encoding`` parameter (the
    CLI, its flag)."""
    return UnreadableFileError(f"{path} is not valid {encoding} text (byte {exc.start:,}: {exc.reason}): "
                               "give the file's encoding, e.g. {encoding='latin-1'} (or cp1252, utf-16).",
                               params=("encoding",))


def _plain(encoding: str) -> str:
    """The encoding of a file's text after its start: utf-8-sig (utf-8 that drops a byte-order mark) is utf-8."""
    return "utf-8" if encoding.lower().replace("_", "-") == "utf-8-sig" else encoding


def _not_text(where: str, encoding: str) -> str:
    """The reason of a record holding a line that is not ``encoding`` text (``where``: byte and codec reason)."""
    return (f"not valid {encoding} text ({where}): read the file with its encoding, e.g. latin-1 (--encoding "
            "latin-1 on the command line)")


def _byte_lines(encoding: str) -> bool:
    """Whether the encoding writes ``\\n``, quotes and separators as the single ASCII bytes (utf-8, latin-1, cp1252)."""
    try:
        return all(ch.encode(_plain(encoding)) == ch.encode("ascii") for ch in '\n\r",\t')
    except (LookupError, UnicodeError):
        return False


@dataclass
class _Block:
    """Whole lines of a file (with their endings): ``lines[i]`` is line ``first + i``; ``bad`` maps the index of
    a line that is not valid text to where it fails (byte from the start of the file, codec reason); the line was
    decoded with replacement characters."""

    first: int
    lines: list[str]
    bad: dict[int, str]


BLOCK_BYTES = 4 << 20
#: a quoted field running over more lines than this is taken for an unbalanced quote (its first line is set aside)
MAX_RECORD_LINES = 10_000


def _blocks(path: Path, encoding: str, count: RecordCount) -> Iterator[_Block]:
    """The file in blocks of whole lines, each line decoded on its own when its block does not decode.

    Lines end at ``\n`` only (``\r\n`` stays with its line), as the CSV reader wants them."""
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise UnreadableFileError(f"Unknown text encoding {encoding!r}: give one Python knows, e.g. "
                                  "{encoding='utf-8'}, latin-1, cp1252, utf-16.", params=("encoding",)) from None
    if not _byte_lines(encoding):
        yield from _text_blocks(path, encoding)
        return
    rest_encoding = _plain(encoding)
    first, offset, carry = 1, 0, b""
    with path.open("rb") as handle:
        while True:
            data = handle.read(BLOCK_BYTES)
            data, at_end = carry + data, not data
            cut = len(data) if at_end else data.rfind(b"\n") + 1
            if cut == 0 and not at_end:  # one line longer than a block: read on
                carry = data
                continue
            chunk, carry = data[:cut], data[cut:]
            if chunk:
                enc = encoding if first == 1 else rest_encoding
                block = _decoded(chunk, enc, rest_encoding, first=first, offset=offset)
                count.undecodable += len(block.bad)
                yield block
                first += len(block.lines)
                offset += len(chunk)
            if at_end:
                return


def _decoded(chunk: bytes, encoding: str, rest_encoding: str, *, first: int, offset: int) -> _Block:
    try:
        text = chunk.decode(encoding)
        lines = text.split("\n")
        bad: dict[int, str] = {}
    except UnicodeDecodeError:
        raw_lines = chunk.split(b"\n")
        lines, bad, at = [], {}, offset
        for i, raw in enumerate(raw_lines):
            enc = encoding if i == 0 else rest_encoding
            try:
                lines.append(raw.decode(enc))
            except UnicodeDecodeError as exc:
                lines.append(raw.decode(enc, errors="replace"))
                bad[i] = f"byte {at + exc.start:,} of the file: {exc.reason}"
            at += len(raw) + 1
    if lines[-1] == "":  # the chunk ended with a newline
        lines.pop()
        lines = [line + "\n" for line in lines]
    else:
        lines = [line + "\n" for line in lines[:-1]] + [lines[-1]]
    return _Block(first, lines, bad)


def _text_blocks(path: Path, encoding: str) -> Iterator[_Block]:
    """utf-16 and other multi-byte encodings: decoded as a stream; a decoding error ends the file."""
    first, lines = 1, []
    try:
        with path.open(encoding=encoding, newline="") as handle:
            for text in handle:
                lines.append(text)
                if len(lines) >= 65_536:
                    yield _Block(first, lines, {})
                    first, lines = first + len(lines), []
    except UnicodeDecodeError as exc:
        raise UnreadableFileError(f"{path} is not valid {encoding} text after line {first + len(lines) - 1:,} "
                                  f"({exc.reason}): give the file's encoding with {{encoding}}.",
                                  params=("encoding",)) from exc
    if lines:
        yield _Block(first, lines, {})


def _csv_reason(exc: csv.Error) -> str:
    text = str(exc)
    if "unexpected end of data" in text:
        return 'unbalanced quote (") at the end of the file'
    if "expected" in text and "after" in text:  # '"," expected after """
        return 'unescaped quote (") inside a quoted field (write it as "")'
    if "new-line character" in text:
        return "a bare carriage return (\\r) inside an unquoted field"
    return f"not valid CSV ({text})"


def header_names(fields: list[str]) -> list[str]:
    """A CSV/TSV header's column names as cxlens reads them: spaces around a name (`ticket_id, created_at` from a
    hand-edited or spreadsheet file) are not part of it, and a blank name is ``Unnamed: <position>``."""
    return [name.strip() or f"Unnamed: {i}" for i, name in enumerate(fields)]


def _header(fields: list[str], path: Path) -> list[str]:
    names = header_names(fields)
    repeated = sorted(name for name, n in Counter(names).items() if n > 1)
    if repeated:
        raise DuplicateColumnsError(f"{path}: the header names {', '.join(map(repr, repeated))} more than once; "
                                    "rename the copies so each column has one name (nothing of this file is used).")
    return names


def _strings_frame(rows: list[list[str]], columns: list[str], numbers: list[int]) -> pd.DataFrame:
    # pandas' text dtype (as read_csv(dtype=str) gives): Arrow-backed where pandas has it, a third of object's memory
    frame = pd.DataFrame(rows, columns=columns, dtype=str) if rows else pd.DataFrame(columns=columns, dtype=str)
    if rows:
        frame = frame.mask(frame == "")  # an empty field is missing, as pandas reads it
    frame = _own_columns_kept(frame)
    frame.insert(0, ROW_COL, np.asarray(numbers, dtype=np.int64))
    return frame


#: what a file's own ``_row`` / ``_source`` column (a cxlens output or quarantine file read back) is renamed to
IN_FILE = "{}_in_file"


def _own_columns_kept(frame: pd.DataFrame) -> pd.DataFrame:
    """A file that has cxlens's bookkeeping columns itself (a quarantine file, fixed and read back) keeps them
    under another name, so the row numbers and file names of this read can be added."""
    taken = [c for c in (ROW_COL, SOURCE_COL) if c in frame.columns]
    if not taken:
        return frame
    renamed = {}
    for col in taken:  # the whole chain moves up one: "_row_in_file" -> "_row_in_file_2", "_row" -> "_row_in_file"
        stem = IN_FILE.format(col)
        for name in frame.columns:
            match = re.fullmatch(re.escape(stem) + r"(?:_(\d+))?", str(name))
            if match:
                renamed[name] = f"{stem}_{int(match.group(1) or 1) + 1}"
        renamed[col] = stem
    return frame.rename(columns=renamed)


class _CsvRecords:
    """Records of a CSV file: ``(line, fields, reason, raw)``; ``fields`` is None when the record is set aside.

    The standard library's C parser reads straight from each block's lines; ``line_num`` tells how many lines
    a record took. A record that fails (or closes a quote opened lines earlier with the wrong field count) is
    set aside by its first line, and parsing restarts on the line after it.
    """

    def __init__(self, path: Path, blocks: Iterator[_Block], sep: str, count: RecordCount, encoding: str) -> None:
        self.path, self.blocks, self.sep, self.count = path, blocks, sep, count
        self.encoding = _plain(encoding)
        self.header: list[str] | None = None

    def __iter__(self) -> Iterator[tuple[int, list[str] | None, str | None, str]]:
        carry: list[str] = []
        carry_first, carry_bad = 1, {}
        for block in self.blocks:
            lines = carry + block.lines
            first = block.first - len(carry)
            bad = {**carry_bad, **{i + len(carry): r for i, r in block.bad.items()}}
            carry, carry_bad = (yield from self._block(lines, first, bad, last=False))
            carry_first = first + len(lines) - len(carry)
        if carry:
            _ = yield from self._block(carry, carry_first, carry_bad, last=True)

    def _block(self, lines: list[str], first: int, bad: dict[int, str], *, last: bool):
        """Parse ``lines``; returns the lines of an unfinished record at the end (for the next block)."""
        _allow_long_fields()
        pos = 0
        while pos < len(lines):
            reader = csv.reader(itertools.islice(lines, pos, None), delimiter=self.sep, strict=True)
            pos, unfinished = yield from self._run(reader, lines, pos, first, bad, last=last)
            if unfinished:
                return lines[pos:], {i - pos: r for i, r in bad.items() if i >= pos}
        return [], {}

    def _run(self, reader, lines: list[str], pos: int, first: int, bad: dict[int, str], *, last: bool):
        """Records until one fails; returns ``(next position, unfinished)``."""
        start = pos
        done = 0
        while True:
            try:
                fields = next(reader)
                reason = None
            except StopIteration:
                return len(lines), False
            except csv.Error as exc:
                fields, reason = None, _csv_reason(exc)
            at = start + done
            done = reader.line_num
            end = start + done
            if (end >= len(lines) and fields is None and not last and "end of the file" in reason
                    and end - at <= MAX_RECORD_LINES):
                return at, True  # the record goes on in the next block
            taken = end - at
            if fields is not None and (not fields or (len(fields) == 1 and not fields[0].strip())):
                if self.header is None or len(self.header) > 1 or not fields:
                    self.count.blank_lines += taken
                    continue
            if self.header is None:
                if fields is None:
                    raise UnreadableFileError(f"{self.path}: the header (line {first + at}) is not valid CSV: {reason}.")
                if at in bad:
                    raise UnreadableFileError(f"{self.path}: the header is not valid {self.encoding} text ({bad[at]}):"
                                              " give the file's encoding, e.g. {encoding='latin-1'} (or cp1252, utf-16).",
                                              params=("encoding",))
                self.header = _header(fields, self.path)
                continue
            if fields is not None and len(fields) != len(self.header):
                reason = f"wrong number of fields: {len(fields)} where the header has {len(self.header)}"
                if taken > 1:
                    reason += " (a quote opened on this line runs over the following lines)"
            if reason is not None:
                yield first + at, None, reason, lines[at].rstrip("\r\n")
                if taken > 1:
                    return at + 1, False
                continue
            if bad:
                undecoded = next((bad[i] for i in range(at, end) if i in bad), None)
                if undecoded is not None:
                    yield first + at, None, _not_text(undecoded, self.encoding), "".join(lines[at:end]).rstrip("\r\n")
                    continue
            yield first + at, fields, None, ""


def _csv_chunks(path: Path, *, sep: str, encoding: str, chunk_rows: int, count: RecordCount) -> Iterator[RawChunk]:
    source = str(path)
    records = _CsvRecords(path, _blocks(path, encoding, count), sep, count, encoding)
    rows: list[list[str]] = []
    numbers: list[int] = []
    bad = _Bad()
    for line, fields, reason, raw in records:
        count.records += 1
        if fields is None:
            count.malformed += 1
            bad.add(source, count.records, line, reason, raw)
            continue
        rows.append(fields)
        numbers.append(count.records)
        if len(rows) >= chunk_rows:
            count.rows += len(rows)
            yield RawChunk(_tag(_strings_frame(rows, records.header, numbers), source), bad.frame(), source)
            rows, numbers, bad = [], [], _Bad()
    if records.header is None:
        raise UnreadableFileError(f"{path} has no header row (it holds only blank lines).")
    if count.undecodable:
        log.warning("%s: %d lines are not valid %s text; their records are quarantined (give the file's "
                    "encoding with --encoding if it is not %s)", path, count.undecodable, records.encoding,
                    records.encoding)
    count.rows += len(rows)
    if rows or bad.rows or count.records == 0:
        yield RawChunk(_tag(_strings_frame(rows, records.header, numbers), source), bad.frame(), source)


def _tag(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    frame.insert(0, SOURCE_COL, source)
    return frame


class _RepeatedKey(ValueError):
    pass


def _no_repeats(pairs: list[tuple[str, object]]) -> dict:
    obj = dict(pairs)
    if len(obj) < len(pairs):
        keys = [k for k, _ in pairs]
        raise _RepeatedKey(", ".join(sorted({repr(k) for k in keys if keys.count(k) > 1})))
    return obj


def _object_problem(obj: object) -> str | None:
    """``None`` for an object, else what the JSON value is instead."""
    if isinstance(obj, dict):
        return None
    kinds = {list: "an array", str: "a string", bool: "true/false", int: "a number", float: "a number"}
    return f"JSON but not an object ({'null' if obj is None else kinds.get(type(obj), type(obj).__name__)})"


def _jsonl_chunks(path: Path, *, encoding: str, chunk_rows: int, count: RecordCount) -> Iterator[RawChunk]:
    source = str(path)
    records: list[dict] = []
    numbers: list[int] = []
    bad = _Bad()
    for block, i, text in ((b, i, t) for b in _blocks(path, encoding, count) for i, t in enumerate(b.lines)):
        number = block.first + i
        text = text.rstrip("\r\n")
        if not text.strip():
            count.blank_lines += 1
            continue
        count.records += 1
        reason = _not_text(block.bad[i], _plain(encoding)) if i in block.bad else None
        if reason is None:
            try:
                obj = json.loads(text, object_pairs_hook=_no_repeats)
                reason = _object_problem(obj)
                reason = None if reason is None else f"line is {reason}"
            except _RepeatedKey as exc:
                reason = f"the object repeats the key {exc}"
            except json.JSONDecodeError as exc:
                reason = f"line is not JSON ({exc.msg})"
        if reason is not None:
            count.malformed += 1
            bad.add(source, count.records, number, reason, text)
        else:
            records.append(obj)
            numbers.append(count.records)
        if len(records) >= chunk_rows:
            count.rows += len(records)
            yield RawChunk(_tag(_records_frame(records, numbers), source), bad.frame(), source)
            records, numbers, bad = [], [], _Bad()
    count.rows += len(records)
    if records or bad.rows or count.records == 0:
        yield RawChunk(_tag(_records_frame(records, numbers), source), bad.frame(), source)


def _records_frame(records: list[dict], numbers: list[int]) -> pd.DataFrame:
    frame = _own_columns_kept(pd.DataFrame.from_records(records) if records else pd.DataFrame())
    frame.insert(0, ROW_COL, np.asarray(numbers, dtype=np.int64))
    return frame


def _json_chunks(path: Path, *, encoding: str, chunk_rows: int, count: RecordCount) -> Iterator[RawChunk]:
    source = str(path)
    data = path.read_bytes()
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise undecodable(path, encoding, exc) from exc
    try:
        obj = json.loads(text, object_pairs_hook=_no_repeats)
    except _RepeatedKey as exc:
        raise UnreadableFileError(f"{path}: an object repeats the key {exc}; which value is meant cannot be "
                                  "guessed.") from exc
    except json.JSONDecodeError as exc:
        raise UnreadableFileError(f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}.") from exc
    if isinstance(obj, dict):
        obj = next((v for v in obj.values() if isinstance(v, list)), [obj])
    if not isinstance(obj, list):
        raise UnreadableFileError(f"{path}: expected a JSON array of objects.")
    for start in range(0, max(len(obj), 1), chunk_rows):
        records, numbers, bad = [], [], _Bad()
        for i, element in enumerate(obj[start:start + chunk_rows], start=start + 1):
            count.records += 1
            reason = _object_problem(element)
            if reason is None:
                records.append(element)
                numbers.append(i)
            else:
                count.malformed += 1
                bad.add(source, i, None, f"element {i} of the array is {reason}", json.dumps(element, default=str))
        count.rows += len(records)
        yield RawChunk(_tag(_records_frame(records, numbers), source), bad.frame(), source)


def _nullable_bool() -> dict:
    import pyarrow as pa

    return {pa.bool_(): pd.BooleanDtype()}


def _parquet_chunks(path: Path, *, chunk_rows: int, count: RecordCount,
                    keep: Callable[[str], bool] | None = None) -> Iterator[RawChunk]:
    import pyarrow.parquet as pq

    source = str(path)
    try:
        reader = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises many types for a broken file
        raise UnreadableFileError(f"{path} is not a readable Parquet file: {exc}") from exc
    names = reader.schema_arrow.names
    if len(set(names)) < len(names):
        repeated = sorted({n for n in names if names.count(n) > 1})
        raise DuplicateColumnsError(f"{path}: the columns {', '.join(map(repr, repeated))} appear more than once.")
    count.records = reader.metadata.num_rows
    columns = None if keep is None else [n for n in names if keep(n)]
    # the next Arrow batch is decoded (GIL released) while this one is converted and used: one compact batch ahead
    for batch in prefetched(reader.iter_batches(batch_size=chunk_rows, columns=columns)):
        frame = _own_columns_kept(batch.to_pandas(types_mapper=_nullable_bool().get))  # nullable bools stay bools
        frame.insert(0, ROW_COL, np.arange(count.rows + 1, count.rows + len(frame) + 1))
        count.rows += len(frame)
        yield RawChunk(_tag(frame, source), pd.DataFrame(), source)


def file_chunks(path: Path, fmt: str, *, chunk_rows: int, encoding: str, count: RecordCount,
                keep: Callable[[str], bool] | None = None) -> Iterator[RawChunk]:
    """The chunks of one file of format ``fmt`` (see the module docstring); ``count`` is filled as they come.

    ``keep``: only the columns whose name (as in the file) it accepts, besides ``_source``/``_row`` (Parquet
    reads no other column; the text formats parse every field and drop the others per chunk)."""
    if keep is not None and fmt != "parquet":
        for chunk in file_chunks(path, fmt, chunk_rows=chunk_rows, encoding=encoding, count=count):
            wanted = [c for c in chunk.frame.columns if c in (SOURCE_COL, ROW_COL) or keep(c)]
            yield RawChunk(chunk.frame[wanted], chunk.unreadable, chunk.source)
        return
    if path.stat().st_size == 0:
        raise UnreadableFileError(f"{path} is empty (0 bytes).")
    if fmt in ("csv", "tsv"):
        yield from _csv_chunks(path, sep="," if fmt == "csv" else "\t", encoding=encoding, chunk_rows=chunk_rows,
                               count=count)
    elif fmt == "jsonl":
        yield from _jsonl_chunks(path, encoding=encoding, chunk_rows=chunk_rows, count=count)
    elif fmt == "json":
        yield from _json_chunks(path, encoding=encoding, chunk_rows=chunk_rows, count=count)
    else:
        yield from _parquet_chunks(path, chunk_rows=chunk_rows, count=count, keep=keep)
    count.check()
