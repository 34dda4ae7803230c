"""Scorecard files: the shipped ones, and YAML / TOML reading with line numbers for error messages.

The format and its validation live in :mod:`cxlens.nlp.qa._scorecard`; this module only finds files and
turns them into (data, {field path: line}). Writing scorecards back to files is
:mod:`cxlens.nlp.qa._scorecard_writer`.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from cxlens._resources import shipped_path
from cxlens.errors import ConfigError, UnknownNameError

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


def _yaml_with_lines(text: str, source: str) -> tuple[Any, dict[tuple, int]]:
    import yaml

    lines: dict[tuple, int] = {}

    def walk(node: Any, path: tuple) -> None:
        lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                child = path + (str(key.value),)
                lines[child] = key.start_mark.line + 1
                walk(value, child)
        elif isinstance(node, yaml.SequenceNode):
            for i, value in enumerate(node.value):
                lines[path + (i,)] = value.start_mark.line + 1
                walk(value, path + (i,))

    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        raise ConfigError(f"{where}: not valid YAML: {getattr(exc, 'problem', None) or exc}") from exc
    if node is not None:
        walk(node, ())
    return data, lines


def _toml_lines(text: str) -> dict[tuple, int]:
    """Best-effort line numbers for TOML (tomllib keeps none): headers and ``key =`` lines."""
    lines: dict[tuple, int] = {}
    counters: dict[tuple, int] = {}
    table: tuple = ()
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        head = re.match(r"^\[\[\s*([^\]]+?)\s*\]\]", line)
        if head:
            parts = tuple(head.group(1).split("."))
            parent = _toml_parent(parts, counters)
            index = counters.get(parent, -1) + 1
            counters[parent] = index
            table = parent + (index,)
            lines.setdefault(table, lineno)
            continue
        head = re.match(r"^\[\s*([^\]]+?)\s*\]", line)
        if head:
            table = tuple(head.group(1).split("."))
            lines.setdefault(table, lineno)
            continue
        key = re.match(r"^([A-Za-z0-9_\-]+)\s*=", line)
        if key:
            lines.setdefault(table + (key.group(1),), lineno)
    return lines


def _toml_parent(parts: tuple, counters: dict[tuple, int]) -> tuple:
    """``scripts.steps`` inside the current ``[[scripts]]`` -> ("scripts", i, "steps")."""
    out: tuple = ()
    for i, part in enumerate(parts):
        out = out + (part,)
        if i < len(parts) - 1 and out in counters:
            out = out + (counters[out],)
    return out


def read_with_lines(path: Path) -> tuple[Any, dict[tuple, int]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        known = ", ".join(get_scorecard_names())
        raise ConfigError(f"Scorecard {path} does not exist (shipped scorecards: {known}).") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}).") from exc
    if path.suffix.lower() == ".toml":
        try:
            return tomllib.loads(text), _toml_lines(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    if path.suffix.lower() in (".yaml", ".yml"):
        return _yaml_with_lines(text, str(path))
    raise ConfigError(f"{path}: a scorecard is a .yaml, .yml or .toml file.")
