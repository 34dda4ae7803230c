"""A small dialogue-act detector for agent sentences, and the acts a step's plain-words description names.

Script steps are often defined by *what the agent does* rather than *what it is about*: "the agent asks
the customer a question", "gives a link", "apologises". Sentence similarity is weak at that (a question
about refunds is closer to "we refunded you" than to "the agent asks a question"), so the detector checks
the act itself:

* :func:`sentence_acts` tags each sentence with the acts it shows (``ACTS``): ``question`` (a question
  mark, or an interrogative opening), ``request`` (please / kindly / could you / an imperative opening),
  ``link`` (a URL), ``apology``, ``thanks``, ``greeting``. ``ask`` is ``question`` or ``request``.
* :func:`described_acts` reads the acts a step's description names ("asks", "a link", "apologises")
  and whether the act is the *whole* criterion (nothing but the act and generic words is left:
  "The agent gives the customer a link."). A whole-criterion act is evidence on its own (like a rule);
  otherwise the named act *gates* semantic evidence: only sentences showing it can match the step.

The vocabularies below are generic English, the same for every scorecard; nothing here is tuned to one
brand's replies.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

__all__ = ["ACTS", "act_index", "described_acts", "may_show", "sentence_acts"]

ACTS = ("question", "request", "link", "apology", "thanks", "greeting", "ask")

_SENTENCE_ACTS = {
    "question": re.compile(
        r"\?|^\W*(can|could|would|will|do|does|did|have|has|is|are|was|were|may|should)\s+"
        r"(you|your|we|i|it|this|that|there|the|anything)\b|^\W*(what|which|when|where|who|why|how)\b(?!\s+to\b)",
        re.IGNORECASE),
    "request": re.compile(
        r"\b(please|pls|kindly)\b|\b(can|could|would|will)\s+you\b|\b(ask|request|invite|encourage)\s+you\s+to\b"
        r"|\b(need|like|want)\s+you\s+to\b|\blet\s+(us|me)\s+know\b|\bfeel\s+free\b"
        r"|^\W*(send|dm|message|reach|contact|call|try|give|check|make\s+sure|go|head|visit|tap|click|select|"
        r"restart|reboot|log|sign|update|reinstall|tell|share|follow|use|avoid|don'?t|do\s+not|refrain)\b",
        re.IGNORECASE),
    "link": re.compile(r"https?://\S+|\bwww\.\S+|\b[\w-]+\.(com|org|net|co|ly|me|io)/\S*", re.IGNORECASE),
    "apology": re.compile(r"\b(sorry|apolog\w*|regret\w*)\b", re.IGNORECASE),
    "thanks": re.compile(r"\b(thanks?|thank\s+you|thx|appreciate\w*)\b", re.IGNORECASE),
    "greeting": re.compile(r"^\W*(hi|hello|hey|hiya|good\s+(morning|afternoon|evening)|greetings)\b", re.IGNORECASE),
}
_ASK = re.compile(f"(?:{_SENTENCE_ACTS['question'].pattern})|(?:{_SENTENCE_ACTS['request'].pattern})", re.IGNORECASE)

# What a description says about the act. Order matters: the first act named wins the "whole criterion" test.
_DESCRIBED = (
    ("link", re.compile(r"\b(a |the )?(link|links|url|urls|web\s*page|web\s*address|website)\b", re.IGNORECASE)),
    ("question", re.compile(r"\b(a |one or more )?(question|questions)\b", re.IGNORECASE)),
    ("apology", re.compile(r"\b(apologi[sz]es?|apologi[sz]ing|apology|says sorry)\b", re.IGNORECASE)),
    ("thanks", re.compile(r"\b(thanks|thank)\b", re.IGNORECASE)),
    ("greeting", re.compile(r"\b(greets?|greeting|says hello)\b", re.IGNORECASE)),
    ("ask", re.compile(r"\b(asks?|asking|requests?|requesting|invites?|tells the customer to)\b", re.IGNORECASE)),
)
_GENERIC = frozenset(
    "the a an agent agents customer customers user users client caller they them their he she him her his "
    "to of for with about on in by and or any some one more gives give shares share sends send provides provide "
    "posts post offers offer says say makes make does do is are issue issues problem problems their own "
    "clarifying further relevant reply answer message".split())
_WORD = re.compile(r"[a-z']+")


def sentence_acts(units: Sequence[str], *, acts: Sequence[str] | None = None) -> np.ndarray:
    """``(n, len(ACTS))`` booleans: the acts each sentence shows (see the module docstring); with ``acts``, only
    those are checked (the other columns stay False)."""
    wanted = set(ACTS if acts is None else acts)
    ask_only = "ask" in wanted and not wanted & {"question", "request"}   # one search for "question or request"
    if "ask" in wanted and not ask_only:
        wanted |= {"question", "request"}
    checks = [(a, _SENTENCE_ACTS[name]) for a, name in enumerate(ACTS[:-1]) if name in wanted]
    if ask_only:
        checks.append((ACTS.index("ask"), _ASK))
    out = np.zeros((len(units), len(ACTS)), dtype=bool)
    for i, unit in enumerate(units):
        for a, pattern in checks:
            out[i, a] = pattern.search(unit or "") is not None
    if not ask_only:
        out[:, ACTS.index("ask")] = out[:, ACTS.index("question")] | out[:, ACTS.index("request")]
    return out


_UNANCHORED = frozenset({"link", "apology", "thanks"})


def may_show(text: str, acts: Sequence[str]) -> bool:
    """False only when ``text`` surely shows none of ``acts`` (a cheap check of the whole text before it is cut
    into sentences); acts found by a sentence's opening words are always worth the cut."""
    if not set(acts) <= _UNANCHORED:
        return True
    return any((a != "link" or "/" in text or "www." in text) and _SENTENCE_ACTS[a].search(text) for a in acts)


def described_acts(description: str) -> tuple[tuple[str, ...], bool]:
    """The acts a description names, and whether the act is the whole criterion.

    ``"The agent gives the customer a link."`` -> ``(("link",), True)``;
    ``"The agent asks the customer to restart their device."`` -> ``(("ask",), False)``.
    """
    acts: list[str] = []
    rest = description
    for name, pattern in _DESCRIBED:
        if pattern.search(rest):
            acts.append(name)
            rest = pattern.sub(" ", rest)
    if not acts:
        return (), False
    if "question" in acts and "ask" in acts:
        acts.remove("ask")
    whole = not [w for w in _WORD.findall(rest.lower()) if w not in _GENERIC]
    # an act-only description names one act; "asks" alone says too little to be the whole criterion
    whole = whole and len(acts) == 1 and acts[0] != "ask"
    return tuple(acts), whole


def act_index(name: str) -> int:
    """Column of an act in :func:`sentence_acts`' output."""
    return ACTS.index(name)
