"""Taxonomy files: a team's own request types as YAML or TOML, validated with ``file:line`` messages.

A taxonomy is all a team needs to classify messages on day one::

    name: acme-support
    other:
      label: other                 # the out-of-scope label (not a support request)
      policy: abstain              # abstain: out-of-scope and unsure texts get it; never: always an in-scope label
      min_confidence: 0.3          # optional: below this confidence the label is `other` (abstain only)
    model: model/                  # optional: a trained classifier folder, relative to this file
    labels:
      cancellation:
        description: the customer wants to cancel an order, a subscription or close the account
        examples: ["please cancel my order 1234", "how do I stop my membership?"]
        keywords: [cancel, unsubscribe]

The same in TOML uses ``[other]`` and ``[labels.cancellation]`` tables. :func:`load_taxonomy` reads and
checks a file and raises one :class:`~cxlens.errors.ConfigError` listing every problem with its line;
:func:`check_taxonomy` returns the problems and the warnings instead (``cxlens taxonomy check``). How a
taxonomy becomes a classifier (zero-shot, few-shot or trained) is :mod:`._taxonomy_model`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cxlens._config_files import CONFIG_SUFFIXES, read_config_with_lines
from cxlens._resources import shipped_path
from cxlens.errors import ConfigError

__all__ = ["DEFAULT_TAXONOMY", "Taxonomy", "TaxonomyCheck", "TaxonomyLabel", "check_taxonomy", "find_taxonomy_file",
           "load_taxonomy", "write_taxonomy"]

#: the shipped default taxonomy (its trained model is the folder it lives in)
DEFAULT_TAXONOMY = shipped_path("cxlens.nlp", "artifacts", "request_type", "taxonomy.yaml")
TOP_KEYS = ("name", "version", "description", "other", "model", "labels")
LABEL_KEYS = ("description", "examples", "keywords")
OTHER_KEYS = ("label", "description", "policy", "min_confidence")
POLICIES = ("abstain", "never")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")


@dataclass(frozen=True)
class TaxonomyLabel:
    """One label: its ``name``, a one-line ``description``, optional ``examples`` and ``keywords``."""

    name: str
    description: str
    examples: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class Taxonomy:
    """A validated taxonomy (see the module docstring for the file format)."""

    name: str
    labels: tuple[TaxonomyLabel, ...]
    other_label: str = "other"
    other_description: str = ""
    policy: str = "abstain"
    min_confidence: float | None = None
    model: Path | None = None
    source: Path | None = None

    @property
    def names(self) -> tuple[str, ...]:
        """The in-scope label names, in file order."""
        return tuple(lab.name for lab in self.labels)

    def descriptions(self) -> dict[str, str]:
        return {lab.name: lab.description for lab in self.labels}

    def example_pairs(self) -> tuple[list[str], list[str]]:
        """``(texts, labels)`` of every example in the file."""
        texts = [ex for lab in self.labels for ex in lab.examples]
        return texts, [lab.name for lab in self.labels for _ in lab.examples]

    def keywords(self) -> dict[str, tuple[str, ...]]:
        return {lab.name: lab.keywords for lab in self.labels if lab.keywords}

    def min_examples(self) -> int:
        return min(len(lab.examples) for lab in self.labels)


@dataclass
class TaxonomyCheck:
    """What :func:`check_taxonomy` found: ``errors`` (the file cannot be used) and ``warnings``."""

    path: Path
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    taxonomy: Taxonomy | None = None


def find_taxonomy_file(path: str | Path) -> Path:
    """``path`` itself, or the ``taxonomy.yaml``/``.yml``/``.toml`` inside a folder (a trained model's folder)."""
    path = Path(path)
    if path.is_dir():
        for suffix in CONFIG_SUFFIXES:
            if (path / f"taxonomy{suffix}").is_file():
                return path / f"taxonomy{suffix}"
        raise ConfigError(f"{path} is a folder without a taxonomy.yaml, taxonomy.yml or taxonomy.toml; give the "
                          f"taxonomy file itself.")
    return path


def load_taxonomy(path: str | Path) -> Taxonomy:
    """The taxonomy in ``path`` (a file, or a folder holding ``taxonomy.yaml``); a :class:`ConfigError` listing
    every problem with its line when the file is not valid."""
    checked = check_taxonomy(path)
    if checked.errors:
        n = len(checked.errors)
        head = f"{checked.path}: {n} problem{'s' if n > 1 else ''} in the taxonomy (fix them and run " \
               f"`cxlens taxonomy check {checked.path}`):"
        raise ConfigError(head + "\n" + "\n".join(f"  - {e}" for e in checked.errors))
    return checked.taxonomy


def check_taxonomy(path: str | Path) -> TaxonomyCheck:
    """Read and check a taxonomy file; every problem is reported (``file:line: message``), none raised."""
    path = find_taxonomy_file(path)
    out = TaxonomyCheck(path=path)
    try:
        data, lines = read_config_with_lines(path, kind="taxonomy")
    except ConfigError as exc:
        out.errors.append(str(exc))
        return out

    def at(*keys: Any) -> str:
        for n in range(len(keys), -1, -1):
            if keys[:n] in lines:
                return f"{path}:{lines[keys[:n]]}"
        return str(path)

    if not isinstance(data, dict):
        out.errors.append(f"{at()}: the file must be a mapping with a `labels` section.")
        return out
    for key in data:
        if key not in TOP_KEYS:
            out.errors.append(f"{at(key)}: unknown key {key!r} (known: {', '.join(TOP_KEYS)}).")
    other, policy, min_conf, other_desc = _check_other(data.get("other", {}), at, out.errors)
    labels = _check_labels(data.get("labels"), at, out, other)
    model = _check_model(data.get("model"), path, at, out.errors)
    if model is not None and labels:
        _check_model_classes(model, [lab.name for lab in labels], other, at, out.errors)
    if out.errors:
        return out
    out.taxonomy = Taxonomy(name=str(data.get("name") or path.stem), labels=tuple(labels), other_label=other,
                            other_description=other_desc, policy=policy, min_confidence=min_conf, model=model,
                            source=path)
    few = [lab.name for lab in labels if len(lab.examples) < 3]
    if model is None and few and len(few) < len(labels):
        out.warnings.append(f"{at('labels')}: {len(few)} labels have fewer than 3 examples ({', '.join(few[:5])}"
                            f"{'...' if len(few) > 5 else ''}): the taxonomy is used zero-shot (descriptions "
                            f"only) until every label has 3; add examples or train a model.")
    return out


def _check_other(raw: Any, at, errors: list[str]) -> tuple[str, str, float | None, str]:
    if not isinstance(raw, dict):
        errors.append(f"{at('other')}: `other` must be a section with `label`, `policy`, `min_confidence`.")
        return "other", "abstain", None, ""
    for key in raw:
        if key not in OTHER_KEYS:
            errors.append(f"{at('other', key)}: unknown key {key!r} in `other` (known: {', '.join(OTHER_KEYS)}).")
    label = raw.get("label", "other")
    if not isinstance(label, str) or not _NAME.match(label):
        errors.append(f"{at('other', 'label')}: the out-of-scope label must be a lower-case name like 'other'.")
        label = "other"
    policy = raw.get("policy", "abstain")
    if policy not in POLICIES:
        errors.append(f"{at('other', 'policy')}: policy {policy!r} is not one of {', '.join(POLICIES)}.")
    min_conf = raw.get("min_confidence")
    if min_conf is not None and (isinstance(min_conf, bool) or not isinstance(min_conf, int | float)
                                 or not 0 <= min_conf < 1):
        errors.append(f"{at('other', 'min_confidence')}: min_confidence must be a number from 0 to below 1.")
        min_conf = None
    desc = raw.get("description", "")
    return label, policy, (float(min_conf) if min_conf is not None else None), str(desc or "")


def _check_labels(raw: Any, at, out: TaxonomyCheck, other: str) -> list[TaxonomyLabel]:
    errors = out.errors
    if not isinstance(raw, dict) or len(raw) < 2:
        errors.append(f"{at('labels')}: `labels` must map at least two label names to their description.")
        return []
    labels, seen_examples = [], {}
    for name, spec in raw.items():
        where = at("labels", name)
        if not isinstance(name, str) or not _NAME.match(name):
            errors.append(f"{where}: label name {name!r} must be lower case (letters, digits, _ or -).")
            continue
        if name == other:
            errors.append(f"{where}: {name!r} is the out-of-scope label (`other.label`); describe it under `other`.")
            continue
        if isinstance(spec, str):
            spec = {"description": spec}
        if not isinstance(spec, dict):
            errors.append(f"{where}: label {name!r} must have a description (a text, or a section with "
                          f"`description`, `examples`, `keywords`).")
            continue
        for key in spec:
            if key not in LABEL_KEYS:
                errors.append(f"{at('labels', name, key)}: unknown key {key!r} (known: {', '.join(LABEL_KEYS)}).")
        desc = spec.get("description")
        if not isinstance(desc, str) or not desc.strip():
            errors.append(f"{where}: label {name!r} needs a one-line `description` (it is the zero-shot text).")
            desc = ""
        examples = _strings(spec.get("examples", []), at("labels", name, "examples"), "examples", errors)
        keywords = _strings(spec.get("keywords", []), at("labels", name, "keywords"), "keywords", errors)
        for i, ex in enumerate(examples):
            key = " ".join(ex.lower().split())
            if key in seen_examples and seen_examples[key] != name:
                errors.append(f"{at('labels', name, 'examples', i)}: the example {ex[:60]!r} is also an example "
                              f"of {seen_examples[key]!r}; an example belongs to one label.")
            seen_examples.setdefault(key, name)
        labels.append(TaxonomyLabel(name=name, description=desc.strip(), examples=examples, keywords=keywords))
    return labels


def _strings(raw: Any, where: str, what: str, errors: list[str]) -> tuple[str, ...]:
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(v, str) and v.strip() for v in raw):
        errors.append(f"{where}: `{what}` must be a list of non-empty texts.")
        return ()
    return tuple(v.strip() for v in raw)


def _check_model(raw: Any, path: Path, at, errors: list[str]) -> Path | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or not raw.strip():
        errors.append(f"{at('model')}: `model` must be a folder path (relative to the taxonomy file).")
        return None
    folder = (path.parent / raw).resolve()
    if not (folder / "params.json").is_file():
        errors.append(f"{at('model')}: {folder} holds no trained classifier (params.json); train one with "
                      f"`cxlens train classifier --taxonomy {path} --data labelled.csv --out DIR`.")
        return None
    return folder


def _check_model_classes(folder: Path, names: list[str], other: str, at, errors: list[str]) -> None:
    import json

    try:
        classes = json.loads((folder / "params.json").read_text(encoding="utf-8")).get("classes", [])
    except (OSError, ValueError) as exc:
        errors.append(f"{at('model')}: {folder / 'params.json'} cannot be read ({exc}).")
        return
    extra = sorted(set(classes) - set(names) - {other})
    missing = sorted(set(names) - set(classes))
    if extra or missing:
        errors.append(f"{at('model')}: the model in {folder} was trained on other labels than the taxonomy"
                      + (f"; not in the taxonomy: {', '.join(extra)}" if extra else "")
                      + (f"; never trained: {', '.join(missing)}" if missing else "")
                      + ". Retrain it with `cxlens train classifier --taxonomy` or fix the labels.")


def write_taxonomy(taxonomy: Taxonomy, path: str | Path, *, model: str | None = None) -> Path:
    """Write ``taxonomy`` as YAML to ``path`` (``model``: the trained model folder, relative to the file)."""
    import yaml

    other: dict[str, Any] = {"label": taxonomy.other_label, "policy": taxonomy.policy}
    if taxonomy.other_description:
        other["description"] = taxonomy.other_description
    if taxonomy.min_confidence is not None:
        other["min_confidence"] = taxonomy.min_confidence
    labels: dict[str, Any] = {}
    for lab in taxonomy.labels:
        spec: dict[str, Any] = {"description": lab.description}
        if lab.examples:
            spec["examples"] = list(lab.examples)
        if lab.keywords:
            spec["keywords"] = list(lab.keywords)
        labels[lab.name] = spec
    data: dict[str, Any] = {"name": taxonomy.name, "other": other}
    if model is not None:
        data["model"] = model
    data["labels"] = labels
    path = Path(path)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110), encoding="utf-8")
    return path
