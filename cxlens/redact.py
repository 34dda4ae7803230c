"""Personal data out: typed placeholders for emails, phones, cards, IBANs, SSNs, IPs, addresses and names.

* :func:`redact_text` - one text: ``"mail ann@x.org"`` -> ``"mail [EMAIL]"``, plus what was replaced (types only).
* :func:`redact_frame` - every text column of a table. Id columns (``*_id``, ``author``, ...) keep working as
  keys: a value holding personal data becomes a numbered pseudonym (``[EMAIL-1]``), the same value the same
  pseudonym in every table given the same :class:`Pseudonyms` (numbered in order of appearance: no hash that a
  dictionary of emails could reverse, and the same input gives the same output, so a scoring run resumes).
* :func:`redact_converted` - an adapter's result (tickets, messages, surveys, the quarantine's raw records).
* :func:`redact_tables` - canonical table files (an archive) -> redacted copies, with the records that could not
  be parsed quarantined (their raw text redacted too) and counts per type (never values).

Detection is in :mod:`cxlens._pii` (what each type matches, and what it leaves: order numbers, versions, dates,
prices stay). Names: rules (name lists and cues) plus a small spaCy NER that cxlens trains and ships
(:mod:`cxlens._name_tagger`; spaCy's own English models are not on PyPI). ``names="rules"`` leaves the tagger out.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cxlens._name_tagger import tag_names
from cxlens._pii import PII_TYPES, find_pii, may_hold_tagged_name

if TYPE_CHECKING:
    import pandas as pd

    from cxlens._adapter_common import Converted

__all__ = ["PII_TYPES", "Pseudonyms", "redact_converted", "redact_frame", "redact_frames", "redact_tables",
           "redact_text", "redact_texts", "redact_value", "write_report"]

log = logging.getLogger(__name__)

#: columns that are keys or identities: redacted to numbered pseudonyms, so joins still work
ID_COLUMNS = frozenset({"ticket_id", "message_id", "account_id", "agent_id", "author_id", "author", "mention_id",
                        "in_reply_to", "requester_id", "contact_id", "responder_id", "user_id",
                        # labels the pages group and filter by: two teams or topics named like people must stay two
                        "team", "agent_name", "assignee", "brand", "topic", "topic_parent", "topic_secondary"})


@dataclass
class Pseudonyms:
    """Value -> ``[TYPE-n]``, numbered per type in order of appearance; share one across the tables of a run."""

    seen: dict[str, str] = field(default_factory=dict)
    counts: Counter = field(default_factory=Counter)

    def of(self, value: str, kind: str) -> str:
        if value not in self.seen:
            self.counts[kind] += 1
            self.seen[value] = f"[{kind}-{self.counts[kind]}]"
        return self.seen[value]


#: how person names are found: the rules and the shipped name tagger (default), or the rules alone (faster)
NAME_MODES = ("tagger", "rules")


def _check_names(names: str) -> None:
    if names not in NAME_MODES:
        raise ValueError(f"names={names!r}: use one of {', '.join(NAME_MODES)}")


def redact_text(text: Any, *, types: Iterable[str] = PII_TYPES, names: str = "tagger") -> tuple[Any, Counter]:
    """``text`` with each piece of personal data replaced by ``[TYPE]``, and a count per type. Anything that is not
    a string (None, NaN, a number) is returned as it is. ``names``: ``"tagger"`` (rules and the name tagger) or
    ``"rules"``."""
    _check_names(names)
    if not isinstance(text, str) or not text:
        return text, Counter()
    types = tuple(types)
    return _replaced(text, find_pii(text, types=types, tagged=_tagged([text], types, names).get(text, ())))


def _replaced(text: str, spans: list[tuple[int, int, str]]) -> tuple[str, Counter]:
    """``text`` with each span replaced by ``[TYPE]``, and the count per type."""
    if not spans:
        return text, Counter()
    parts, last = [], 0
    for start, end, kind in spans:
        parts.append(text[last:start])
        parts.append(f"[{kind}]")
        last = end
    parts.append(text[last:])
    return "".join(parts), Counter(kind for _, _, kind in spans)


def redact_texts(texts: Iterable[Any], *, types: Iterable[str] = PII_TYPES, names: str = "tagger",
                 ) -> tuple[list[Any], Counter]:
    """:func:`redact_text` over many texts (each distinct text once, the name tagger over them in batches), with the
    total count per type."""
    _check_names(names)
    types = tuple(types)
    texts = list(texts)
    distinct = list(dict.fromkeys(t for t in texts if isinstance(t, str) and t))
    tagged = _tagged(distinct, types, names)
    cache = {t: _replaced(t, find_pii(t, types=types, tagged=tagged.get(t, ()))) for t in distinct}
    out, total = [], Counter()
    for text in texts:
        if isinstance(text, str) and text:
            new, counts = cache[text]
        else:
            new, counts = text, Counter()
        out.append(new)
        total.update(counts)
    return out, total


def _tagged(cells: Iterable[Any], types: tuple[str, ...], names: str) -> dict[str, list[tuple[int, int]]]:
    """The name tagger's spans for each distinct string cell that could hold a name it finds (none in rules mode);
    the one place that decides which texts the tagger reads (the benchmarks call it too)."""
    if names != "tagger" or "PERSON" not in types:
        return {}
    candidates = list(dict.fromkeys(c for c in cells if isinstance(c, str) and c and may_hold_tagged_name(c)))
    return dict(zip(candidates, tag_names(candidates)))


def _is_id(column: str) -> bool:
    return column in ID_COLUMNS or column.endswith("_id")


def _numbers_with_pii(values: pd.Series, types: tuple[str, ...]) -> bool:
    """Whether a number column holds personal data written as digits (a card or SSN column read as integers):
    only whole numbers of 9 or more digits are looked at, so score and count columns cost nothing."""
    import numpy as np
    import pandas as pd

    if pd.api.types.is_bool_dtype(values.dtype) or not (pd.api.types.is_integer_dtype(values.dtype)
                                                         or pd.api.types.is_float_dtype(values.dtype)):
        return False
    numbers = values.dropna().astype(float)
    long = numbers[(numbers.abs() >= 1e8) & np.isfinite(numbers) & (numbers == np.floor(numbers))]
    return any(find_pii(str(int(v)), types=types) for v in values.loc[long.index])


def redact_frame(frame: pd.DataFrame, *, types: Iterable[str] = PII_TYPES, pseudonyms: Pseudonyms | None = None,
                 names: str = "tagger") -> tuple[pd.DataFrame, Counter]:
    """A copy of ``frame`` with personal data replaced in every text column, and the count per type.

    Text columns (object, string, categorical) get ``[TYPE]`` placeholders; id columns (:data:`ID_COLUMNS`,
    ``*_id``) keep working as keys: a value with personal data in it becomes its pseudonym (``[EMAIL-1]``).
    A number column that holds personal data as digits (card numbers read as integers) becomes a text column and
    is redacted the same way; other numbers, dates and flags are left alone.
    """
    import pandas as pd

    _check_names(names)
    types = tuple(types)
    pseudonyms = pseudonyms if pseudonyms is not None else Pseudonyms()
    out = frame.copy()
    total: Counter = Counter()
    for i, column in enumerate(frame.columns):
        values = frame.iloc[:, i]
        if _numbers_with_pii(values, types):  # a card or an SSN read as a number: the column becomes text
            cells = [None if pd.isna(v) else str(int(v)) if float(v).is_integer() else str(v) for v in values]
        elif not (pd.api.types.is_object_dtype(values.dtype) or pd.api.types.is_string_dtype(values.dtype)
                  or isinstance(values.dtype, pd.CategoricalDtype)):
            continue
        else:
            cells = values.astype(object).tolist()
        if _is_id(str(column)):
            new = []
            tagged = _tagged(cells, types, names)
            for cell in cells:
                spans = find_pii(cell, types=types, tagged=tagged.get(cell, ())) if isinstance(cell, str) else []
                if spans:
                    total[spans[0][2]] += 1
                    new.append(pseudonyms.of(cell, spans[0][2]))
                else:
                    new.append(cell)
        else:
            new, counts = redact_texts(cells, types=types, names=names)
            total.update(counts)
        out.isetitem(i, pd.Series(new, index=frame.index, dtype=object))
    return out, total


def redact_frames(frames: Mapping[str, pd.DataFrame | None], *, types: Iterable[str] = PII_TYPES,
                  pseudonyms: Pseudonyms | None = None, names: str = "tagger",
                  ) -> tuple[dict[str, pd.DataFrame | None], Counter]:
    """:func:`redact_frame` over several tables with one set of pseudonyms (joins across them keep working)."""
    pseudonyms = pseudonyms if pseudonyms is not None else Pseudonyms()
    total: Counter = Counter()
    out: dict[str, pd.DataFrame | None] = {}
    for name, frame in frames.items():
        if frame is None:
            out[name] = None
            continue
        out[name], counts = redact_frame(frame, types=types, pseudonyms=pseudonyms, names=names)
        total.update(counts)
    return out, total


def redact_value(value: Any, *, types: Iterable[str] = PII_TYPES,
                 pseudonyms: Pseudonyms | None = None, names: str = "tagger") -> tuple[Any, Counter]:
    """Every string inside ``value`` (a JSON-like tree of dicts, lists and scalars) redacted.

    Dict keys holding personal data become pseudonyms (the same as in the tables given the same
    ``pseudonyms``), so two accounts keyed by their emails stay two entries."""
    _check_names(names)
    types = tuple(types)
    pseudonyms = pseudonyms if pseudonyms is not None else Pseudonyms()
    total: Counter = Counter()
    tagged = _tagged(_strings(value), types, names)  # the tagger reads the tree's strings in one batch

    def key(name: Any) -> Any:
        if not isinstance(name, str):
            return name
        spans = find_pii(name, types=types, tagged=tagged.get(name, ()))
        if not spans:
            return name
        total[spans[0][2]] += 1
        return pseudonyms.of(name, spans[0][2])

    def walk(node: Any) -> Any:
        if isinstance(node, str):
            if not node:
                return node
            text, counts = _replaced(node, find_pii(node, types=types, tagged=tagged.get(node, ())))
            total.update(counts)
            return text
        if isinstance(node, Mapping):
            return {key(k): walk(v) for k, v in node.items()}
        if isinstance(node, (list, tuple)):
            return [walk(v) for v in node]
        return node

    return walk(value), total


def _strings(node: Any) -> Iterable[str]:
    """Every string of a JSON-like tree, dict keys included."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, Mapping):
        for k, v in node.items():
            if isinstance(k, str):
                yield k
            yield from _strings(v)
    elif isinstance(node, (list, tuple)):
        for v in node:
            yield from _strings(v)


def redact_converted(result: Converted, *, types: Iterable[str] = PII_TYPES, names: str = "tagger") -> Converted:
    """An adapter's result with personal data replaced in tickets, messages, surveys, the quarantine (raw records
    included) and the vendor comparison; ``redactions`` holds the count per type."""
    pseudonyms = Pseudonyms()
    total: Counter = Counter()
    tables = {}
    for name in ("tickets", "messages", "surveys", "quarantine", "comparison"):
        frame = getattr(result, name)
        if frame is None:
            tables[name] = None
            continue
        tables[name], counts = redact_frame(frame, types=types, pseudonyms=pseudonyms, names=names)
        total.update(counts)
    return replace(result, **tables, redactions=dict(total))


def redact_tables(paths: Mapping[str, str | Path], out_dir: str | Path, *, types: Iterable[str] = PII_TYPES,
                  encoding: str = "utf-8", follow_symlinks: bool = False, names: str = "tagger",
                  ) -> tuple[dict[str, Path], dict[str, dict]]:
    """Redacted copies of canonical table files (``{"tickets": path, ...}``, each a file or a folder of files).

    Each table is written to ``out_dir/<table>.<same format>`` (a folder of files becomes one file), its
    unparseable records to ``out_dir/quarantine/<table>.csv`` (raw text redacted). Returns the paths written
    and, per table, ``read``, ``written``, ``quarantined`` and the count per type (values are never logged).
    """
    from cxlens.io import file_format, read_files, table_files, write_table

    types = tuple(types)
    out = Path(out_dir)
    pseudonyms = Pseudonyms()
    written: dict[str, Path] = {}
    report: dict[str, dict] = {}
    for table, path in paths.items():
        frame, bad, counts = read_files(path, encoding=encoding, follow_symlinks=follow_symlinks)
        frame = frame.drop(columns=[c for c in frame.columns if str(c).startswith("_")])
        redacted, found = redact_frame(frame, types=types, pseudonyms=pseudonyms, names=names)
        first = table_files(Path(path), follow_symlinks=follow_symlinks)[0]
        fmt = file_format(first)
        suffix = {"json": "jsonl", "tsv": "csv"}.get(fmt, fmt)
        written[table] = write_table(redacted, out / f"{table}.{suffix}")
        if len(bad):
            bad_redacted, bad_found = redact_frame(bad, types=types, pseudonyms=pseudonyms, names=names)
            found.update(bad_found)
            written[f"quarantine/{table}"] = write_table(bad_redacted, out / "quarantine" / f"{table}.csv")
        read = sum(c.records for c in counts)
        if read != len(redacted) + len(bad):  # the reader proves records = rows + malformed per file
            from cxlens.errors import RowAccountingError

            raise RowAccountingError(f"{table}: {read} records read but {len(redacted)} written and {len(bad)} "
                                     f"quarantined. This is a bug in cxlens: please report it.")
        report[table] = {"read": int(read), "written": len(redacted), "quarantined": len(bad),
                         "redacted": dict(sorted(found.items()))}
        log.info("%s: redacted %s", table, ", ".join(f"{k} {v}" for k, v in sorted(found.items())) or "nothing")
    return written, report


def write_report(report: Mapping[str, Any], path: str | Path) -> Path:
    """The redaction counts as JSON (types and numbers only)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path
