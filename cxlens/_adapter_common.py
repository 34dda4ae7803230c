"""What every helpdesk adapter shares: the result type, the record ledger, JSON pages, times, HTML, the oracle.

* :class:`Converted` - canonical ``tickets``, ``messages`` (and ``surveys``) plus the records set aside.
* :class:`Ledger` - every record an adapter reads gets one fate, used or quarantined (with its reason);
  :meth:`Ledger.check` proves ``read = used + quarantined`` record by record (a record with no fate is a bug:
  :class:`~cxlens.errors.RowAccountingError`).
* :func:`load_json_records` - vendor exports as JSON files, JSON Lines or API pages (``{"tickets": [...],
  "next_page": ...}``), one file or a folder; a broken line or a non-object item is a quarantined record.
* :func:`to_utc` (ISO 8601 with any offset, Unix seconds or milliseconds), :func:`html_to_text` (stdlib
  :mod:`html.parser`, entities decoded, block tags as line breaks).
* :func:`finish` - the frames, cxlens's derived fields, the comparison with the vendor's own figures
  (:func:`cxlens._adapter_oracle.compare_with_vendor`) and the ledger's proof, for every adapter.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cxlens._adapter_oracle import compare_with_vendor
from cxlens.dataset import derive_ticket_fields
from cxlens.errors import NoUsableRowsError, RowAccountingError, UnreadableFileError
from cxlens.io import REASON_COL, ROW_COL, SOURCE_COL, undecodable
from cxlens.schema import MESSAGES, SURVEYS, TICKETS

__all__ = ["RECORD_KEY", "Converted", "Ledger", "Record", "finish", "html_to_text", "iter_dicts",
           "latest_versions", "load_json_records", "rows_frame", "to_id", "to_seconds", "to_utc"]

KIND_COL = "_kind"
RAW_COL = "_raw"


@dataclass
class Converted:
    """Canonical ``tickets``, ``messages`` and ``surveys``, the records set aside (with ``_reason``) and, for
    exports that carry the vendor's own figures, ``comparison``: one row per ticket and metric
    (``first_response`` / ``resolution``) with cxlens's value, the vendor's and the verdict."""

    tickets: pd.DataFrame
    messages: pd.DataFrame
    quarantine: pd.DataFrame
    n_read: int = 0
    surveys: pd.DataFrame | None = None
    comparison: pd.DataFrame | None = None
    #: placeholders written per type when the result was redacted (counts only, never values)
    redactions: dict[str, int] | None = None
    #: records used (helpdesk adapters: proved record by record, ``n_read = n_used + len(quarantine)``)
    n_used: int | None = None

    def summary(self) -> dict[str, int]:
        out = {"records_read": self.n_read, "tickets": len(self.tickets), "messages": len(self.messages),
               "quarantined": len(self.quarantine)}
        if self.n_used is not None:
            out["records_used"] = self.n_used
        if self.surveys is not None:
            out["surveys"] = len(self.surveys)
        if self.comparison is not None and len(self.comparison):
            verdict = self.comparison["verdict"]
            out["vendor_checks"] = len(verdict)
            out["vendor_matches"] = int((verdict == "match").sum())
            out["vendor_explained"] = int(verdict.str.startswith("explained").sum())
            out["vendor_unexplained"] = int((verdict == "unexplained").sum())
        return out


@dataclass(frozen=True)
class Record:
    """One record of an export: where it was read (file, kind, 1-based number in that file) and its value
    (a dict, or a :class:`ValueError` whose args are ``(reason, raw text)`` when it could not be parsed)."""

    source: str
    kind: str
    row: int
    value: Any

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.source, self.kind, self.row)


@dataclass
class Ledger:
    """The fate of every record read: :meth:`use` or :meth:`reject` (the last call wins, so a ticket found to
    be merged after it was used moves to the quarantine)."""

    records: dict[tuple[str, str, int], Record] = field(default_factory=dict)
    fate: dict[tuple[str, str, int], str | None] = field(default_factory=dict)

    def add(self, records: Iterable[Record]) -> list[Record]:
        out = []
        for record in records:
            if record.key in self.records:  # pragma: no cover - two records under one key would hide one
                raise RowAccountingError(f"two records share the key {record.key}. This is a bug in cxlens: please "
                                         f"report it.")
            self.records[record.key] = record
            if isinstance(record.value, ValueError):
                self.fate[record.key] = record.value.args[0]
            else:
                out.append(record)
        return out

    def embedded(self, parent: Record, kind: str, items: Any, extra: dict) -> list[Record]:
        """The records embedded in ``parent`` (a ticket's ``comments``, a conversation's parts), each with
        ``extra`` fields (its ticket id); an item that is not an object is quarantined. Their kind names the
        parent (``comments in tickets 3``), their row is their place in it."""
        if not isinstance(items, list):
            return []
        where = f"{kind} in {parent.kind} {parent.row}"
        return self.add(Record(parent.source, where, i, {**item, **extra} if isinstance(item, dict) else
                               ValueError(f"a {kind} item is not a JSON object", json.dumps(item, default=str)[:1000]))
                        for i, item in enumerate(items, start=1))

    def use(self, record: Record) -> None:
        self.fate[record.key] = None

    def reject(self, record: Record, reason: str) -> None:
        self.fate[record.key] = reason

    @property
    def n_read(self) -> int:
        return len(self.records)

    def quarantine(self) -> pd.DataFrame:
        rows = []
        for key, reason in self.fate.items():
            if reason is None:
                continue
            record = self.records[key]
            value = record.value
            raw = value.args[1] if isinstance(value, ValueError) else json.dumps(value, ensure_ascii=False,
                                                                                 default=str)[:4000]
            rows.append({SOURCE_COL: record.source, KIND_COL: record.kind, ROW_COL: record.row,
                         REASON_COL: reason, RAW_COL: raw})
        return pd.DataFrame(rows, columns=[SOURCE_COL, KIND_COL, ROW_COL, REASON_COL, RAW_COL])

    @property
    def n_used(self) -> int:
        return sum(1 for reason in self.fate.values() if reason is None)

    def check(self) -> None:
        """Every record read has a fate, and used + quarantined = read."""
        missing = [k for k in self.records if k not in self.fate]
        if missing:
            source, kind, row = missing[0]
            raise RowAccountingError(f"{len(missing)} record(s) were read but neither used nor quarantined (first: "
                                     f"{kind} record {row} of {source}). This is a bug in cxlens: please report it.")
        extra = [k for k in self.fate if k not in self.records]
        if extra:  # pragma: no cover - a fate given to a record never read: a bug
            raise RowAccountingError(f"{len(extra)} record(s) have a fate but were never read. This is a bug in "
                                     f"cxlens: please report it.")


# ---------------------------------------------------------------- files and pages


def _files(path: Path) -> list[Path]:
    if not path.exists():
        raise UnreadableFileError(f"{path} does not exist.")
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink()
                       and p.suffix in (".json", ".jsonl", ".ndjson"))
        if not files:
            raise UnreadableFileError(f"Folder {path} holds no .json or .jsonl files (the vendor's export).")
        return files
    return [path]


def _kind_of_file(file: Path, kinds: dict[str, tuple[str, ...]]) -> str | None:
    """The kind a file's name announces (``ticket_comments-2.json`` -> ``comments``): longest prefix wins."""
    stem = file.name.lower()
    best = None
    for kind, prefixes in kinds.items():
        for prefix in prefixes:
            if stem.startswith(prefix) and (best is None or len(prefix) > best[1]):
                best = (kind, len(prefix))
    return best[0] if best else None


def load_json_records(path: str | Path, *, kinds: dict[str, tuple[str, ...]], encoding: str = "utf-8",
                      ) -> list[Record]:
    """The records of a vendor export (a file, or a folder of ``.json``/``.jsonl`` files).

    ``kinds`` maps each kind of record to the names it goes by: the list keys of an API page
    (``{"tickets": [...], "users": [...], "next_page": ...}``: every known list in a page is read, so sideloads
    count) and the file-name prefixes of a bare array or of JSON Lines (``comments*.jsonl``); a list key that
    several kinds share (``results``) is read as the kind the file's name gives. A JSON Lines line
    is a page or one record. A line that is not JSON, an item that is not an object, or a file whose kind is
    unknown gives a record whose value is a :class:`ValueError` (quarantined with its reason).
    """
    records: list[Record] = []
    counters: dict[tuple[str, str], int] = {}

    def add(source: str, kind: str, value: Any) -> None:
        n = counters.get((source, kind), 0) + 1
        counters[(source, kind)] = n
        if not isinstance(value, (dict, ValueError)):
            value = ValueError(f"a {kind} record is not a JSON object", json.dumps(value, default=str)[:1000])
        records.append(Record(source, kind, n, value))

    def page(source: str, obj: Any, file_kind: str | None) -> None:
        if isinstance(obj, dict):
            lists = [(kind, name) for kind, names in kinds.items() for name in names
                     if isinstance(obj.get(name), list)]
            shared = {name for _, name in lists if sum(name in names for names in kinds.values()) > 1}
            # a list key several kinds use (HubSpot's ``results``): the file name says which kind it holds
            lists = [(kind, name) for kind, name in lists if name not in shared or kind == file_kind]
            # a page of one ticket's items (``{"ticket_id": 7, "comments": [...]}``) lends them its ticket id
            parent = obj.get("ticket_id") if isinstance(obj.get("ticket_id"), (str, int)) else None
            for kind, name in lists:
                for item in obj[name]:
                    if parent is not None and isinstance(item, dict) and "ticket_id" not in item:
                        item = {**item, "ticket_id": parent}
                    add(source, kind, item)
            if lists:
                return
            if file_kind is None:
                add(source, "unknown", ValueError("an object of no known kind (not a page with a list of "
                                                  f"{', '.join(kinds)}) in a file whose name says no kind",
                                                  json.dumps(obj, default=str)[:1000]))
                return
            add(source, file_kind, obj)
        elif isinstance(obj, list):
            if file_kind is None:
                for item in obj:
                    page(source, item, None)
                return
            for item in obj:
                if isinstance(item, dict) and "id" not in item and "Id" not in item \
                        and any(isinstance(item.get(n), list) for ns in kinds.values() for n in ns):
                    page(source, item, file_kind)  # an array of pages (a record has an id, a page has none)
                else:
                    add(source, file_kind, item)
        else:
            add(source, file_kind or "unknown", obj)

    for file in _files(Path(path)):
        source = str(file)
        file_kind = _kind_of_file(file, kinds)
        try:
            text = file.read_text(encoding=encoding)
        except UnicodeDecodeError as exc:
            raise undecodable(file, encoding, exc) from exc
        if not text.strip():
            raise UnreadableFileError(f"{file} is empty.")
        if file.suffix in (".jsonl", ".ndjson"):
            for lineno, line in enumerate(text.splitlines(), start=1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    add(source, file_kind or "unknown", ValueError(f"line {lineno} is not JSON ({exc.msg})",
                                                                   line[:1000]))
                    continue
                page(source, obj, file_kind)
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UnreadableFileError(f"{file} is not valid JSON: {exc.msg} at line {exc.lineno}. Export it again, "
                                      f"or save each record on its own line as JSON Lines (.jsonl) so that one "
                                      f"broken record is set aside instead.") from exc
        page(source, obj, file_kind)
    return records


def latest_versions(records: list[Record], ledger: Ledger, *, what: str, id_key: str = "id",
                    created_key: str = "created_at", updated_key: str = "updated_at") -> dict[str, Record]:
    """One record per id: incremental exports and overlapping pages repeat a record each time it changed. The
    latest ``updated_key`` is kept (the later one read on a tie); the others are quarantined as superseded, as
    are records without an id or a valid ``created_key``."""
    latest: dict[str, Record] = {}
    never = pd.Timestamp.min.tz_localize("UTC")
    for record in records:
        value = record.value.get(id_key)
        rid = None if value is None or value == "" else str(value)
        if rid is None:
            ledger.reject(record, f"{what} has no {id_key}")
            continue
        if to_utc(record.value.get(created_key)) is None:
            ledger.reject(record, f"{what} {rid}: {created_key} {record.value.get(created_key)!r} is not a valid time")
            continue
        old = latest.get(rid)
        if old is not None:
            new_time = to_utc(record.value.get(updated_key)) or never
            old_time = to_utc(old.value.get(updated_key)) or never
            keep, drop = (old, record) if new_time < old_time else (record, old)
            kept_time = max(new_time, old_time)
            ledger.reject(drop, f"an older version of {what} {rid} (another export page has it updated at "
                                f"{kept_time.isoformat()}; that one is used)")
            if keep is old:
                continue
        latest[rid] = record
        ledger.use(record)
    return latest


# ---------------------------------------------------------------- values


_UNIX_MS = 10**11  # a Unix time above this (year 5138 in seconds) is in milliseconds
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$", re.IGNORECASE)
_UNIX_MIN = 10**8  # below this (March 1973) a number is not a time of a support export


def to_utc(value: Any) -> pd.Timestamp | None:
    """A timestamp in UTC, or None when ``value`` is empty or not a time.

    ISO 8601 with any offset (``2024-03-01T10:00:00-05:00``, ``...Z``, Salesforce's ``+0000``), Unix seconds
    (Intercom) or milliseconds (HubSpot), as numbers or digit strings. A time without offset is UTC. Any other
    text (``06/07/2024``: June or July?) is not a time.
    """
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, str) and re.fullmatch(r"\d{9,14}(\.\d+)?", value.strip()):
        value = float(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        if not np.isfinite(value) or value < _UNIX_MIN:
            return None
        unit = "ms" if value > _UNIX_MS else "s"
        return pd.Timestamp(value, unit=unit, tz="UTC")
    text = str(value).strip()
    if not _ISO.match(text):  # "06/07/2024" could be June or July: refused, as cxlens.io refuses it
        return None
    try:
        stamp = pd.Timestamp(text)
    except (ValueError, TypeError, OverflowError):
        return None
    if pd.isna(stamp):
        return None
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def to_id(value: Any) -> str | None:
    """An id as text (``7.0`` from a float column -> ``"7"``), or None when empty."""
    if value is None or value == "":
        return None
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def to_seconds(value: Any, *, unit: float = 1.0) -> float:
    """A duration in seconds (``unit`` seconds per unit of ``value``: 60 for minutes, 0.001 for ms); NaN if none."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return np.nan
    return number * unit if np.isfinite(number) and number >= 0 else np.nan


_BLOCK = {"p", "div", "br", "li", "ul", "ol", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
          "pre", "hr", "section", "article", "header", "footer"}
_SKIP = {"script", "style", "head", "title"}


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in _SKIP:
            self.skipping += 1
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: Any) -> str | None:
    """Plain text of an HTML body: tags removed, entities decoded (``&amp;`` -> ``&``, ``&#8217;`` -> ``'``),
    block tags and ``<br>`` as line breaks, scripts and styles dropped, runs of blanks collapsed."""
    if html is None or (isinstance(html, float) and np.isnan(html)):
        return None
    parser = _TextParser()
    parser.feed(str(html))
    parser.close()
    text = "".join(parser.parts).replace("\xa0", " ")
    lines = [re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in text.split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return text


def rows_frame(rows: list[dict], columns: Iterable[str], *, times: Iterable[str] = ()) -> pd.DataFrame:
    """A frame of ``rows`` with at least ``columns`` (in that order first), ``times`` as UTC datetimes. A column
    whose values mix text and other types (a vendor's ``vendor_score``: ``"good"`` or ``4``) is made text, so
    that every format (Parquet included) can hold it."""
    columns = list(columns)
    frame = pd.DataFrame(rows)
    for col in columns:
        if col not in frame:
            frame[col] = None
    frame = frame[columns + [c for c in frame.columns if c not in columns]]
    for col in times:
        frame[col] = pd.to_datetime(frame[col], utc=True)
    for col in frame.columns:
        if frame[col].dtype == object:
            kinds = {type(v) for v in frame[col] if v is not None and not (isinstance(v, float) and np.isnan(v))}
            if str in kinds and len(kinds) > 1:
                frame[col] = frame[col].map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v))
                                            else str(v))
    return frame


def iter_dicts(value: Any) -> Iterator[dict]:
    """The dicts of a list (anything else yields nothing)."""
    if isinstance(value, list):
        yield from (v for v in value if isinstance(v, dict))


RECORD_KEY = "_record"  # a row's source record, popped by :func:`finish`


def _present(schema: Any, rows: list[dict], *always: str) -> list[str]:
    """The schema's columns that are required, named in ``always`` or set in some row (in schema order)."""
    return [c.name for c in schema.columns if c.required or c.name in always
            or any(row.get(c.name) is not None for row in rows)]


def finish(vendor: str, path: str | Path, ledger: Ledger, *, tickets: list[dict], messages: list[dict],
           surveys: list[dict], figures: list[dict], expected: str = "") -> Converted:
    """Frames from the rows each adapter built (every row carries its :class:`Record` under ``_record``).

    Messages and surveys of a ticket that is not in the export are quarantined; a repeated ``message_id``
    keeps the first. Then ``first_response_at`` and ``agent_replies`` are derived from the messages (human agents'
    public replies only), the vendor's figures are compared (:func:`compare_with_vendor`) and the ledger is
    checked: every record read was used or quarantined. ``expected`` says what the input should hold (for the
    error when no ticket is usable).
    """
    ticket_ids = {row["ticket_id"] for row in tickets}
    kept, seen = [], set()
    for row in messages:
        record = row.pop(RECORD_KEY)
        if row["ticket_id"] not in ticket_ids:
            ledger.reject(record, f"message of ticket {row['ticket_id']}, which is not in the export (or was set "
                                  f"aside)")
        elif row["message_id"] in seen:
            ledger.reject(record, f"repeated message id {row['message_id']} (the first is kept)")
        else:
            seen.add(row["message_id"])
            kept.append(row)
    kept_surveys = []
    for row in surveys:
        record = row.pop(RECORD_KEY)
        if row.get("ticket_id") is not None and row["ticket_id"] not in ticket_ids:
            ledger.reject(record, f"survey answer on ticket {row['ticket_id']}, which is not in the export (or "
                                  f"was set aside)")
        else:
            kept_surveys.append(row)
    for row in tickets:
        row.pop(RECORD_KEY, None)
    if not tickets:
        quarantine = ledger.quarantine()
        detail = quarantine[REASON_COL].iloc[0] if len(quarantine) else "it holds no ticket records"
        raise NoUsableRowsError(f"No usable {vendor} tickets in {path}: {detail}. Expected "
                                f"{expected or 'the vendor export'} (docs/data-model.md, \"Helpdesk exports\").")
    tickets_df = rows_frame(tickets, _present(TICKETS, tickets, "first_response_at", "resolved_at"),
                            times=("created_at", "first_response_at", "resolved_at"))
    messages_df = rows_frame(kept, MESSAGES.names, times=("sent_at",))
    messages_df = messages_df.sort_values(["ticket_id", "sent_at", "message_id"], kind="stable").reset_index(drop=True)
    tickets_df = tickets_df.sort_values("created_at", kind="stable").reset_index(drop=True)
    tickets_df = derive_ticket_fields(tickets_df, messages_df)
    surveys_df = rows_frame(kept_surveys, SURVEYS.names, times=("responded_at",))
    figures_df = pd.DataFrame(figures)
    comparison = compare_with_vendor(tickets_df, messages_df, figures_df)
    ledger.check()
    return Converted(tickets=tickets_df, messages=messages_df, quarantine=ledger.quarantine(), n_read=ledger.n_read,
                     surveys=surveys_df, comparison=comparison, n_used=ledger.n_used)
