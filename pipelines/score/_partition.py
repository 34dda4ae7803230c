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
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cxlens._csv_safety import write_csv
from cxlens.errors import CxlensError, NoUsableRowsError, UnreadableFileError
from cxlens.io import REASON_COL, SOURCE_COL, reason_counts, top_reasons, validate_frame
from cxlens.io_stream import FileProblem, check_accounted, iter_raw_chunks
from cxlens.schema import get_schema

__all__ = ["Partition", "TableCounts", "partition_inputs", "quarantine_part", "unreadable_files_error"]

log = logging.getLogger(__name__)
Progress = Callable[[str, int, int | None], None]


@dataclass
class TableCounts:
    """Rows of one input table: ``read = used + quarantined (+ skipped_by_limit)``."""

    read: int = 0
    used: int = 0
    quarantined: int = 0
    skipped_by_limit: int = 0
    #: how many quarantined rows give each reason (for the error when no row is usable)
    reasons: Counter = field(default_factory=Counter, repr=False)
    #: the files that could not be read to their end (with their errors): :func:`unreadable_files_error`
    problems: list[FileProblem] = field(default_factory=list, repr=False)

    @property
    def unreadable_files(self) -> list[dict]:
        return [p.as_dict() for p in self.problems]

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
    write_csv(frame, path)
    return len(frame)


def _valid_rows(raw, table: str, *, mapping, source: str, rules) -> tuple[pd.DataFrame, pd.DataFrame]:
    valid, bad = validate_frame(raw.frame, get_schema(table), source=source, mapping=mapping, rules=rules)
    if len(raw.unreadable):
        bad = pd.concat([bad, raw.unreadable], ignore_index=True)
    return valid.drop(columns=[SOURCE_COL], errors="ignore"), bad


def _partition_tickets(path, work: Path, *, chunk_rows: int, limit: int | None, mapping, reading: dict, rules,
                       stop: bool, progress: Progress) -> tuple[list[np.ndarray], TableCounts]:
    counts, ids, records = TableCounts(), [], []
    problems = counts.problems
    (work / "tickets").mkdir(parents=True, exist_ok=True)
    k = 0  # chunks written; j below numbers the raw chunks read (a chunk of only bad rows writes no chunk)
    for j, raw in enumerate(iter_raw_chunks(path, chunk_rows=chunk_rows, problems=problems, counts=records,
                                            **reading)):
        if limit is not None and counts.used >= limit:
            counts.skipped_by_limit += len(raw.frame) + len(raw.unreadable)
            continue
        counts.read += len(raw.frame) + len(raw.unreadable)
        valid, bad = _valid_rows(raw, "tickets", mapping=mapping, source=str(path), rules=rules)
        if limit is not None and counts.used + len(valid) > limit:
            keep = limit - counts.used
            counts.skipped_by_limit += len(valid) - keep
            counts.read -= len(valid) - keep
            valid = valid.iloc[:keep]
        counts.reasons.update(reason_counts(bad))
        counts.quarantined += quarantine_part(bad, work, "tickets", "read", j)
        if len(valid):
            valid.to_parquet(work / "tickets" / f"chunk-{k:05d}.parquet", index=False)
            ids.append(valid["ticket_id"].to_numpy(dtype=object))
            counts.used += len(valid)
            k += 1
        progress("partition tickets", counts.read, None)
        _stop_if_broken("tickets", counts, stop)
    _stop_if_broken("tickets", counts, stop)
    check_accounted("tickets", records, problems, counts.used + counts.quarantined + counts.skipped_by_limit)
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
                        reading: dict, rules, stop: bool, progress: Progress) -> TableCounts:
    counts, records = TableCounts(), []
    problems = counts.problems
    index = pd.Index(np.concatenate(ids) if ids else np.empty(0, dtype=object))
    chunk_of = np.concatenate([np.full(len(c), k, dtype=np.int32) for k, c in enumerate(ids)]) if ids \
        else np.empty(0, dtype=np.int32)
    for j, raw in enumerate(iter_raw_chunks(path, chunk_rows=chunk_rows, problems=problems, counts=records,
                                            **reading)):
        counts.read += len(raw.frame) + len(raw.unreadable)
        valid, bad = _valid_rows(raw, "messages", mapping=mapping, source=str(path), rules=rules)
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
        _stop_if_broken("messages", counts, stop)
    _stop_if_broken("messages", counts, stop)
    check_accounted("messages", records, problems, counts.used + counts.quarantined + counts.skipped_by_limit)
    return counts


def _stop_if_broken(table: str, counts: TableCounts, stop: bool) -> None:
    """With ``stop``, a file that could not be read ends the partition at once (not after every other file)."""
    if stop and counts.problems:
        raise unreadable_files_error(Partition(chunks=0, chunk_sizes=[], counts={table: counts}))


def unreadable_files_error(partition: Partition) -> CxlensError | None:
    """The error for the files a run could not read (to their end), or ``None``: the run stops on it unless the
    user asked to skip such files. It is the first file's own error (its advice included), plus how to skip."""
    broken = [(table, p) for table, c in partition.counts.items() for p in c.problems]
    if not broken:
        return None
    table, first = broken[0]
    more = f" (and {len(broken) - 1} more file(s))" if len(broken) > 1 else ""
    error = first.error
    template = error.template if isinstance(error, CxlensError) else " ".join(first.reason.split())
    if first.source not in template:
        template = f"{first.source}: {template}"
    params = set(getattr(error, "params", ())) | {"skip_unreadable"}
    return UnreadableFileError(f"{table}: {template.rstrip('.')}{more}. {first.rows_before:,} records of it were "
                               "read before the break; pass {skip_unreadable} to score without the rest.",
                               params=params)


def partition_inputs(*, tickets: str | Path, messages: str | Path | None, work: Path, chunk_rows: int,
                     limit: int | None = None, mapping: Mapping[str, str] | None = None, encoding: str = "utf-8",
                     rules=None, follow_symlinks: bool = False, stop_on_unreadable: bool = False,
                     progress: Progress | None = None) -> Partition:
    """Stream tickets (and messages) into per-chunk files under ``work``. See the module docstring.

    ``rules``: a :class:`cxlens.io.ValueRules` (date formats and range); ``follow_symlinks``: read links inside
    an input folder. Files that break part-way are in each table's ``unreadable_files``
    (:func:`unreadable_files_error`); with ``stop_on_unreadable`` the first one raises that error at once."""
    progress = progress or (lambda stage, done, total: None)
    reading = {"encoding": encoding, "follow_symlinks": follow_symlinks}
    ids, ticket_counts = _partition_tickets(tickets, work, chunk_rows=chunk_rows, limit=limit, mapping=mapping,
                                            reading=reading, rules=rules, stop=stop_on_unreadable,
                                            progress=progress)
    if not ticket_counts.used:
        detail = top_reasons(ticket_counts.reasons) or "the file has a header but no rows"
        raise NoUsableRowsError(f"No usable tickets rows in {tickets}: {detail}.")
    counts = {"tickets": ticket_counts}
    if messages is not None:
        counts["messages"] = _partition_messages(messages, work, ids, chunk_rows=chunk_rows * 4,
                                                 limited=limit is not None, mapping=mapping, reading=reading,
                                                 rules=rules, stop=stop_on_unreadable, progress=progress)
    return Partition(chunks=len(ids), chunk_sizes=[len(c) for c in ids], counts=counts)
