"""What cxlens keeps in its user cache, and how to clear it (``cxlens cache list|clear``).

The cache (:func:`cxlens.nlp.encoders.cache_dir`: ``$CXLENS_CACHE_DIR``, else
``$XDG_CACHE_HOME/cxlens``, else ``~/.cache/cxlens``) holds only what cxlens can build again:

* ``onnx/``: int8 ONNX exports of encoders (about 60-70 MB each), one per encoder build;
* ``encoders/``: fine-tuned encoders (about 90 MB each; keyed by their training data and parameters,
  so the same training is not run twice) and student encoder folders rebuilt from a shipped artifact
  (about 60 MB each).

A saved model keeps its own tuned encoder in its folder, so clearing the cache loses no model: the
next run rebuilds what it needs (an int8 export takes about half a minute; a fine-tuning run is
repeated only when the same training is asked for again). Do not clear it while a cxlens run is
using it.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CACHE_KINDS", "CacheEntry", "cache_entries", "clear_cache"]

#: Sub-folders of the cache, each holding one folder per cached item.
CACHE_KINDS = ("onnx", "encoders")


@dataclass(frozen=True)
class CacheEntry:
    """One cached item: its kind (a :data:`CACHE_KINDS` entry), folder, size and age."""

    kind: str
    path: Path
    size_bytes: int
    age_days: float


def _entry(kind: str, folder: Path, now: float) -> CacheEntry:
    stats = [p.stat() for p in folder.rglob("*") if p.is_file()]
    size = sum(st.st_size for st in stats)
    newest = max([st.st_mtime for st in stats] + [folder.stat().st_mtime])
    return CacheEntry(kind=kind, path=folder, size_bytes=size, age_days=max(0.0, (now - newest) / 86400))


def cache_entries(*, kinds: tuple[str, ...] = CACHE_KINDS) -> list[CacheEntry]:
    """The cached items of ``kinds``, largest first (an empty list when there is no cache)."""
    from cxlens.nlp.encoders._runtime import cache_dir

    _check_kinds(kinds)
    now, root = time.time(), cache_dir()
    entries = [_entry(kind, folder, now) for kind in kinds if (root / kind).is_dir()
               for folder in sorted((root / kind).iterdir()) if folder.is_dir()]
    return sorted(entries, key=lambda e: e.size_bytes, reverse=True)


def clear_cache(*, kinds: tuple[str, ...] = CACHE_KINDS, older_than_days: float = 0.0,
                dry_run: bool = False) -> list[CacheEntry]:
    """Remove the cached items of ``kinds`` not used for ``older_than_days`` days; returns what was (or, with
    ``dry_run``, would be) removed."""
    from cxlens.errors import ConfigError

    if older_than_days < 0:
        raise ConfigError(f"older_than_days must be >= 0, got {older_than_days}.")
    chosen = [e for e in cache_entries(kinds=kinds) if e.age_days >= older_than_days]
    if not dry_run:
        for entry in chosen:
            shutil.rmtree(entry.path, ignore_errors=True)
    return chosen


def _check_kinds(kinds: tuple[str, ...]) -> None:
    unknown = [k for k in kinds if k not in CACHE_KINDS]
    if unknown:
        from cxlens.errors import UnknownNameError

        raise UnknownNameError(kind="cache kind", name=unknown[0], known=CACHE_KINDS)
