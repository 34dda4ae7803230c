"""The first stage of ``cxlens score``: stream the inputs into chunks a scorer can take one at a time.

Tickets are read in chunks of ``chunk_rows`` rows and validated chunk by chunk (cxlens' schema and
quarantine rules); chunk *k* of valid tickets becomes ``work/tickets/chunk-k.parquet``. Messages are
then streamed and each goes to the chunk of its ticket (``work/messages/chunk-k/m-j.parquet``), so a
chunk holds whole conversations. Memory holds one input chunk plus the ticket ids (an index of ~70
bytes per ticket), whatever the archive size.

Rows set aside go to ``work/quarantine/<table>-<stage>-<k>.csv`` with their reason; the run's last
step merges them into ``quarantine/<table>.csv``. Nothing is dropped silently: messages that belong
to tickets skipped by ``--limit`` are counted as ``skipped_by_limit``, not lost.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cxlens.errors import NoUsableRowsError
from cxlens.io import REASON_COL, SOURCE_COL, validate_frame
from cxlens.io_stream import FileProblem, iter_raw_chunks
from cxlens.schema import get_schema

__all__ = ["Partition", "TableCounts", "partition_inputs", "quarantine_part"]

log = logging.getLogger(__name__)
Progress = Callable[[str, int, int | None], None]


@dataclass
class TableCounts:
    """Rows of one input table: ``read = used + quarantined (+ skipped_by_limit)``."""

    read: int = 0
    used: int = 0
    quarantined: int = 0
    skipped_by_limit: int = 0
    unreadable_files: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"read": self.read, "used": self.used, "quarantined": self.quarantined,
                "skipped_by_limit": self.skipped_by_limit, "unreadable_files": self.unreadable_files}


@dataclass
class Partition:
    """What the partition stage produced."""

    chunks: int
    chunk_sizes: list[int]
    counts: dict[str, TableCounts]


def quarantine_part(frame: pd.DataFrame, work: Path, table: str, stage: str, k: int) -> int:
    """Write rows set aside (with ``_reason``) as one quarantine part; returns how many."""
    if not len(frame):
        return 0
    path = work / "quarantine" / f"{table}-{stage}-{k:05d}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return len(frame)


def _problem_rows(problems: list[FileProblem]) -> pd.DataFrame:
    return pd.DataFrame([{SOURCE_COL: p.source, REASON_COL: p.reason, "_rows_read_before": p.rows_before}
                         for p in problems])


def _valid_rows(raw, table: str, *, mapping, source: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    valid, bad = validate_frame(raw.frame, get_schema(table), source=source, mapping=mapping)
    if len(raw.unreadable):
        bad = pd.concat([bad, raw.unreadable], ignore_index=True)
    return valid.drop(columns=[SOURCE_COL], errors="ignore"), bad


def _partition_tickets(path, work: Path, *, chunk_rows: int, limit: int | None, mapping, encoding: str,
                       progress: Progress) -> tuple[list[np.ndarray], TableCounts]:
    counts, problems, ids = TableCounts(), [], []
    (work / "tickets").mkdir(parents=True, exist_ok=True)
    k = 0  # chunks written; j below numbers the raw chunks read (a chunk of only bad rows writes no chunk)
    for j, raw in enumerate(iter_raw_chunks(path, chunk_rows=chunk_rows, encoding=encoding, problems=problems)):
        if limit is not None and counts.used >= limit:
            counts.skipped_by_limit += len(raw.frame)
            continue
        counts.read += len(raw.frame) + len(raw.unreadable)
        valid, bad = _valid_rows(raw, "tickets", mapping=mapping, source=str(path))
        if limit is not None and counts.used + len(valid) > limit:
            keep = limit - counts.used
            counts.skipped_by_limit += len(valid) - keep
            counts.read -= len(valid) - keep
            valid = valid.iloc[:keep]
        counts.quarantined += quarantine_part(bad, work, "tickets", "read", j)
        if len(valid):
            valid.to_parquet(work / "tickets" / f"chunk-{k:05d}.parquet", index=False)
            ids.append(valid["ticket_id"].to_numpy(dtype=object))
            counts.used += len(valid)
            k += 1
        progress("partition tickets", counts.read, None)
    counts.unreadable_files = [vars(p) for p in problems]
    quarantine_part(_problem_rows(problems), work, "tickets", "files", 0)
    _drop_cross_chunk_duplicates(ids, work, counts)
    return ids, counts


def _drop_cross_chunk_duplicates(ids: list[np.ndarray], work: Path, counts: TableCounts) -> None:
    """A ticket id seen in an earlier chunk: the later rows are quarantined (the first occurrence is kept)."""
    if len(ids) < 2:
        return
    dup = pd.Series(np.concatenate(ids)).duplicated(keep="first").to_numpy()
    if not dup.any():
        return
    start = 0
    for k, chunk_ids in enumerate(ids):
        mask = dup[start:start + len(chunk_ids)]
        start += len(chunk_ids)
        if not mask.any():
            continue
        path = work / "tickets" / f"chunk-{k:05d}.parquet"
        frame = pd.read_parquet(path)
        bad = frame.loc[mask].copy()
        bad[REASON_COL] = "duplicate ticket_id (the first occurrence is kept)"
        quarantine_part(bad, work, "tickets", "duplicates", k)
        frame.loc[~mask].reset_index(drop=True).to_parquet(path, index=False)
        ids[k] = chunk_ids[~mask]
        counts.used -= int(mask.sum())
        counts.quarantined += int(mask.sum())
    log.warning("tickets: %d rows repeat a ticket_id of an earlier chunk and were quarantined", int(dup.sum()))


def _partition_messages(path, work: Path, ids: list[np.ndarray], *, chunk_rows: int, limited: bool, mapping,
                        encoding: str, progress: Progress) -> TableCounts:
    counts, problems = TableCounts(), []
    index = pd.Index(np.concatenate(ids) if ids else np.empty(0, dtype=object))
    chunk_of = np.concatenate([np.full(len(c), k, dtype=np.int32) for k, c in enumerate(ids)]) if ids \
        else np.empty(0, dtype=np.int32)
    for j, raw in enumerate(iter_raw_chunks(path, chunk_rows=chunk_rows, encoding=encoding, problems=problems)):
        counts.read += len(raw.frame) + len(raw.unreadable)
        valid, bad = _valid_rows(raw, "messages", mapping=mapping, source=str(path))
        pos = index.get_indexer(valid["ticket_id"].to_numpy(dtype=object))
        orphan = pos < 0
        if orphan.any():
            if limited:
                counts.skipped_by_limit += int(orphan.sum())
            else:
                lost = valid.loc[orphan].copy()
                lost[REASON_COL] = "ticket_id is not in the tickets table"
                bad = pd.concat([bad, lost], ignore_index=True)
            valid, pos = valid.loc[~orphan], pos[~orphan]
        counts.quarantined += quarantine_part(bad, work, "messages", "read", j)
        counts.used += len(valid)
        target = chunk_of[pos]
        for k in np.unique(target):
            folder = work / "messages" / f"chunk-{int(k):05d}"
            folder.mkdir(parents=True, exist_ok=True)
            valid.loc[target == k].reset_index(drop=True).to_parquet(folder / f"m-{j:05d}.parquet", index=False)
        progress("partition messages", counts.read, None)
    counts.unreadable_files = [vars(p) for p in problems]
    quarantine_part(_problem_rows(problems), work, "messages", "files", 0)
    return counts


def partition_inputs(*, tickets: str | Path, messages: str | Path | None, work: Path, chunk_rows: int,
                     limit: int | None = None, mapping: Mapping[str, str] | None = None, encoding: str = "utf-8",
                     progress: Progress | None = None) -> Partition:
    """Stream tickets (and messages) into per-chunk files under ``work``. See the module docstring."""
    progress = progress or (lambda stage, done, total: None)
    ids, ticket_counts = _partition_tickets(tickets, work, chunk_rows=chunk_rows, limit=limit, mapping=mapping,
                                            encoding=encoding, progress=progress)
    if not ticket_counts.used:
        raise NoUsableRowsError(f"No usable tickets rows in {tickets}: see {work / 'quarantine'} for the reasons.")
    counts = {"tickets": ticket_counts}
    if messages is not None:
        counts["messages"] = _partition_messages(messages, work, ids, chunk_rows=chunk_rows * 4,
                                                 limited=limit is not None, mapping=mapping, encoding=encoding,
                                                 progress=progress)
    return Partition(chunks=len(ids), chunk_sizes=[len(c) for c in ids], counts=counts)
