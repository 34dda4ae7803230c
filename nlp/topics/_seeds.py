"""Seed topics: a known taxonomy given to :class:`~cxlens.nlp.topics._model.TopicModel` as a starting point.

A seed is ``{"label": ..., "description": ..., "examples": [...]}``; its label text, description
and examples are embedded and averaged into an initial centroid, and the topic keeps the label.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from cxlens.errors import ConfigError

__all__ = ["load_seed_topics"]


def load_seed_topics(source: Any) -> list[dict[str, Any]]:
    """Seed topics as ``[{"label", "description", "examples"}, ...]``.

    ``source`` is a list of label names, a list of mappings with those keys, or a path to a
    ``.json`` / ``.yaml`` file holding such a list, or a ``.csv`` with columns ``label``,
    ``description`` (optional) and ``examples`` (optional, separated by ``|``).
    """
    if source is None:
        return []
    if isinstance(source, (str, Path)):
        return load_seed_topics(_read_seed_file(Path(source)))
    seeds = []
    for i, item in enumerate(source):
        if isinstance(item, str):
            item = {"label": item}
        if not isinstance(item, Mapping) or not str(item.get("label") or "").strip():
            raise ConfigError(f"Seed topic #{i + 1} needs a non-empty 'label' (got {item!r}).")
        examples = item.get("examples") or []
        if isinstance(examples, str):
            examples = [e.strip() for e in examples.split("|") if e.strip()]
        seeds.append({"label": str(item["label"]).strip(), "description": str(item.get("description") or "").strip(),
                      "examples": [str(e) for e in examples]})
    labels = [s["label"] for s in seeds]
    if len(set(labels)) != len(labels):
        raise ConfigError(f"Seed topic labels must be unique; got {labels}.")
    return seeds


def _read_seed_file(path: Path) -> list[Any]:
    import json

    if not path.exists():
        raise ConfigError(f"Seed topics file {path} does not exist.")
    suffix = path.suffix.lower()
    if suffix == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))
    elif suffix in (".yaml", ".yml"):
        import yaml

        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    elif suffix == ".csv":
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        if "label" not in frame:
            raise ConfigError(f"Seed topics CSV {path} needs a 'label' column (has {list(frame.columns)}).")
        data = frame.to_dict("records")
    else:
        raise ConfigError(f"Seed topics file {path}: use .json, .yaml or .csv.")
    if isinstance(data, Mapping):
        data = data.get("topics", data.get("seeds", [data]))
    if not isinstance(data, list):
        raise ConfigError(f"Seed topics file {path} must hold a list of topics.")
    return data
