"""Scorecards back to files: a plain mapping that reads back to an equal scorecard, written as YAML."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cxlens.nlp.qa._scorecard import ForbiddenItem, Question, Scorecard, Step

__all__ = ["scorecard_to_dict", "write_scorecard"]


def _item_to_dict(item: Step | ForbiddenItem, defaults: Step | ForbiddenItem) -> dict[str, Any]:
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
    if card.questions:
        blank = Question(id="", description="")
        keys = ("examples", "counter_examples", "phrases", "regexes", "patterns", "speaker", "threshold")
        out["questions"] = [{"id": q.id, "question": q.question,
                             **{k: list(v) if isinstance(v, tuple) else v
                                for k in keys if (v := getattr(q, k)) != getattr(blank, k)}} for q in card.questions]
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

