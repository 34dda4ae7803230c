"""Reading big inputs in chunks, so memory stays flat whatever the archive size.

:func:`iter_raw_chunks` yields the rows of a file or a folder of files (CSV, TSV, JSON Lines, JSON,
Parquet) in frames of at most ``chunk_rows`` rows, all values as given (CSV fields as strings), with
the ``_source`` / ``_row`` columns of :func:`cxlens.io.read_frame`, so each chunk goes through
:func:`cxlens.io.validate_frame` like a whole table would. Lines that cannot be parsed come back
in the chunk's ``unreadable`` frame (with their reason), and a file that cannot be read at all is
reported as a :class:`FileProblem` instead of stopping the run: the rest of the folder is still read.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cxlens.errors import UnreadableFileError
from cxlens.io import ROW_COL, SOURCE_COL, file_format, parse_jsonl_line, read_frame, table_files, undecodable

__all__ = ["FileProblem", "RawChunk", "file_fingerprint", "input_files", "iter_raw_chunks"]

log = logging.getLogger(__name__)


@dataclass
class RawChunk:
    """Rows of one file as given (``frame``) and the lines of it that could not be parsed."""

    frame: pd.DataFrame
    unreadable: pd.DataFrame
    source: str


@dataclass
class FileProblem:
    """A file (or the rest of one) that could not be read."""

    source: str
    reason: str
    rows_before: int


def input_files(path: str | Path) -> list[Path]:
    """The files a path stands for (a folder's data files, sorted by name)."""
    return table_files(Path(path))


def file_fingerprint(path: Path) -> dict[str, object]:
    """Path, size and SHA-256 of a file (read in 8 MiB blocks)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(8 << 20), b""):
            digest.update(block)
    return {"path": str(path), "bytes": path.stat().st_size, "sha256": digest.hexdigest()}


def _tag(frame: pd.DataFrame, source: str, first_row: int) -> pd.DataFrame:
    if ROW_COL not in frame:
        frame.insert(0, ROW_COL, np.arange(first_row, first_row + len(frame)))
    frame.insert(0, SOURCE_COL, source)
    return frame


def _csv_chunks(path: Path, *, sep: str, encoding: str, chunk_rows: int) -> Iterator[RawChunk]:
    common = dict(sep=sep, dtype=str, keep_default_na=False, na_values=[""])
    done = 0
    try:
        with pd.read_csv(path, encoding=encoding, chunksize=chunk_rows, **common) as reader:
            for frame in reader:
                yield RawChunk(_tag(frame, str(path), done + 1), pd.DataFrame(), str(path))
                done += len(frame)
        return
    except UnicodeDecodeError as exc:
        raise undecodable(path, encoding, exc) from exc
    except pd.errors.EmptyDataError as exc:
        raise UnreadableFileError(f"{path} is empty: it has no header row.") from exc
    except pd.errors.ParserError:
        log.warning("%s: a malformed CSV line after row %d; reading the rest line by line", path, done)
    # a stray quote or a ragged line: the salvaging whole-file reader of cxlens.io takes over
    frame, bad = read_frame(path, encoding=encoding)
    frame = frame.drop(columns=[SOURCE_COL]).iloc[done:]
    frame = frame.reset_index(drop=True)
    for start in range(0, max(len(frame), 1), chunk_rows):
        part = frame.iloc[start:start + chunk_rows].copy()
        part.insert(0, SOURCE_COL, str(path))
        yield RawChunk(part, bad if start == 0 else pd.DataFrame(), str(path))


def _jsonl_chunks(path: Path, *, encoding: str, chunk_rows: int) -> Iterator[RawChunk]:
    records, rows, bad = [], [], []

    def flush() -> RawChunk:
        frame = pd.DataFrame.from_records(records)
        frame.insert(0, ROW_COL, rows) if records else None
        chunk = RawChunk(_tag(frame, str(path), 1), pd.DataFrame(bad), str(path))
        if len(chunk.unreadable):
            chunk.unreadable.insert(0, SOURCE_COL, str(path))
        return chunk

    try:
        with path.open(encoding=encoding) as handle:
            for lineno, line in enumerate(handle, start=1):
                parse_jsonl_line(line.rstrip("\n"), lineno, records, rows, bad)
                if len(records) >= chunk_rows:
                    yield flush()
                    records, rows, bad = [], [], []
    except UnicodeDecodeError as exc:
        raise undecodable(path, encoding, exc) from exc
    if records or bad:
        yield flush()


def _parquet_chunks(path: Path, *, chunk_rows: int) -> Iterator[RawChunk]:
    import pyarrow.parquet as pq

    try:
        reader = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises many types for a broken file
        raise UnreadableFileError(f"{path} is not a readable Parquet file: {exc}") from exc
    done = 0
    for batch in reader.iter_batches(batch_size=chunk_rows):
        frame = batch.to_pandas()
        yield RawChunk(_tag(frame, str(path), done + 1), pd.DataFrame(), str(path))
        done += len(frame)


def iter_raw_chunks(path: str | Path, *, chunk_rows: int = 50_000, encoding: str = "utf-8",
                    problems: list[FileProblem] | None = None) -> Iterator[RawChunk]:
    """Chunks of the rows of ``path`` (a file or a folder), as given. See the module docstring.

    With ``problems`` (a list), a file that cannot be read, or breaks part-way, is appended there and
    the next file is read; without it, the :class:`~cxlens.errors.UnreadableFileError` propagates.
    """
    enc = "utf-8-sig" if encoding.lower() in ("utf-8", "utf8") else encoding
    for file in input_files(path):
        fmt = file_format(file)
        done = 0
        try:
            if file.stat().st_size == 0:
                raise UnreadableFileError(f"{file} is empty (0 bytes).")
            if fmt in ("csv", "tsv"):
                chunks = _csv_chunks(file, sep="," if fmt == "csv" else "\t", encoding=enc, chunk_rows=chunk_rows)
            elif fmt == "jsonl":
                chunks = _jsonl_chunks(file, encoding=enc, chunk_rows=chunk_rows)
            elif fmt == "parquet":
                chunks = _parquet_chunks(file, chunk_rows=chunk_rows)
            else:  # one JSON document: read whole, then cut
                frame, bad = read_frame(file, encoding=encoding)
                frame = frame.drop(columns=[SOURCE_COL])
                chunks = (RawChunk(_tag(frame.iloc[s:s + chunk_rows].copy(), str(file), 1),
                                   bad if s == 0 else pd.DataFrame(), str(file))
                          for s in range(0, max(len(frame), 1), chunk_rows))
            for chunk in chunks:
                done += len(chunk.frame)
                yield chunk
        except UnreadableFileError as exc:
            if problems is None:
                raise
            log.warning("%s; its rows from %d on are set aside and the run goes on", exc, done + 1)
            problems.append(FileProblem(source=str(file), reason=str(exc), rows_before=done))
        except Exception as exc:  # a Parquet file broken in the middle, a truncated JSONL line...
            if problems is None:
                raise UnreadableFileError(f"{file} could not be read past row {done}: {exc}") from exc
            log.warning("%s could not be read past row %d (%s); the run goes on", file, done, exc)
            problems.append(FileProblem(source=str(file), reason=f"unreadable after row {done}: {exc}",
                                        rows_before=done))
