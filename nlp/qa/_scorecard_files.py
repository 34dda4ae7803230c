"""Scorecard files: the shipped ones, and YAML / TOML reading with line numbers for error messages.

The format and its validation live in :mod:`cxlens.nlp.qa._scorecard`; this module only finds files and
turns them into (data, {field path: line}). Writing scorecards back to files is
:mod:`cxlens.nlp.qa._scorecard_writer`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cxlens._config_files import read_config_with_lines
from cxlens._resources import shipped_path
from cxlens.errors import UnknownNameError

__all__ = ["get_scorecard_names", "read_with_lines", "shipped_scorecard_path"]

SCORECARD_DIR = shipped_path("cxlens", "data", "scorecards")


def get_scorecard_names() -> list[str]:
    """Names of the scorecards shipped in ``cxlens/data/scorecards``."""
    if not SCORECARD_DIR.is_dir():
        return []
    return sorted(p.stem for p in SCORECARD_DIR.iterdir() if p.suffix in (".yaml", ".yml", ".toml"))


def shipped_scorecard_path(name: str) -> Path:
    """The file of a shipped scorecard (``general_support``, ``abcd_product_defect``, ...)."""
    for suffix in (".yaml", ".yml", ".toml"):
        path = SCORECARD_DIR / f"{name}{suffix}"
        if path.is_file():
            return path
    raise UnknownNameError(kind="scorecard", name=name, known=get_scorecard_names())


def read_with_lines(path: Path) -> tuple[Any, dict[tuple, int]]:
    """``(data, {field path: line})`` of a scorecard file (:func:`cxlens._config_files.read_config_with_lines`)."""
    hint = f" (shipped scorecards: {', '.join(get_scorecard_names())})"
    return read_config_with_lines(path, kind="scorecard", missing_hint=hint)
