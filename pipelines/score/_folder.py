"""The output folder of ``cxlens score``: whose it is, what a run may delete, one run at a time.

* The manifest says it is ``cxlens score``'s (``"written_by"``). Only such a folder is resumed or, with
  ``overwrite``, replaced, and replacing it removes only :data:`OUTPUT_NAMES` (what a run writes), never
  anything else in the folder.
* :func:`claimed_output` checks the folder before any work (not a file, writable, not an input, not inside
  one, holding none), takes its lock (:mod:`cxlens.pipelines.score._lock`) for the whole run, turns errors
  of the environment (disk full, read-only) into one-line :class:`~cxlens.errors.OutputPathError`, and, when
  a run fails before any chunk is done, removes what it wrote (and the folder, if it made it).
"""

from __future__ import annotations

import codecs
import json
import os
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, is_dataclass
from pathlib import Path
from typing import Any

from cxlens._outdir import output_errors, prepare_output_dir
from cxlens.errors import ConfigProblem, InvalidConfigError, OutputPathError
from cxlens.io_stream import file_fingerprint, input_files
from cxlens.pipelines.score._lock import LOCK_NAME, acquire_lock

__all__ = ["MANIFEST", "MANIFEST_VERSION", "OUTPUT_NAMES", "WRITTEN_BY", "Claim", "claimed_output", "has_results",
           "is_foreign_folder", "is_own_manifest", "own_manifest", "read_paths", "remove_own_outputs", "run_fingerprint", "run_settings",
           "start_manifest", "write_json"]

MANIFEST_VERSION = 1
WRITTEN_BY = "cxlens score"
MANIFEST = "manifest.json"
#: every name a run writes in its folder (docs/score-output.md), temporary files included: the only names
#: ``overwrite`` and a failed run's clean-up remove
OUTPUT_NAMES = ("tickets", "messages", "qa_conversations", "qa_steps", "topic_model", "quarantine", "_work",
                "kpis.json", "accounts.parquet", "mentions.parquet", "surveys.parquet", "manifest.json",
                "manifest.tmp", "accounts.parquet.tmp", "mentions.parquet.tmp", "surveys.parquet.tmp",
                "tickets_csat.parquet", "tickets_csat.parquet.tmp")
#: the keys of a manifest written before ``written_by`` (version 1): still recognised as a run's
_V1_KEYS = frozenset({"version", "inputs", "options", "status", "stages", "chunks", "counts"})


def write_json(path: Path, data: dict) -> None:
    """Write ``data`` to ``path`` atomically (a temporary file, then a rename)."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
    os.replace(tmp, path)


def is_own_manifest(data: Any) -> bool:
    """Whether a parsed manifest.json was written by ``cxlens score``."""
    if not isinstance(data, dict):
        return False
    return data.get("written_by") == WRITTEN_BY or ("written_by" not in data and data.get("version") == 1
                                                     and _V1_KEYS <= set(data))


def own_manifest(out: Path) -> dict[str, Any] | None:
    """The run manifest in ``out``; ``None`` if there is none; :class:`~cxlens.errors.OutputPathError` if
    ``out`` holds a manifest.json that ``cxlens score`` did not write (nothing there is touched)."""
    path = out / MANIFEST
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError):
        data = None
    if not is_own_manifest(data):
        raise OutputPathError("{out=%r}: holds a manifest.json that `cxlens score` did not write: give an empty "
                              "or new folder (nothing in it was changed)." % str(out), params=("out",))
    return data


def run_settings(inputs, options, kpi_config, **run: Any) -> dict[str, Any]:
    """Every option that changes the output (``inputs``: a ScoreInputs, ``options``: its HeadOptions); with the
    inputs' SHA-256 the run's fingerprint. Not the options that change only how it runs (progress, engine,
    keep_work)."""
    try:
        encoding = codecs.lookup(inputs.encoding).name  # utf8 and UTF-8 read the same
    except LookupError:
        encoding = inputs.encoding
    kpis = asdict(kpi_config) if is_dataclass(kpi_config) else repr(kpi_config)
    heads = {**asdict(options), "skip": sorted(set(options.skip))}  # in any order, the same heads
    reading = {"date_format": inputs.date_format, "dates_between": inputs.rules().dates_between,
               "follow_symlinks": inputs.follow_symlinks, "skip_unreadable": inputs.skip_unreadable}
    return {"heads": heads, **run, "mapping": list(inputs.mapping), "encoding": encoding, **reading,
            "kpi_config": kpis}


def run_fingerprint(inputs, settings: dict[str, Any]) -> dict[str, Any]:
    """``{"inputs": path, size and SHA-256 of every input file, "options": settings}``, as JSON reads it back."""
    files = {name: [file_fingerprint(f) for f in input_files(path, follow_symlinks=inputs.follow_symlinks)]
             for name, path in inputs.paths().items()}
    return json.loads(json.dumps({"inputs": files, "options": settings}, default=str))


def read_paths(inputs, options) -> list[str]:
    """What a run reads (tables, model folders, scorecard file): its folder must be none of them, nor hold one.
    A shipped model or scorecard name is no path on disk: the output check passes over it."""
    models = (options.request_type_model, options.request_types, options.topic_model, options.sentiment_model, options.scorecard)
    return [*inputs.paths().values(), *(m for m in models if m)]


def is_foreign_folder(out: Path) -> bool:
    """Whether ``out`` holds files but no run manifest (a lock aside): a folder a scoring run must not write in."""
    return out.is_dir() and not (out / MANIFEST).is_file() and any(p.name != LOCK_NAME for p in out.iterdir())


def start_manifest(out: Path, fingerprint: dict, *, overwrite: bool) -> dict[str, Any]:
    """The run's manifest: the one in ``out`` if it is this run's, else a new one (``overwrite`` removes an
    earlier run's outputs, and nothing else). A folder that is not a run's, and not empty, is refused."""
    old = own_manifest(out)
    if old is not None:
        same = {k: old.get(k) for k in ("inputs", "options")} == fingerprint
        if same:
            return old
        if not overwrite:
            raise InvalidConfigError([ConfigProblem("out", str(out), "holds a run with other inputs or options: "
                                                    "set {overwrite=True} to replace it, or give another folder.")],
                                     params=("overwrite",))
        remove_own_outputs(out)
    elif is_foreign_folder(out):
        raise InvalidConfigError([ConfigProblem("out", str(out), "is not empty and is not the output of a scoring "
                                                "run: give an empty or new folder.")])
    out.mkdir(parents=True, exist_ok=True)
    manifest = {"version": MANIFEST_VERSION, "written_by": WRITTEN_BY, **fingerprint, "status": "running",
                "stages": {}, "chunks": {}, "counts": {}, "timings": {}, "models": {}}
    write_json(out / MANIFEST, manifest)
    return manifest


def remove_own_outputs(out: Path) -> None:
    """Remove what a run writes in ``out`` (:data:`OUTPUT_NAMES`), and nothing else."""
    for name in OUTPUT_NAMES:
        path = out / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif os.path.lexists(path):
            path.unlink()


def has_results(manifest: dict[str, Any] | None) -> bool:
    """Whether a run has written a result worth keeping: a finished chunk, or the whole run."""
    return bool(manifest) and (manifest.get("status") == "complete" or bool(manifest["chunks"].get("done")))


@dataclass
class Claim:
    """A run's hold on its folder; the run sets ``manifest`` once its own manifest is there."""

    manifest: dict[str, Any] | None = None


@contextmanager
def claimed_output(out: Path, *, inputs: Iterable[str | Path | None]) -> Iterator[Claim]:
    """Hold ``out`` for one run: checked, made, locked; cleaned up if the run fails before any result."""
    made = not os.path.lexists(out)
    prepare_output_dir(out, inputs=list(inputs))
    try:
        with output_errors(out):
            lock = acquire_lock(out)
    except BaseException:
        _remove_if_empty(out, made)
        raise
    claim, failed = Claim(), False
    try:
        with output_errors(out):
            yield claim
    except Exception:  # not Ctrl-C: that keeps what is there, and the same command continues from it
        failed = True
        if claim.manifest is not None and not has_results(claim.manifest):
            try:
                remove_own_outputs(out)
            except OSError:
                pass  # the error that stopped the run is the one to report
        raise
    finally:
        lock.release()
        if failed:
            _remove_if_empty(out, made)


def _remove_if_empty(out: Path, made: bool) -> None:
    if made:
        try:
            out.rmdir()
        except OSError:
            pass
