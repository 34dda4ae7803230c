"""Reading a ``cxlens score`` output folder (or a folder of raw canonical tables).

The layout is documented in docs/score-output.md; this module is the one place that knows the
file names, so the dashboard, the report and the notebooks only call :func:`read_scored`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from cxlens.errors import DataError

__all__ = ["AI_TICKET_COLUMNS", "archive_tables", "PART_TABLES", "SINGLE_TABLES", "ScoredArchive", "is_score_output",
           "read_scored", "read_parts"]

log = logging.getLogger(__name__)

#: tables written as ``<name>/part-NNNNN.parquet`` (one part per chunk)
PART_TABLES = ("tickets", "messages", "qa_conversations", "qa_steps")
#: tables written as one ``<name>.parquet``
SINGLE_TABLES = ("mentions", "accounts", "surveys")
#: ticket columns only a scoring run adds
AI_TICKET_COLUMNS = ("request_type", "request_type_confidence", "request_type_secondary",
                     "request_type_secondary_confidence", "topic_id", "topic", "topic_confidence",
                     "topic_parent_id", "topic_parent", "topic_secondary_id", "topic_secondary",
                     "sentiment", "sentiment_score", "script_adherence", "auto_fail")
RAW_TABLES = ("tickets", "messages", "accounts", "surveys", "mentions")


@dataclass
class ScoredArchive:
    """The tables of a scored (or raw) archive; any may be ``None``."""

    path: Path
    tickets: pd.DataFrame | None = None
    messages: pd.DataFrame | None = None
    accounts: pd.DataFrame | None = None
    surveys: pd.DataFrame | None = None
    mentions: pd.DataFrame | None = None
    qa_conversations: pd.DataFrame | None = None
    qa_steps: pd.DataFrame | None = None
    kpis: dict[str, Any] | None = None
    manifest: dict[str, Any] = field(default_factory=dict)
    scored: bool = False

    def has(self, table: str, *columns: str) -> bool:
        """Whether ``table`` is present and has every one of ``columns``."""
        frame = getattr(self, table, None)
        return frame is not None and all(c in frame.columns for c in columns)


def is_score_output(path: str | Path) -> bool:
    """A folder written by ``cxlens score`` (it has a manifest.json)."""
    return (Path(path) / "manifest.json").is_file()


def read_parts(folder: str | Path, *, columns: Sequence[str] | None = None) -> pd.DataFrame | None:
    """All ``part-*.parquet`` files of a folder as one frame (``None`` if there are none)."""
    parts = sorted(Path(folder).glob("part-*.parquet"))
    if not parts:
        return None
    frames = [pd.read_parquet(p, columns=_present(p, columns)) for p in parts]
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def _present(path: Path, columns: Sequence[str] | None) -> list[str] | None:
    if columns is None:
        return None
    import pyarrow.parquet as pq

    names = set(pq.read_schema(path).names)
    return [c for c in columns if c in names]


def _raw_file(folder: Path, table: str) -> Path | None:
    for ext in (".parquet", ".csv", ".jsonl", ".json", ".tsv"):
        candidate = folder / f"{table}{ext}"
        if candidate.is_file():
            return candidate
    candidate = folder / table
    return candidate if candidate.is_dir() else None


def archive_tables(path: str | Path) -> dict[str, str]:
    """The canonical tables found in a folder (``tickets.csv``, ``messages.parquet``, ...): name -> path."""
    folder = Path(path)
    if not folder.is_dir():
        raise DataError(f"{{archive={str(folder)!r}}}: not a folder.", params=("archive",))
    found = {name: _raw_file(folder, name) for name in RAW_TABLES}
    found = {k: str(v) for k, v in found.items() if v is not None}
    if "tickets" not in found:
        raise DataError(f"{{archive={str(folder)!r}}}: no tickets.csv / .parquet / .jsonl in it (the tickets table "
                        "is required).", params=("archive",))
    return found


def _with_csat_estimate(tickets: pd.DataFrame, path: Path, wanted: Sequence[str] | None) -> pd.DataFrame:
    """The tickets with the run's estimated CSAT columns (``tickets_csat.parquet``, by ticket_id), those of
    them in ``wanted`` when it is given."""
    import pyarrow.parquet as pq

    names = [c for c in pq.read_schema(path).names if c != "ticket_id" and (wanted is None or c in wanted)]
    if not names or "ticket_id" not in tickets.columns:
        return tickets
    estimate = pd.read_parquet(path, columns=["ticket_id", *names]).drop_duplicates("ticket_id")
    by_id = estimate.set_index("ticket_id")
    return tickets.assign(**{c: tickets["ticket_id"].map(by_id[c]).to_numpy() for c in names})


def read_scored(path: str | Path, *, tables: Sequence[str] | None = None,
                columns: dict[str, Sequence[str]] | None = None, redact: bool = False) -> ScoredArchive:
    """Read a ``cxlens score`` output folder, or a folder of raw canonical tables.

    ``tables`` limits which tables are read; ``columns`` maps a table to the columns to read
    (missing ones are skipped), to keep memory low on big archives.  With ``redact``, personal data
    in every text column and in the KPI report is replaced by typed placeholders as it is read
    (:mod:`cxlens.redact`; ids holding personal data become pseudonyms, so joins still work), so
    nothing shown from the archive (report, dashboard) holds a raw value.
    """
    archive = _read_archive(path, tables=tables, columns=columns)
    return redacted_archive(archive) if redact else archive


def redacted_archive(archive: ScoredArchive) -> ScoredArchive:
    """A copy of ``archive`` with personal data replaced in every table and in ``kpis`` (counts per type, never
    values, go to the log and to ``manifest["redacted"]``)."""
    import dataclasses

    from cxlens.redact import Pseudonyms, redact_frames, redact_value

    names = [f.name for f in dataclasses.fields(archive)
             if isinstance(getattr(archive, f.name), pd.DataFrame)]
    pseudonyms = Pseudonyms()  # one for tables and KPIs: an id keyed in kpis.json matches its rows
    frames, counts = redact_frames({name: getattr(archive, name) for name in names}, pseudonyms=pseudonyms)
    kpis, kpi_counts = (redact_value(archive.kpis, pseudonyms=pseudonyms) if archive.kpis is not None
                        else (None, {}))
    counts.update(kpi_counts)
    log.info("redacted the archive as read: %s", ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "nothing")
    manifest = {**archive.manifest, "redacted": dict(sorted(counts.items()))}
    return dataclasses.replace(archive, **frames, kpis=kpis, manifest=manifest)


def _read_archive(path: str | Path, *, tables: Sequence[str] | None,
                  columns: dict[str, Sequence[str]] | None) -> ScoredArchive:
    folder = Path(path)
    if not folder.is_dir():
        raise DataError(f"{folder} is not a folder: give the output folder of a scoring run, "
                        f"or a folder of canonical tables such as examples/archive.")
    columns = columns or {}
    wanted = set(tables) if tables is not None else set(PART_TABLES + SINGLE_TABLES)
    if is_score_output(folder):
        archive = ScoredArchive(path=folder, scored=True)
        archive.manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        if archive.manifest.get("status") != "complete":
            log.warning("%s: the scoring run is not complete (status %r); showing what is there.",
                        folder, archive.manifest.get("status"))
        for name in PART_TABLES:
            if name in wanted:
                setattr(archive, name, read_parts(folder / name, columns=columns.get(name)))
        if archive.tickets is not None and (folder / "tickets_csat.parquet").is_file():
            archive.tickets = _with_csat_estimate(archive.tickets, folder / "tickets_csat.parquet",
                                                  columns.get("tickets"))
        for name in SINGLE_TABLES:
            file = folder / f"{name}.parquet"
            if name in wanted and file.is_file():
                setattr(archive, name, pd.read_parquet(file, columns=_present(file, columns.get(name))))
        kpis = folder / "kpis.json"
        if kpis.is_file():
            archive.kpis = json.loads(kpis.read_text(encoding="utf-8"))
        return archive
    from cxlens.dataset import load_dataset

    found = {name: _raw_file(folder, name) for name in RAW_TABLES if name in wanted}
    found = {k: v for k, v in found.items() if v is not None}
    if not found:
        raise DataError(f"{folder} has neither a manifest.json (a `cxlens score` output) nor any of "
                        f"{', '.join(t + '.csv' for t in RAW_TABLES)}.")
    dataset = load_dataset(**found)
    archive = ScoredArchive(path=folder, scored=False,
                            manifest={"counts": {s["table"]: s for s in dataset.summary()}, "status": "raw"})
    for name in found:
        frame = dataset.frame(name)
        keep = columns.get(name)
        if frame is not None and keep is not None:
            frame = frame[[c for c in keep if c in frame.columns]]
        setattr(archive, name, frame)
    return archive
