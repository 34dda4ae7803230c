"""``cxlens validate``: check every table of an archive against its schema, in chunks, with flat memory.

Each table is read in chunks of ``chunk_rows`` records (:func:`cxlens.io_stream.iter_raw_chunks`),
each chunk validated like a whole table (:func:`cxlens.io.validate_frame`) and its quarantined rows
appended to ``<out>/quarantine/<table>.csv`` as they come (formula-safe, with ``_source``, ``_row``,
``_reason``). What must be seen across chunks is kept as 8-byte hashes, not values: the keys seen so
far (a repeated key is quarantined, the first occurrence kept, as :func:`cxlens.io.load_table` does)
and the ticket ids (a message of an unknown ticket is quarantined). Memory is one chunk plus 8 bytes
per key, whatever the file size (docs/benchmarks.md: a 2 GB CSV).

Per file, ``records = used + quarantined`` is proved; a file that cannot be read (to its end) stops the
check with its own error, and the quarantine parts written so far are removed.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cxlens._csv_safety import write_csv
from cxlens._keys import id_hashes
from cxlens.errors import DataError, NoUsableRowsError
from cxlens.io import REASON_COL, ValueRules, reason_counts, top_reasons, validate_frame
from cxlens.io_stream import RecordCount, check_accounted, iter_raw_chunks
from cxlens.schema import get_schema

__all__ = ["QuarantineFile", "TableCheck", "checked_archive", "rows_set_aside"]

log = logging.getLogger(__name__)
Progress = Callable[[str, int, int | None], None]
TABLE_ORDER = ("tickets", "messages", "accounts", "surveys", "mentions")


@dataclass
class TableCheck:
    """One table's counts (``read = used + quarantined``), its quarantine file and the reasons rows were set aside."""

    table: str
    source: str = ""
    read: int = 0
    used: int = 0
    quarantined: int = 0
    quarantine_file: str | None = None
    reasons: Counter = field(default_factory=Counter)

    def as_row(self) -> dict:
        return {"table": self.table, "read": self.read, "used": self.used, "quarantined": self.quarantined}

    def problem(self) -> DataError | None:
        """What makes this table unusable as given (exit 2 on the command line): no usable row at all; or ``None``."""
        if not self.used:
            top = top_reasons(self.reasons)
            detail = f": {top}" if top else " (the file has a header but no rows)"
            return NoUsableRowsError(f"No usable {self.table} rows in {self.source}{detail}.")
        return None


class _SeenKeys:
    """Hashes of the values seen so far, sorted: membership by binary search, 8 bytes per value."""

    def __init__(self) -> None:
        self.sorted = np.empty(0, dtype=np.uint64)

    @staticmethod
    def hashes(values: pd.Series) -> np.ndarray:
        return id_hashes(values)  # from the Arrow buffers, as `kpis compute` hashes ids (cxlens._keys)

    def contains(self, hashes: np.ndarray) -> np.ndarray:
        pos = np.searchsorted(self.sorted, hashes)
        return (pos < len(self.sorted)) & (self.sorted[np.minimum(pos, len(self.sorted) - 1)] == hashes) \
            if len(self.sorted) else np.zeros(len(hashes), dtype=bool)

    def add(self, hashes: np.ndarray) -> None:
        self.sorted = np.sort(np.concatenate([self.sorted, hashes]), kind="stable")


class QuarantineFile:
    """``<out>/quarantine/<table>.csv``, appended chunk by chunk; its header is the union of the columns seen."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.parts: list[Path] = []

    def append(self, frame: pd.DataFrame) -> None:
        if not len(frame):
            return
        part = self.path.with_name(f".{self.path.stem}-part-{len(self.parts):05d}.csv")
        part.parent.mkdir(parents=True, exist_ok=True)
        write_csv(frame, part)
        self.parts.append(part)

    def discard(self) -> None:
        for part in self.parts:
            part.unlink(missing_ok=True)

    def finish(self) -> str | None:
        """Join the parts (same columns in the same order, so one pass of concatenated text when they agree)."""
        if not self.parts:
            return None
        columns: list[str] = []
        for part in self.parts:
            for col in pd.read_csv(part, nrows=0).columns:
                if col not in columns:
                    columns.append(col)
        tmp = self.path.with_name(self.path.name + ".tmp")
        header = True
        with tmp.open("w", encoding="utf-8", newline="") as out:
            for part in self.parts:
                for frame in pd.read_csv(part, dtype=str, keep_default_na=False, chunksize=50_000):
                    write_csv(frame.reindex(columns=columns), out, header=header)
                    header = False
                part.unlink()
        tmp.replace(self.path)
        return str(self.path)


def _checked_table(table: str, path: str | Path, *, out: Path, mapping, encoding: str, rules: ValueRules | None,
                   follow_symlinks: bool, chunk_rows: int, known_tickets: _SeenKeys | None,
                   progress: Progress) -> tuple[TableCheck, _SeenKeys | None]:
    schema = get_schema(table)
    check = TableCheck(table, source=str(path))
    counts: list[RecordCount] = []
    seen = _SeenKeys() if schema.key else None
    ids = seen if table == "tickets" else None  # the valid tickets' keys are the ids messages are checked against
    quarantine = QuarantineFile(out / "quarantine" / f"{table}.csv")
    # a file that cannot be read (to its end) stops the check with its own error
    chunks = iter_raw_chunks(path, chunk_rows=chunk_rows, encoding=encoding, counts=counts,
                             follow_symlinks=follow_symlinks)
    try:
        for raw in chunks:
            check.read += len(raw.frame) + len(raw.unreadable)
            valid, bad = validate_frame(raw.frame, schema, source=str(path), mapping=mapping, rules=rules)
            parts = [bad, raw.unreadable]
            if seen is not None and schema.key in valid:
                keys = valid[schema.key]
                hashes = _SeenKeys.hashes(keys)
                repeated = keys.notna().to_numpy() & seen.contains(hashes)
                parts.append(rows_set_aside(valid, repeated, f"duplicate {schema.key} (the first occurrence is kept)"))
                valid, hashes = valid.loc[~repeated], hashes[~repeated]
                seen.add(hashes[valid[schema.key].notna().to_numpy()])
            if known_tickets is not None and "ticket_id" in valid:
                orphan = ~known_tickets.contains(_SeenKeys.hashes(valid["ticket_id"]))
                parts.append(rows_set_aside(valid, orphan, "ticket_id is not in the tickets table"))
                valid = valid.loc[~orphan]
            check.used += len(valid)
            bad = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) \
                else pd.DataFrame()
            check.quarantined += len(bad)
            check.reasons.update(reason_counts(bad))
            quarantine.append(bad)
            progress(f"validate {table}", check.read, None)
        check_accounted(table, counts, [], check.used + check.quarantined)
        check.quarantine_file = quarantine.finish()
    except BaseException:
        quarantine.discard()
        raise
    return check, ids


def rows_set_aside(valid: pd.DataFrame, mask: np.ndarray, reason: str) -> pd.DataFrame:
    """The rows of ``valid`` under ``mask`` with ``_reason`` set (empty when none is)."""
    if not mask.any():
        return valid.iloc[0:0]
    bad = valid.loc[mask].copy()
    bad[REASON_COL] = reason
    return bad


def checked_archive(paths: Mapping[str, str | Path | None], *, out: str | Path,
                    mapping: Mapping[str, str] | None = None, encoding: str = "utf-8",
                    rules: ValueRules | None = None, follow_symlinks: bool = False, chunk_rows: int = 50_000,
                    progress: Progress | None = None) -> list[TableCheck]:
    """Validate every table given in ``paths`` (tickets first: messages are checked against its ids); quarantine
    files go to ``out/quarantine``. See the module docstring."""
    progress = progress or (lambda stage, done, total: None)
    out = Path(out)
    checks, tickets = [], None
    for table in TABLE_ORDER:
        if paths.get(table) is None:
            continue
        check, ids = _checked_table(table, paths[table], out=out, mapping=mapping, encoding=encoding, rules=rules,
                                    follow_symlinks=follow_symlinks, chunk_rows=chunk_rows,
                                    known_tickets=tickets if table == "messages" else None, progress=progress)
        tickets = ids if ids is not None else tickets
        checks.append(check)
        if check.quarantined:
            log.warning("%s: %d of %d rows quarantined", table, check.quarantined, check.read)
    return checks
