"""``cxlens score`` from prepared copies of its inputs: a helpdesk export converted, personal data redacted.

* :func:`converted_export` - ``--archive`` naming a helpdesk export folder (Zendesk, Freshdesk, Intercom, HubSpot,
  Salesforce: :func:`cxlens.adapters.detect_export`) is converted first, into ``<out>.converted-input`` beside
  the output (kept: it holds the conversion's quarantine and ``conversion/vendor_comparison.csv``), and the run
  reads that archive.
* :func:`score_redacted` (``--redact``) - the input tables are redacted (:func:`cxlens.redact.redact_tables`)
  into ``<out>.redacted-input`` and scored from there: the models see the placeholders, and every scored table,
  quarantine file, KPI and log line is built from redacted text. The copies are deterministic (pseudonyms are
  numbered, not random), so rerunning the same command resumes an interrupted run; the folder is removed after
  a complete run. The manifest's ``redaction`` entry holds the counts per table and type, never a value.

Neither folder is ever inside the output (an output folder may not hold an input), nor inside an input.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cxlens._outdir import check_not_input
from cxlens._pii import PII_TYPES
from cxlens._scoring import TABLES, Progress, ScoreConfig, score
from cxlens.errors import OutputPathError
from cxlens.redact import redact_tables

if TYPE_CHECKING:
    from cxlens.pipelines.score import ScoreSummary

__all__ = ["converted_export", "note_in_manifest", "prepared_folder", "score_redacted"]

MARKER = ".cxlens-prepared-input"


def prepared_folder(out: str | Path, what: str) -> Path:
    """``<out>.<what>-input``: where a run keeps prepared copies of its inputs (``converted``, ``redacted``)."""
    out = Path(out)
    return out.with_name(f"{out.name}.{what}-input")


def _claim(folder: Path, out: str, inputs: list[Any]) -> None:
    """Check ``out`` and ``folder`` against the original inputs, and take ``folder`` (made, or ours already)."""
    check_not_input(out, inputs)
    check_not_input(folder, inputs, param="out")
    if folder.exists() and not (folder / MARKER).is_file():
        raise OutputPathError(f"{folder} exists and was not written by cxlens score: move it away (cxlens keeps "
                              f"prepared copies of the inputs of --out {out} there).")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text("prepared copies of a cxlens score run's inputs\n", encoding="utf-8")


def converted_export(config: ScoreConfig, *, redact: bool = False) -> tuple[ScoreConfig, dict | None]:
    """``config`` reading a converted archive when its ``archive`` is a helpdesk export folder, and what was
    converted (``kind``, the conversion summary, ``folder``); ``(config, None)`` for any other input.

    With ``redact`` the conversion writes redacted tables (:func:`cxlens.adapters.convert`), so no raw text is
    kept on disk; the caller then scores with plain :func:`cxlens.score`.
    """
    from cxlens.adapters import convert, detect_export

    kind = detect_export(config.archive) if config.archive is not None else None
    if kind is None:
        return config, None
    given = [t for t in TABLES if getattr(config, t) is not None]
    if redact and given:  # they would be scored raw: the conversion redacts only the export's own tables
        from cxlens.errors import ConfigProblem, InvalidConfigError

        refs = ", ".join(f"{{{t}}}" for t in given)
        raise InvalidConfigError([ConfigProblem("archive", config.archive, (
            f"is a {kind} export, which {{redact}} redacts as it is converted, but the tables given beside it "
            f"({refs}) would then be scored unredacted. Convert the export first (`cxlens convert {kind} --input "
            f"{config.archive} --out DIR`), then score DIR together with those tables and {{redact}}, so that "
            f"every table is redacted in one pass."))], params=(*given, "redact"))
    folder = prepared_folder(config.out, "converted")
    _claim(folder, config.out, [config.archive])
    result, written = convert(kind, config.archive, folder, fmt="parquet", encoding=config.encoding, redact=redact)
    note = {"kind": kind, "from": str(config.archive), "folder": str(folder), **result.summary()}
    if result.redactions is not None:
        note["redacted"] = dict(sorted(result.redactions.items()))
    return dataclasses.replace(config, archive=str(folder), encoding="utf-8"), note


def note_in_manifest(out: str | Path, key: str, entry: dict) -> None:
    """Add ``entry`` under ``key`` to the run's ``manifest.json`` (atomically, as the run writes it)."""
    manifest = Path(out) / "manifest.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data[key] = entry
    staged = manifest.with_name(manifest.name + ".tmp")
    staged.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    os.replace(staged, manifest)


def score_redacted(config: ScoreConfig, *, progress: Progress | None = None,
                   types: Iterable[str] = PII_TYPES, names: str = "tagger") -> ScoreSummary:
    """:func:`cxlens.score` on redacted copies of ``config``'s inputs (see the module docstring); ``names``: how
    person names are found (:data:`cxlens.redact.NAME_MODES`), recorded in the manifest."""
    types = tuple(types)
    config.validate()
    work = prepared_folder(config.out, "redacted")
    _claim(work, config.out, [config.archive, *config.table_paths().values()])
    written, report = redact_tables(config.table_paths(), work, types=types, encoding=config.encoding,
                                    follow_symlinks=config.follow_symlinks, names=names)
    tables = {t: str(p) for t, p in written.items() if t in TABLES}
    redacted = dataclasses.replace(config, archive=None, encoding="utf-8", **{t: tables.get(t) for t in TABLES})
    summary = score(redacted, progress=progress)
    entry = {"types": list(types), "names": names, "tables": report}
    note_in_manifest(config.out, "redaction", entry)
    summary.manifest["redaction"] = entry
    if summary.manifest.get("status") == "complete":
        shutil.rmtree(work)
    return summary
