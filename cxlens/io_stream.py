"""Reading big inputs in chunks, so memory stays flat whatever the archive size.

:func:`iter_raw_chunks` yields the rows of a file or a folder of files (CSV, TSV, JSON Lines, JSON,
Parquet) in frames of at most ``chunk_rows`` rows, all values as given (CSV fields as strings), with
the ``_source`` / ``_row`` columns of :func:`cxlens.io.read_frame`, so each chunk goes through
:func:`cxlens.io.validate_frame` like a whole table would. Records that cannot be parsed come back
in the chunk's ``unreadable`` frame (with their line and reason); each file's records are counted
apart from the parser (:class:`~cxlens._records.RecordCount`, in ``counts``). A file that cannot be
read (or read to its end) is reported as a :class:`FileProblem` when the caller collects them: the
rows read before the break are kept, and the problem says how many.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cxlens._records import RawChunk, RecordCount, file_chunks
from cxlens.errors import DuplicateColumnsError, RowAccountingError, UnreadableFileError
from cxlens.io import file_format, reading_encoding, table_files

__all__ = ["FileProblem", "RawChunk", "RecordCount", "check_accounted", "file_fingerprint", "input_files",
           "iter_raw_chunks"]

log = logging.getLogger(__name__)


@dataclass
class FileProblem:
    """A file (or the rest of one) that could not be read: its first ``rows_before`` records were read (used or
    quarantined, as any other record)."""

    source: str
    reason: str
    rows_before: int
    #: the error itself (not saved in a manifest: :meth:`as_dict`)
    error: Exception | None = field(default=None, compare=False, repr=False)

    def as_dict(self) -> dict:
        return {"source": self.source, "reason": self.reason, "rows_before": self.rows_before}


def check_accounted(table: str, counts: list[RecordCount], problems: list[FileProblem], placed: int) -> None:
    """Prove that the records the readers counted in ``table``'s files (those of files that broke part-way: the
    records read before the break) equal ``placed``, the rows used, quarantined or skipped on purpose;
    :class:`~cxlens.errors.RowAccountingError` (a bug in cxlens) if not."""
    found = sum(c.records for c in counts) + sum(p.rows_before for p in problems)
    if found != placed:
        raise RowAccountingError(f"{table}: {found:,} records were counted in the files but {placed:,} were used, "
                                 "quarantined or skipped. This is a bug in cxlens; please report it.")


def input_files(path: str | Path, *, follow_symlinks: bool = False) -> list[Path]:
    """The files a path stands for (a folder's data files, sorted by name)."""
    return table_files(Path(path), follow_symlinks=follow_symlinks)


def file_fingerprint(path: Path) -> dict[str, object]:
    """Path, size and SHA-256 of a file (read in 8 MiB blocks)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(8 << 20), b""):
            digest.update(block)
    return {"path": str(path), "bytes": path.stat().st_size, "sha256": digest.hexdigest()}


def iter_raw_chunks(path: str | Path, *, chunk_rows: int = 50_000, encoding: str = "utf-8",
                    problems: list[FileProblem] | None = None, counts: list[RecordCount] | None = None,
                    follow_symlinks: bool = False, keep: Callable[[str], bool] | None = None) -> Iterator[RawChunk]:
    """Chunks of the rows of ``path`` (a file or a folder), as given. See the module docstring.

    With ``problems`` (a list), a file that cannot be read, or breaks part-way, is appended there and the next
    file is read; without it, the :class:`~cxlens.errors.UnreadableFileError` propagates. ``counts`` (a list)
    receives each file's :class:`RecordCount` once the file is read to its end. ``keep`` reads only the columns
    whose name (as in the file) it accepts (see :func:`cxlens._records.file_chunks`).
    """
    enc = reading_encoding(encoding)
    for file in input_files(path, follow_symlinks=follow_symlinks):
        fmt = file_format(file)
        count = RecordCount(source=str(file))
        done = 0
        try:
            for chunk in file_chunks(file, fmt, chunk_rows=chunk_rows, encoding=enc, count=count, keep=keep):
                done += len(chunk.frame) + len(chunk.unreadable)
                yield chunk
        except RowAccountingError:
            raise
        except (UnreadableFileError, DuplicateColumnsError) as exc:
            if problems is None:
                raise
            log.warning("%s (the %d records read before it are kept)", exc, done)
            problems.append(FileProblem(source=str(file), reason=str(exc), rows_before=done, error=exc))
            continue
        except Exception as exc:  # a Parquet file broken in the middle, an I/O error...
            if problems is None:
                raise UnreadableFileError(f"{file} could not be read past record {done}: {exc}") from exc
            log.warning("%s could not be read past record %d (%s); the records before it are kept", file, done, exc)
            problems.append(FileProblem(source=str(file), reason=f"unreadable after record {done}: {exc}",
                                        rows_before=done, error=exc))
            continue
        if counts is not None:
            counts.append(count)
