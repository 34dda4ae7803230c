"""Reading YAML and TOML configuration files (scorecards, taxonomies) with line numbers for error messages.

:func:`read_config_with_lines` returns ``(data, {field path: line})`` so that a validator can report every
problem as ``file:line: message``. YAML keys given twice in one mapping are an error (the YAML loader would
silently keep the last one).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from cxlens.errors import ConfigError

__all__ = ["CONFIG_SUFFIXES", "read_config_with_lines"]

CONFIG_SUFFIXES = (".yaml", ".yml", ".toml")


def _yaml_with_lines(text: str, source: str) -> tuple[Any, dict[tuple, int]]:
    import yaml

    lines: dict[tuple, int] = {}

    def walk(node: Any, path: tuple) -> None:
        lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key, value in node.value:
                if str(key.value) in seen:
                    raise ConfigError(f"{source}:{key.start_mark.line + 1}: the key {key.value!r} is given twice "
                                      f"in the same section; keep one.")
                seen.add(str(key.value))
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


def read_config_with_lines(path: Path, *, kind: str, missing_hint: str = "") -> tuple[Any, dict[tuple, int]]:
    """``(data, {field path: line})`` of a ``.yaml``/``.yml``/``.toml`` file; :class:`ConfigError` naming the
    file (and line, where the parser gives one) when it is missing, not UTF-8 or not valid."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"{kind.capitalize()} {path} does not exist{missing_hint}.") from exc
    except IsADirectoryError as exc:
        raise ConfigError(f"{path} is a folder; give the {kind} file inside it.") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}).") from exc
    if path.suffix.lower() == ".toml":
        try:
            return tomllib.loads(text), _toml_lines(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    if path.suffix.lower() in (".yaml", ".yml"):
        return _yaml_with_lines(text, str(path))
    raise ConfigError(f"{path}: a {kind} is a .yaml, .yml or .toml file.")
