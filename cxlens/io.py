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

import csv
import io
import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cxlens._validate import REASON_COL, ROW_COL, SOURCE_COL, validate_frame
from cxlens.errors import NoUsableRowsError, UnreadableFileError
from cxlens.schema import TableSchema, get_schema

__all__ = [
    "LoadedTable",
    "file_format",
    "parse_mapping",
    "read_frame",
    "load_table",
    "table_files",
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


def table_files(path: Path) -> list[Path]:
    """The data files ``path`` names: the file itself, or the data files of a folder (sorted; no hidden ones)."""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in SUFFIXES and not p.name.startswith("."))
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


def undecodable(path: Path | str, encoding: str, exc: UnicodeDecodeError) -> UnreadableFileError:
    """The error for a file that is not ``encoding`` text: it names the ``encoding`` parameter (the CLI, its flag)."""
    return UnreadableFileError(f"{path} is not valid {encoding} text (byte {exc.start}: {exc.reason}): give the "
                               "file's encoding, e.g. {encoding='latin-1'} (or cp1252, utf-16).", params=("encoding",))


_EOF_IN_STRING = re.compile(r"EOF inside string starting at row (\d+)")


def _read_csv(path: Path, *, sep: str, encoding: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All columns as strings, so quarantined rows keep the value as given."""
    common = dict(sep=sep, dtype=str, keep_default_na=False, na_values=[""])
    try:
        return pd.read_csv(path, encoding=encoding, **common), pd.DataFrame()
    except UnicodeDecodeError as exc:
        raise undecodable(path, encoding, exc) from exc
    except pd.errors.EmptyDataError as exc:
        raise UnreadableFileError(f"{path} is empty: it has no header row.") from exc
    except pd.errors.ParserError:
        pass
    text = _read_text(path, encoding=encoding)
    return _salvage_csv(text, path=path, common=common, first_row=1)


def _salvage_csv(text: str, *, path: Path, common: dict, first_row: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Parse CSV text with malformed lines: good rows in, bad lines set aside with the reason.

    An unbalanced quote (") would swallow the rest of the file into one field:
    that line alone is set aside and parsing resumes on the next line.  Lines
    with the wrong number of fields are set aside by pandas' python engine.
    """
    sep = common["sep"]
    try:
        frame = pd.read_csv(io.StringIO(text), **common)
        frame.insert(0, ROW_COL, np.arange(first_row, first_row + len(frame)))
        return frame, pd.DataFrame()
    except pd.errors.EmptyDataError:
        return pd.DataFrame(), pd.DataFrame()
    except pd.errors.ParserError as exc:
        stray = _EOF_IN_STRING.search(str(exc))
        if stray is None:
            return _read_csv_lenient(text, path=path, common=common)
    lines = text.splitlines(keepends=True)
    reader = csv.reader(lines, delimiter=sep)
    for _ in range(int(stray.group(1))):  # the header and the good records before the stray quote
        next(reader, None)
    cut = reader.line_num
    good = pd.read_csv(io.StringIO("".join(lines[:cut])), **common) if cut > 1 else pd.DataFrame()
    good.insert(0, ROW_COL, np.arange(first_row, first_row + len(good)))
    bad_row = first_row + len(good)
    bad = pd.DataFrame({ROW_COL: [bad_row], REASON_COL: ['unbalanced quote (") in this line, which is set aside'],
                        "_raw": [lines[cut].rstrip("\r\n")[:1000]] if cut < len(lines) else [""]})
    if cut + 1 >= len(lines):
        return good, bad
    rest, rest_bad = _salvage_csv(lines[0] + "".join(lines[cut + 1:]), path=path, common=common,
                                  first_row=bad_row + 1)
    frames = [f for f in (good, rest) if len(f.columns)]
    return (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(),
            pd.concat([bad, rest_bad], ignore_index=True))


def _read_csv_lenient(text: str, *, path: Path, common: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Re-read with the python engine, setting lines with the wrong number of fields aside."""
    bad_lines: list[list[str]] = []

    def keep_bad(line: list[str]) -> None:
        bad_lines.append(line)
        return None

    try:
        frame = pd.read_csv(io.StringIO(text), engine="python", on_bad_lines=keep_bad, **common)
    except (pd.errors.ParserError, csv.Error) as exc:
        raise UnreadableFileError(
            f"{path} is not well-formed CSV: {exc}. A stray or unbalanced quote (\") usually "
            "causes this; fix the quoting or export the file again."
        ) from exc
    sep = common["sep"]
    bad = pd.DataFrame({REASON_COL: "malformed CSV line (wrong number of fields)",
                        "_raw": [sep.join(map(str, line)) for line in bad_lines]})
    return frame, bad


def _read_text(path: Path, *, encoding: str) -> str:
    try:
        return path.read_text(encoding=encoding)
    except UnicodeDecodeError as exc:
        raise undecodable(path, encoding, exc) from exc


def parse_jsonl_line(line: str, lineno: int, records: list, rows: list, bad: list) -> None:
    """One JSON Lines line: an object goes to ``records`` (its line number to ``rows``), anything else to
    ``bad`` with its reason; blank lines are skipped."""
    if not line.strip():
        return
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        bad.append({ROW_COL: lineno, REASON_COL: f"line is not JSON ({exc.msg})", "_raw": line[:1000]})
        return
    if not isinstance(obj, dict):
        bad.append({ROW_COL: lineno, REASON_COL: "line is JSON but not an object", "_raw": line[:1000]})
        return
    records.append(obj)
    rows.append(lineno)


def _read_jsonl(path: Path, *, encoding: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    text = _read_text(path, encoding=encoding)
    records, bad, rows = [], [], []
    for lineno, line in enumerate(text.splitlines(), start=1):
        parse_jsonl_line(line, lineno, records, rows, bad)
    frame = pd.DataFrame.from_records(records)
    frame.insert(0, ROW_COL, rows) if records else None
    return frame, pd.DataFrame(bad)


def _read_json(path: Path, *, encoding: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    try:
        obj = json.loads(path.read_text(encoding=encoding))
    except UnicodeDecodeError as exc:
        raise undecodable(path, encoding, exc) from exc
    except json.JSONDecodeError as exc:
        raise UnreadableFileError(f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}.") from exc
    if isinstance(obj, dict):
        obj = next((v for v in obj.values() if isinstance(v, list)), [obj])
    if not isinstance(obj, list):
        raise UnreadableFileError(f"{path}: expected a JSON array of objects.")
    return pd.DataFrame.from_records([o for o in obj if isinstance(o, dict)]), pd.DataFrame()


def read_frame(path: str | Path, *, encoding: str = "utf-8") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read a file or a folder of files without validating.

    Returns ``(frame, unreadable)``: ``unreadable`` holds lines that could not
    be parsed at all (a broken JSONL line, a CSV line with too many fields),
    with ``_source``, ``_row``, ``_reason`` and ``_raw``.  ``frame`` carries
    ``_source`` and ``_row`` for every row so a problem can be traced back.
    """
    parts, bad_parts = [], []
    enc = "utf-8-sig" if encoding.lower() in ("utf-8", "utf8") else encoding
    for file in table_files(Path(path)):
        fmt = file_format(file)
        if file.stat().st_size == 0:
            raise UnreadableFileError(f"{file} is empty (0 bytes).")
        if fmt in ("csv", "tsv"):
            frame, bad = _read_csv(file, sep="," if fmt == "csv" else "\t", encoding=enc)
        elif fmt == "jsonl":
            frame, bad = _read_jsonl(file, encoding=enc)
        elif fmt == "json":
            frame, bad = _read_json(file, encoding=enc)
        else:
            try:
                frame, bad = pd.read_parquet(file), pd.DataFrame()
            except Exception as exc:  # pyarrow raises many types for a broken file
                raise UnreadableFileError(f"{file} is not a readable Parquet file: {exc}") from exc
        if ROW_COL not in frame:
            frame.insert(0, ROW_COL, np.arange(1, len(frame) + 1))
        frame.insert(0, SOURCE_COL, pd.Categorical.from_codes(np.zeros(len(frame), dtype=np.int8), [str(file)]))
        if len(bad):
            bad.insert(0, SOURCE_COL, str(file))
            bad_parts.append(bad)
        parts.append(frame)
    frame = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
    bad = pd.concat(bad_parts, ignore_index=True) if bad_parts else pd.DataFrame()
    return frame, bad


def load_table(path: str | Path, table: str | TableSchema, *, mapping: Mapping[str, str] | None = None,
               encoding: str = "utf-8", allow_empty: bool = False) -> LoadedTable:
    """Read, validate and split one table. See the module docstring."""
    schema = get_schema(table) if isinstance(table, str) else table
    raw, unreadable = read_frame(path, encoding=encoding)
    valid, quarantine = validate_frame(raw, schema, source=str(path), mapping=mapping)
    if len(unreadable):
        quarantine = pd.concat([quarantine, unreadable], ignore_index=True)
    loaded = LoadedTable(name=schema.name, frame=valid.drop(columns=[SOURCE_COL], errors="ignore"),
                         quarantine=quarantine, sources=(str(path),))
    if len(quarantine):
        log.warning("%s: %d of %d rows quarantined (%s)", schema.name, len(quarantine), loaded.n_read,
                    _top_reasons(quarantine))
    if not len(valid) and not allow_empty:
        detail = f": {_top_reasons(quarantine)}" if len(quarantine) else " (the file has a header but no rows)"
        raise NoUsableRowsError(f"No usable {schema.name} rows in {path}{detail}.")
    return loaded


def _top_reasons(quarantine: pd.DataFrame, k: int = 3) -> str:
    reasons = quarantine[REASON_COL].str.split("; ").explode().value_counts().head(k)
    return ", ".join(f"{reason} x{count}" for reason, count in reasons.items())


# ---------------------------------------------------------------- writing


def write_table(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write by suffix: .csv, .jsonl or .parquet. Timestamps go out as ISO 8601."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = file_format(path)
    if fmt == "parquet":
        frame.to_parquet(path, index=False)
    elif fmt == "jsonl":
        frame.to_json(path, orient="records", lines=True, date_format="iso", force_ascii=False)
    else:
        frame.to_csv(path, index=False, sep="," if fmt == "csv" else "\t", date_format="%Y-%m-%dT%H:%M:%S%z")
    return path


def write_quarantine(tables: Iterable[LoadedTable], out_dir: str | Path) -> dict[str, Path]:
    """One ``quarantine/<table>.csv`` per table that has rejected rows."""
    written = {}
    for table in tables:
        if len(table.quarantine):
            written[table.name] = write_table(table.quarantine, Path(out_dir) / "quarantine" / f"{table.name}.csv")
    return written
