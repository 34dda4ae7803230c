"""Scorecard files: YAML / TOML reading with line numbers for error messages, and YAML writing.

The format and its validation live in :mod:`cxlens.nlp.qa._scorecard`; this module only turns files
into (data, {field path: line}) and scorecards back into files.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cxlens.errors import ConfigError
from cxlens.nlp.qa._scorecard import ForbiddenItem, Scorecard, Step, _Item, get_scorecard_names

__all__ = ["read_with_lines", "scorecard_to_dict", "write_scorecard"]


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



# ------------------------------------------------------------------ writing


def _item_to_dict(item: _Item, defaults: _Item) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in item.__dataclass_fields__:
        value = getattr(item, name)
        if name in ("id", "description") or value != getattr(defaults, name):
            if name == "when":
                value = {col: list(vals) for col, vals in value}
            elif isinstance(value, tuple):
                value = list(value)
            out[name] = value
    return out


def scorecard_to_dict(card: Scorecard) -> dict[str, Any]:
    """A plain mapping that :func:`scorecard_from_dict` reads back to an equal scorecard.

    Steps shared by every script are written once at the top level.
    """
    step_default, forbidden_default = Step(id="", description=""), ForbiddenItem(id="", description="")
    common_steps = [s for s in card.scripts[0].steps if all(s in sc.steps for sc in card.scripts)]
    common_forbidden = [f for f in card.scripts[0].forbidden if all(f in sc.forbidden for sc in card.scripts)]
    out: dict[str, Any] = {"name": card.name}
    if card.description:
        out["description"] = card.description
    out["version"] = card.version
    for key, default in (("threshold", None), ("opening_window", 2), ("closing_window", 2), ("order_credit", 0.5)):
        if getattr(card, key) != default:
            out[key] = getattr(card, key)
    if common_steps:
        out["steps"] = [_item_to_dict(s, step_default) for s in common_steps]
    if common_forbidden:
        out["forbidden"] = [_item_to_dict(f, forbidden_default) for f in common_forbidden]
    single = len(card.scripts) == 1 and card.scripts[0].id == card.name and not card.scripts[0].applies_to
    if not single:
        out["scripts"] = []
        for script in card.scripts:
            entry: dict[str, Any] = {"id": script.id}
            if script.description:
                entry["description"] = script.description
            if script.applies_to:
                entry["applies_to"] = list(script.applies_to)
            own = [_item_to_dict(s, step_default) for s in script.steps if s not in common_steps]
            own_f = [_item_to_dict(f, forbidden_default) for f in script.forbidden if f not in common_forbidden]
            if own:
                entry["steps"] = own
            if own_f:
                entry["forbidden"] = own_f
            out["scripts"].append(entry)
    return out


def write_scorecard(card: Scorecard | Mapping[str, Any], path: str | Path, *, header: str = "") -> Path:
    """Write a scorecard as YAML (``header`` lines become comments at the top)."""
    import yaml

    data = scorecard_to_dict(card) if isinstance(card, Scorecard) else dict(card)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    comment = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110, default_flow_style=None)
    path.write_text(comment + body, encoding="utf-8")
    return path

