"""Scorecards: scripts and procedures as data (YAML or TOML), validated before any data is read.

A scorecard file lists the *steps* an agent should follow and the *forbidden* things they must
never say, optionally split into *scripts* chosen by the conversation's request type, and optional
yes/no *questions* answered per conversation::

    name: general_support
    threshold: 0.55            # default semantic threshold (cosine) for every item
    steps:                     # common steps (every script gets them)
      - id: greet
        description: Greet the customer
        examples: ["Hi, thanks for reaching out!", "Hello, how can I help you today?"]
        counter_examples: ["Thanks for waiting."]  # replies that are not this step
        regexes: ['\\b(hi|hello|hey)\\b']      # rule evidence (also phrases:, patterns:)
        position: opening      # opening | any | closing | after:<step id>[,<step id>...]
        auto_fail: false       # failing this step fails the whole conversation
        # also: required, weight, applies_to, when, speaker, threshold (docs/scorecards.md)
    forbidden:
      - {id: ask_password, description: Asks for the password, regexes: ['\\byour password\\b'], auto_fail: true}
    scripts:                   # optional: one per request type, each adds its own steps
      - {id: refund, applies_to: [refund_*, get_refund], steps: [...]}
    questions:                 # optional: yes/no, reported with the evidence sentence, not scored
      - {id: callback, question: Did the agent offer a callback?, speaker: agent}

Every problem is collected and raised as one :class:`~cxlens.errors.ConfigError` whose lines read
``FILE:LINE: steps[2].regexes[0]: bad regex ...``: unknown fields, wrong types, bad regexes,
unknown step ids and cycles in the ``after`` order constraints.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cxlens.errors import ConfigError, UnknownNameError
from cxlens.nlp.qa._scorecard_files import read_with_lines, shipped_scorecard_path

__all__ = [
    "ForbiddenItem",
    "Scorecard",
    "Script",
    "Question",
    "Step",
    "load_scorecard",
    "scorecard_from_dict",
]

POSITIONS = ("opening", "any", "closing")
SPEAKERS = ("agent", "system", "any")
TOP_FIELDS = ("name", "description", "version", "threshold", "opening_window", "closing_window",
              "order_credit", "applies_to", "steps", "forbidden", "scripts", "questions")
SCRIPT_FIELDS = ("id", "description", "applies_to", "steps", "forbidden")
STEP_FIELDS = ("id", "description", "examples", "counter_examples", "phrases", "regexes", "patterns", "position", "required",
               "weight", "auto_fail", "applies_to", "when", "speaker", "threshold")
FORBIDDEN_FIELDS = ("id", "description", "examples", "phrases", "regexes", "patterns", "weight", "auto_fail",
                    "speaker", "threshold")
QUESTION_FIELDS = ("id", "question", "examples", "counter_examples", "phrases", "regexes", "patterns", "speaker", "threshold")
QUESTION_SPEAKERS = ("agent", "customer", "any")
_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")


@dataclass(frozen=True)
class _Item:
    """What steps and forbidden items share: how they are detected."""

    id: str
    description: str
    examples: tuple[str, ...] = ()
    counter_examples: tuple[str, ...] = ()  # replies that do not show the item (semantics: closer to one = no match)
    phrases: tuple[str, ...] = ()
    regexes: tuple[str, ...] = ()
    patterns: tuple[Any, ...] = ()          # spaCy Matcher token patterns (list of dicts each)
    weight: float = 1.0
    auto_fail: bool = False
    speaker: str = "agent"
    threshold: float | None = None

    @property
    def has_rules(self) -> bool:
        return bool(self.phrases or self.regexes or self.patterns)


@dataclass(frozen=True)
class Step(_Item):
    """One thing the agent should do. See the module docstring for the fields."""

    position: str = "any"
    required: bool = True
    applies_to: tuple[str, ...] = ()
    when: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def after(self) -> tuple[str, ...]:
        """The step ids this step must come after (from ``position: after:a,b``)."""
        if not self.position.startswith("after:"):
            return ()
        return tuple(s.strip() for s in self.position[len("after:"):].split(",") if s.strip())

    @property
    def where(self) -> str:
        """``opening``, ``any``, ``closing`` or ``after``."""
        return "after" if self.after else self.position

    def applies(self, ticket: Mapping[str, Any]) -> bool:
        """Whether this step applies to a conversation with these ticket fields."""
        if self.applies_to and not _matches(ticket.get("request_type"), self.applies_to):
            return False
        return all(_matches(ticket.get(col), values) for col, values in self.when)


@dataclass(frozen=True)
class ForbiddenItem(_Item):
    """Something the agent must never say (a promise, blame, asking for a password ...)."""


@dataclass(frozen=True)
class Question(_Item):
    """A yes/no question over a conversation ("Did the agent offer a callback?"): yes when a message of its
    ``speaker`` (agent, customer or any) matches; the answer comes with that message's sentence. ``description``
    is the question turned into a statement ("the agent offer a callback"), the prototype it is matched by."""

    question: str = ""


def question_statement(question: str) -> str:
    """``"Did the agent offer a callback?"`` -> ``"the agent offer a callback"`` (what a matching sentence says)."""
    text = re.sub(r"^\s*(did|does|do|has|have|had|is|was|were|will|can|could)\s+", "", question.strip(), flags=re.I)
    return text.rstrip(" ?") or question


@dataclass(frozen=True)
class Script:
    """The steps and forbidden items applied to the conversations whose request type matches."""

    id: str
    description: str = ""
    applies_to: tuple[str, ...] = ()
    steps: tuple[Step, ...] = ()
    forbidden: tuple[ForbiddenItem, ...] = ()

    def step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise UnknownNameError(kind=f"step of script {self.id!r}", name=step_id, known=[s.id for s in self.steps])


@dataclass(frozen=True)
class Scorecard:
    """A validated scorecard. Build it with :func:`load_scorecard` or :func:`scorecard_from_dict`."""

    name: str
    scripts: tuple[Script, ...]
    description: str = ""
    version: str = "1"
    threshold: float | None = None
    opening_window: int = 2
    closing_window: int = 2
    order_credit: float = 0.5
    source: str = "<dict>"
    questions: tuple[Question, ...] = ()

    def script_for(self, request_type: Any = None) -> Script | None:
        """The first script whose ``applies_to`` matches ``request_type`` (empty ``applies_to`` matches all)."""
        for script in self.scripts:
            if not script.applies_to or _matches(request_type, script.applies_to):
                return script
        return None

    @property
    def per_type(self) -> bool:
        """Whether the script depends on the request type."""
        return any(s.applies_to for s in self.scripts)

    def items(self) -> Iterator[tuple[Script, _Item]]:
        """Every (script, step or forbidden item)."""
        for script in self.scripts:
            for item in (*script.steps, *script.forbidden):
                yield script, item


def _matches(value: Any, patterns: Sequence[str]) -> bool:
    if value is None or (isinstance(value, float) and value != value):
        return False
    text = str(value).strip().lower()
    return any(fnmatch.fnmatchcase(text, p.lower()) for p in patterns)


# ------------------------------------------------------------------ validation


class _Problems:
    """Collects every problem, each with its file, line and field path."""

    def __init__(self, source: str, lines: Mapping[tuple, int]) -> None:
        self.source = source
        self.lines = lines
        self.messages: list[str] = []

    def add(self, path: tuple, message: str) -> None:
        line = None
        probe = path
        while probe and line is None:
            line = self.lines.get(probe)
            probe = probe[:-1]
        where = f"{self.source}:{line}" if line else self.source
        self.messages.append(f"{where}: {_dotted(path) or '(top level)'}: {message}")

    def raise_if_any(self) -> None:
        if self.messages:
            n = len(self.messages)
            head = f"Scorecard {self.source} has {n} problem{'s' if n > 1 else ''}:\n  "
            raise ConfigError(head + "\n  ".join(self.messages))


def _dotted(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _strings(value: Any, path: tuple, bad: _Problems, *, single_ok: bool = False) -> tuple[str, ...]:
    if value is None:
        return ()
    if single_ok and isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        bad.add(path, f"must be a list of strings, got {value!r:.80}")
        return ()
    return tuple(v for v in value)


def _number(value: Any, path: tuple, bad: _Problems, *, lo: float, hi: float | None = None) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        bad.add(path, f"must be a number, got {value!r:.60}")
        return None
    if value < lo or (hi is not None and value > hi):
        bad.add(path, f"must be between {lo} and {hi}, got {value}" if hi is not None else f"must be >= {lo}, got {value}")
        return None
    return float(value)


def _flag(value: Any, path: tuple, bad: _Problems) -> bool:
    if not isinstance(value, bool):
        bad.add(path, f"must be true or false, got {value!r:.60}")
        return False
    return value


def _unknown(data: Mapping, allowed: Sequence[str], path: tuple, bad: _Problems) -> None:
    import difflib

    for key in data:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            bad.add(path + (key,), f"unknown field {key!r}{hint}; known: {', '.join(allowed)}")


def _patterns(value: Any, path: tuple, bad: _Problems) -> tuple[Any, ...]:
    if value is None:
        return ()
    ok = isinstance(value, list) and all(
        isinstance(p, list) and p and all(isinstance(tok, dict) and tok for tok in p) for p in value)
    if not ok:
        bad.add(path, "must be a list of spaCy token patterns (each a list of {ATTR: value} mappings)")
        return ()
    try:
        from spacy.matcher import Matcher
    except ImportError:  # validated again when the matcher is built
        return tuple(value)
    from cxlens.nlp.qa._tokenizer import blank_english

    matcher = Matcher(blank_english().vocab, validate=True)
    for i, pattern in enumerate(value):
        try:
            matcher.add(f"p{i}", [pattern])
        except (ValueError, KeyError, TypeError) as exc:
            bad.add(path + (i,), f"bad spaCy token pattern: {str(exc).strip().splitlines()[0]:.200}")
    return tuple(value)


def _item_fields(data: Mapping, path: tuple, bad: _Problems) -> dict[str, Any]:
    out: dict[str, Any] = {}
    item_id = data.get("id")
    if not isinstance(item_id, str) or not _ID.match(item_id):
        bad.add(path + ("id",), f"an id (letters, digits, _ . -) is required, got {item_id!r:.60}")
        item_id = f"?{path[-1]}"
    out["id"] = item_id
    desc = data.get("description")
    if not isinstance(desc, str) or not desc.strip():
        bad.add(path + ("description",), "a non-empty description is required (it is also the first example)")
        desc = ""
    out["description"] = desc.strip()
    for name in ("examples", "counter_examples", "phrases", "regexes"):
        out[name] = _strings(data.get(name), path + (name,), bad)
    for i, pattern in enumerate(out["regexes"]):
        try:
            re.compile(pattern, re.IGNORECASE)
        except re.error as exc:
            bad.add(path + ("regexes", i), f"bad regex {pattern!r}: {exc}")
    out["patterns"] = _patterns(data.get("patterns"), path + ("patterns",), bad)
    if "weight" in data:
        out["weight"] = _number(data["weight"], path + ("weight",), bad, lo=0.0) or 0.0
    if "auto_fail" in data:
        out["auto_fail"] = _flag(data["auto_fail"], path + ("auto_fail",), bad)
    speaker = data.get("speaker", "agent")
    if speaker not in SPEAKERS:
        bad.add(path + ("speaker",), f"must be one of {', '.join(SPEAKERS)}, got {speaker!r:.60}")
    out["speaker"] = speaker
    if data.get("threshold") is not None:
        out["threshold"] = _number(data["threshold"], path + ("threshold",), bad, lo=-1.0, hi=1.0)
    return out


def _step(data: Any, path: tuple, bad: _Problems) -> Step | None:
    if not isinstance(data, Mapping):
        bad.add(path, f"a step must be a mapping with id and description, got {data!r:.60}")
        return None
    _unknown(data, STEP_FIELDS, path, bad)
    fields = _item_fields(data, path, bad)
    position = data.get("position", "any")
    if not isinstance(position, str) or not (position in POSITIONS or re.match(r"^after:\s*\S", position)):
        bad.add(path + ("position",), f"must be opening, any, closing or after:<step id>, got {position!r:.60}")
        position = "any"
    fields["position"] = position.replace(" ", "")
    if "required" in data:
        fields["required"] = _flag(data["required"], path + ("required",), bad)
    fields["applies_to"] = _strings(data.get("applies_to"), path + ("applies_to",), bad, single_ok=True)
    when = data.get("when") or {}
    if not isinstance(when, Mapping):
        bad.add(path + ("when",), "must be a mapping of ticket column -> value or list of values")
        when = {}
    fields["when"] = tuple((str(col), _strings(vals, path + ("when", col), bad, single_ok=True))
                           for col, vals in when.items())
    return Step(**fields)


def _forbidden(data: Any, path: tuple, bad: _Problems) -> ForbiddenItem | None:
    if not isinstance(data, Mapping):
        bad.add(path, f"a forbidden item must be a mapping, got {data!r:.60}")
        return None
    _unknown(data, FORBIDDEN_FIELDS, path, bad)
    fields = _item_fields(data, path, bad)
    item = ForbiddenItem(**fields)
    if not item.has_rules and not item.examples:
        bad.add(path, "a forbidden item needs phrases, regexes, patterns or examples to be detected")
    return item


def _question(data: Any, path: tuple, bad: _Problems) -> Question | None:
    if not isinstance(data, Mapping):
        bad.add(path, f"a question must be a mapping with id and question, got {data!r:.60}")
        return None
    _unknown(data, QUESTION_FIELDS, path, bad)
    text = data.get("question")
    if not isinstance(text, str) or not text.strip():
        bad.add(path + ("question",), 'a non-empty question is required, e.g. "Did the agent offer a callback?"')
        text = "?"
    speaker = data.get("speaker", "agent")
    if speaker not in QUESTION_SPEAKERS:
        bad.add(path + ("speaker",), f"must be one of {', '.join(QUESTION_SPEAKERS)}, got {speaker!r:.60}")
        speaker = "agent"
    fields = _item_fields({**data, "description": question_statement(text), "speaker": "agent"}, path, bad)
    return Question(**{**fields, "speaker": speaker}, question=text.strip())


def _items(value: Any, path: tuple, bad: _Problems, make: Any) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        bad.add(path, f"must be a list, got {type(value).__name__}")
        return []
    return [x for x in (make(v, path + (i,), bad) for i, v in enumerate(value)) if x is not None]


def _check_order(steps: Sequence[Step], paths: Mapping[str, tuple], script: str, bad: _Problems) -> None:
    ids = {s.id for s in steps}
    graph = {s.id: s.after for s in steps}
    for step in steps:
        for dep in step.after:
            if dep == step.id:
                bad.add(paths[step.id] + ("position",), f"step {step.id!r} cannot come after itself")
            elif dep not in ids:
                bad.add(paths[step.id] + ("position",),
                        f"after:{dep}: no step {dep!r} in script {script!r} (steps: {', '.join(sorted(ids))})")
    state: dict[str, int] = {}
    reported: set[frozenset] = set()

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for dep in graph.get(node, ()):
            if dep not in graph or dep == node:
                continue
            if state.get(dep) == 1:
                cycle = trail[trail.index(dep):] + [dep] if dep in trail else [node, dep]
                key = frozenset(cycle)
                if key not in reported:
                    reported.add(key)
                    bad.add(paths[cycle[0]] + ("position",),
                            f"cycle in the order constraints of script {script!r}: {' -> after -> '.join(cycle)}")
            elif state.get(dep) is None:
                visit(dep, trail + [dep])
        state[node] = 2

    for step in steps:
        if state.get(step.id) is None:
            visit(step.id, [step.id])


def _duplicates(items: Sequence[Any], paths: Mapping[int, tuple], kind: str, bad: _Problems) -> None:
    seen: set[str] = set()
    for i, item in enumerate(items):
        if item.id in seen:
            bad.add(paths[i] + ("id",), f"duplicate {kind} id {item.id!r}")
        seen.add(item.id)


def scorecard_from_dict(data: Any, *, source: str = "<dict>", lines: Mapping[tuple, int] | None = None) -> Scorecard:
    """Validate a parsed scorecard (see the module docstring); every problem is reported at once."""
    bad = _Problems(source, lines or {})
    if not isinstance(data, Mapping):
        bad.add((), "a scorecard must be a mapping with at least `steps` or `scripts`")
        bad.raise_if_any()
    _unknown(data, TOP_FIELDS, (), bad)
    name = data.get("name") or Path(source).stem
    settings: dict[str, Any] = {}
    if data.get("threshold") is not None:
        settings["threshold"] = _number(data["threshold"], ("threshold",), bad, lo=-1.0, hi=1.0)
    for key in ("opening_window", "closing_window"):
        if key in data:
            value = data[key]
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                bad.add((key,), f"must be a whole number >= 1, got {value!r:.40}")
            else:
                settings[key] = value
    if "order_credit" in data:
        settings["order_credit"] = _number(data["order_credit"], ("order_credit",), bad, lo=0.0, hi=1.0) or 0.0
    common_steps = _items(data.get("steps"), ("steps",), bad, _step)
    common_paths = [("steps", i) for i in range(len(common_steps))]
    common_forbidden = _items(data.get("forbidden"), ("forbidden",), bad, _forbidden)
    common_fpaths = [("forbidden", i) for i in range(len(common_forbidden))]
    raw_scripts = data.get("scripts")
    scripts: list[Script] = []
    if raw_scripts is None:
        raw_scripts = [{"id": name, "description": data.get("description", ""),
                        "applies_to": data.get("applies_to")}]
    elif not isinstance(raw_scripts, list) or not raw_scripts:
        bad.add(("scripts",), "must be a non-empty list of scripts")
        raw_scripts = []
    elif "applies_to" in data:
        bad.add(("applies_to",), "with `scripts`, put applies_to on each script")
    for i, raw in enumerate(raw_scripts):
        path = ("scripts", i) if data.get("scripts") is not None else ()
        if not isinstance(raw, Mapping):
            bad.add(path, "a script must be a mapping with id, applies_to and steps")
            continue
        if path:
            _unknown(raw, SCRIPT_FIELDS, path, bad)
        sid = raw.get("id")
        if not isinstance(sid, str) or not _ID.match(sid):
            bad.add(path + ("id",), f"a script id (letters, digits, _ . -) is required, got {sid!r:.60}")
            sid = f"?{i}"
        own_steps = _items(raw.get("steps"), path + ("steps",), bad, _step) if path else []
        own_forbidden = _items(raw.get("forbidden"), path + ("forbidden",), bad, _forbidden) if path else []
        steps = common_steps + own_steps
        spaths = common_paths + [path + ("steps", j) for j in range(len(own_steps))]
        forbidden = common_forbidden + own_forbidden
        fpaths = common_fpaths + [path + ("forbidden", j) for j in range(len(own_forbidden))]
        _duplicates(steps, dict(enumerate(spaths)), "step", bad)
        _duplicates(forbidden, dict(enumerate(fpaths)), "forbidden", bad)
        _check_order(steps, {s.id: p for s, p in zip(steps, spaths)}, sid, bad)
        if not steps and not forbidden:
            bad.add(path or ("steps",), f"script {sid!r} has no steps and no forbidden items")
        applies = _strings(raw.get("applies_to"), path + ("applies_to",), bad, single_ok=True)
        desc = raw.get("description") or ""
        scripts.append(Script(id=sid, description=str(desc), applies_to=applies, steps=tuple(steps),
                              forbidden=tuple(forbidden)))
    _duplicates(scripts, {i: ("scripts", i) for i in range(len(scripts))}, "script", bad)
    questions = _items(data.get("questions"), ("questions",), bad, _question)
    _duplicates(questions, {i: ("questions", i) for i in range(len(questions))}, "question", bad)
    bad.raise_if_any()
    return Scorecard(name=str(name), scripts=tuple(scripts), description=str(data.get("description") or ""),
                     version=str(data.get("version", "1")), source=source, questions=tuple(questions), **settings)


# ------------------------------------------------------------------ files


def load_scorecard(path_or_name: str | Path) -> Scorecard:
    """Read and validate a scorecard file, or a shipped one by name (``general_support``)."""
    path = Path(path_or_name)
    if not path.exists() and path.suffix == "" and len(path.parts) == 1:
        path = shipped_scorecard_path(str(path_or_name))
    data, lines = read_with_lines(path)
    return scorecard_from_dict(data, source=str(path), lines=lines)
