"""The units of step detection: sentence spans of a message, the detector's columns and its output."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

__all__ = ["Column", "Detections", "MAX_UNITS", "sentence_at", "split_units", "unit_text"]

MAX_UNITS = 32
_BREAK = re.compile(r"(?<=[.!?])\s+|\n\s*")
_LEADING_HANDLES = re.compile(r"^(?:\s*@\w+)+\s*")


def split_units(text: str, *, granularity: str = "sentence") -> list[tuple[int, int]]:
    """Character spans of the units compared with the prototypes (sentences, or the whole text)."""
    text = text or ""
    if granularity == "message" or not text.strip():
        return [(0, len(text))]
    spans: list[tuple[int, int]] = []
    bounds = [0] + [x for m in _BREAK.finditer(text) for x in (m.start(), m.end())] + [len(text)]
    for start, end in zip(bounds[::2], bounds[1::2]):
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end - start < 3 and spans:  # a stray "!" or emoji: glue to the previous unit
            spans[-1] = (spans[-1][0], end)
        elif end > start:
            spans.append((start, end))
    if not spans:
        return [(0, len(text))]
    if len(spans) > MAX_UNITS:
        spans = spans[:MAX_UNITS - 1] + [(spans[MAX_UNITS - 1][0], spans[-1][1])]
    return spans


def unit_text(text: str) -> str:
    return _LEADING_HANDLES.sub("", text).strip() or text


@dataclass(frozen=True)
class Column:
    """One detectable thing: a step or forbidden item of one script."""

    script: str
    item: str
    kind: str        # "step" or "forbidden"
    speaker: str

    @property
    def key(self) -> str:
        return f"{self.script}/{self.item}"


@dataclass
class Detections:
    """Detector output for a batch of texts (``n`` texts x ``C`` columns).

    similarity: best semantic cosine (``-1`` where semantics are off); rule: a rule matched;
    act: the act that is the item's whole criterion was seen (``None``: no such item);
    score: calibrated score in [0, 1] (rule or act = 1); found: ``score >= 0.5``;
    rule_span / unit_span / act_span: character spans of the evidence (``(-1, -1)`` when none).
    """

    columns: list[Column]
    similarity: np.ndarray
    rule: np.ndarray
    score: np.ndarray
    rule_span: np.ndarray    # (n, C, 2) int
    unit_span: np.ndarray    # (n, C, 2) int
    act: np.ndarray | None = None
    act_span: np.ndarray | None = None

    @property
    def found(self) -> np.ndarray:
        return self.score >= 0.5

    def fired(self, i: int, c: int) -> str:
        """What found the item: ``"rule"``, ``"act"`` (the dialogue act it names), ``"semantic"``, or ``""``."""
        if self.rule[i, c]:
            return "rule"
        if self.act is not None and self.act[i, c]:
            return "act"
        return "semantic" if self.score[i, c] >= 0.5 else ""

    def evidence(self, i: int, c: int) -> tuple[int, int]:
        """The span behind a detection: the rule match if any, else the act's sentence, else the best sentence."""
        if self.rule[i, c]:
            span = self.rule_span[i, c]
        elif self.act is not None and self.act[i, c]:
            span = self.act_span[i, c]
        else:
            span = self.unit_span[i, c]
        return int(span[0]), int(span[1])


def sentence_at(text: str, start: int, end: int) -> str:
    """The sentence (unit) of ``text`` that holds the span ``start:end`` (a rule match may be shorter)."""
    if start < 0:
        return ""
    for a, b in split_units(text):
        if a <= start < max(b, a + 1):
            return text[a:max(b, end)]
    return text[start:end]
