"""Reading tables at the boundary: parse, validate, quarantine.

``load_table(path, "tickets")`` reads CSV, JSON Lines, JSON or Parquet (or a
folder of them), renames columns with a mapping, checks the table against its
schema and returns a :class:`LoadedTable`: the valid rows, parsed to their
canonical types, and the quarantined rows *as given* with the reason(s) each
was rejected.  A missing required column stops the run with one error naming
every missing column; a bad row never does.

``read = used + quarantined`` always holds; :meth:`LoadedTable.summary` says so.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cxlens._csv_safety import write_csv
from cxlens._records import RecordCount, file_chunks, undecodable
from cxlens._validate import REASON_COL, ROW_COL, SOURCE_COL, ValueRules, check_columns, validate_frame
from cxlens.errors import NoUsableRowsError, RowAccountingError, UnreadableFileError
from cxlens.schema import TableSchema, get_schema

__all__ = [
    "REASON_COL",
    "ROW_COL",
    "SOURCE_COL",
    "LoadedTable",
    "ValueRules",
    "check_columns",
    "file_format",
    "parse_mapping",
    "read_files",
    "read_frame",
    "reading_encoding",
    "reason_counts",
    "reconcile",
    "top_reasons",
    "load_table",
    "table_files",
    "undecodable",
    "validate_frame",
    "write_quarantine",
    "write_table",
]

log = logging.getLogger(__name__)

SUFFIXES = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json",
            ".parquet": "parquet", ".pq": "parquet"}


@dataclass
class LoadedTable:
    """A validated table and what was set aside.

    frame: valid rows, canonical types, extra columns kept as read.
    quarantine: rejected rows as given plus ``_source``, ``_row`` (1-based row
    in its file, header excluded) and ``_reason``.
    """

    name: str
    frame: pd.DataFrame
    quarantine: pd.DataFrame
    sources: tuple[str, ...] = ()
    warnings: list[str] = field(default_factory=list)

    @property
    def n_read(self) -> int:
        return len(self.frame) + len(self.quarantine)

    def summary(self) -> dict[str, int | str]:
        return {"table": self.name, "read": self.n_read, "used": len(self.frame),
                "quarantined": len(self.quarantine)}


def parse_mapping(items: Iterable[str] | None) -> dict[str, str]:
    """``["their_col=ticket_id", ...]`` -> ``{"their_col": "ticket_id"}``."""
    from cxlens.errors import ConfigError

    mapping: dict[str, str] = {}
    for item in items or ():
        for part in str(item).split(","):
            if not part.strip():
                continue
            if "=" not in part:
                raise ConfigError(f"Column mapping {part!r} is not THEIR_COLUMN=OUR_COLUMN.")
            theirs, ours = (s.strip() for s in part.split("=", 1))
            mapping[theirs] = ours
    return mapping


# ---------------------------------------------------------------- reading


def table_files(path: Path, *, follow_symlinks: bool = False) -> list[Path]:
    """The data files ``path`` names: the file itself, or the data files of a folder (sorted; no hidden ones).

    A symbolic link inside a folder is refused unless ``follow_symlinks``: a link can point anywhere (``/etc``),
    and what is read may end up in a quarantine file. The path given itself may be a link (it was named)."""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in SUFFIXES and not p.name.startswith("."))
        links = [p for p in files if p.is_symlink()]
        if links and not follow_symlinks:
            shown = ", ".join(f"{p.name} -> {p.readlink()}" for p in links[:3])
            raise UnreadableFileError(f"{path} holds symbolic links ({shown}{', ...' if len(links) > 3 else ''}): "
                                      "cxlens does not follow links inside an input folder unless told to "
                                      "({follow_symlinks}).", params=("follow_symlinks",))
        if not files:
            raise UnreadableFileError(f"Folder {path} holds no .csv, .jsonl, .json or .parquet files.")
        return files
    if not path.exists():
        raise UnreadableFileError(f"File {path} does not exist.")
    return [path]


def file_format(path: Path) -> str:
    """``csv``, ``tsv``, ``jsonl``, ``json`` or ``parquet``, from the file's suffix."""
    fmt = SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise UnreadableFileError(
            f"Cannot tell the format of {path}: use a .csv, .tsv, .jsonl, .json or .parquet file."
        )
    return fmt


def reading_encoding(encoding: str) -> str:
    """The codec to read with: utf-8 reads (and drops) a byte-order mark."""
    return "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding


def read_files(path: str | Path, *, encoding: str = "utf-8", follow_symlinks: bool = False,
               ) -> tuple[pd.DataFrame, pd.DataFrame, list[RecordCount]]:
    """:func:`read_frame`, plus what was counted in each file (``records = rows + malformed``, checked)."""
    parts, bad_parts, counts = [], [], []
    enc = reading_encoding(encoding)
    for file in table_files(Path(path), follow_symlinks=follow_symlinks):
        count = RecordCount(source=str(file))
        chunks = list(file_chunks(file, file_format(file), chunk_rows=50_000, encoding=enc, count=count))
        counts.append(count)
        frame = pd.concat([c.frame for c in chunks], ignore_index=True) if len(chunks) > 1 else chunks[0].frame
        frame[SOURCE_COL] = pd.Categorical.from_codes(np.zeros(len(frame), dtype=np.int8), [str(file)])
        parts.append(frame)
        bad_parts += [c.unreadable for c in chunks if len(c.unreadable)]
    frame = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
    bad = pd.concat(bad_parts, ignore_index=True) if bad_parts else pd.DataFrame()
    return frame, bad, counts


def read_frame(path: str | Path, *, encoding: str = "utf-8",
               follow_symlinks: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read a file or a folder of files without validating.

    Returns ``(frame, unreadable)``: ``unreadable`` holds the records that could not be parsed (a broken
    JSON Lines line, a CSV record with an unbalanced quote or the wrong number of fields, a line that is not
    valid text), with ``_source``, ``_row``, ``_line``, ``_reason`` and ``_raw``. ``frame`` carries ``_source``
    and ``_row`` for every row so a problem can be traced back. See :mod:`cxlens._records`.
    """
    frame, bad, _ = read_files(path, encoding=encoding, follow_symlinks=follow_symlinks)
    return frame, bad


def reconcile(counts: list[RecordCount], used: pd.DataFrame, quarantined: pd.DataFrame) -> None:
    """Prove ``records = used + quarantined`` for every file (by ``_source``); :class:`RowAccountingError` if not."""
    seen = Counter()
    for frame in (used, quarantined):
        if SOURCE_COL in frame and len(frame):
            seen.update(frame[SOURCE_COL].astype(str).value_counts().to_dict())
    for count in counts:
        if seen.get(count.source, 0) != count.records:
            raise RowAccountingError(f"{count.source}: {count.records:,} records were read but "
                                     f"{seen.get(count.source, 0):,} are used or quarantined. This is a bug in "
                                     "cxlens; please report it with the file.")


def load_table(path: str | Path, table: str | TableSchema, *, mapping: Mapping[str, str] | None = None,
               encoding: str = "utf-8", allow_empty: bool = False, rules: ValueRules | None = None,
               follow_symlinks: bool = False) -> LoadedTable:
    """Read, validate and split one table. See the module docstring.

    ``rules``: how values are checked beyond their type (date formats and range); ``follow_symlinks``: read
    links inside an input folder."""
    schema = get_schema(table) if isinstance(table, str) else table
    raw, unreadable, counts = read_files(path, encoding=encoding, follow_symlinks=follow_symlinks)
    valid, quarantine = validate_frame(raw, schema, source=str(path), mapping=mapping, rules=rules)
    if len(unreadable):
        quarantine = pd.concat([quarantine, unreadable], ignore_index=True)
    reconcile(counts, valid, quarantine)
    loaded = LoadedTable(name=schema.name, frame=valid.drop(columns=[SOURCE_COL], errors="ignore"),
                         quarantine=quarantine, sources=(str(path),))
    if len(quarantine):
        log.warning("%s: %d of %d rows quarantined (%s)", schema.name, len(quarantine), loaded.n_read,
                    top_reasons(reason_counts(quarantine)))
    if not len(valid) and not allow_empty:
        detail = f": {top_reasons(reason_counts(quarantine))}" if len(quarantine) else \
            " (the file has a header but no rows)"
        raise NoUsableRowsError(f"No usable {schema.name} rows in {path}{detail}.")
    return loaded


def reason_counts(quarantine: pd.DataFrame) -> Counter:
    """How many quarantined rows give each reason (a row with several reasons counts for each)."""
    if not len(quarantine):
        return Counter()
    return Counter(quarantine[REASON_COL].str.split("; ").explode().value_counts().to_dict())


def top_reasons(counts: Counter, k: int = 3) -> str:
    """The ``k`` most common reasons as ``reason xN, ...`` (what the logs and errors say)."""
    return ", ".join(f"{reason} x{count}" for reason, count in counts.most_common(k))


# ---------------------------------------------------------------- writing


def write_table(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write by suffix: .csv, .jsonl or .parquet. Timestamps go out as ISO 8601; CSV and TSV cells that a
    spreadsheet would run as a formula get a leading ``'`` (:mod:`cxlens._csv_safety`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = file_format(path)
    if fmt == "parquet":
        frame.to_parquet(path, index=False)
    elif fmt == "jsonl":
        frame.to_json(path, orient="records", lines=True, date_format="iso", force_ascii=False)
    else:
        write_csv(frame, path, sep="," if fmt == "csv" else "\t", date_format="%Y-%m-%dT%H:%M:%S%z")
    return path


def write_quarantine(tables: Iterable[LoadedTable], out_dir: str | Path) -> dict[str, Path]:
    """One ``quarantine/<table>.csv`` per table that has rejected rows."""
    written = {}
    for table in tables:
        if len(table.quarantine):
            written[table.name] = write_table(table.quarantine, Path(out_dir) / "quarantine" / f"{table.name}.csv")
    return written
