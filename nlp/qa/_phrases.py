"""Phrases learned from a few labelled replies (``cxlens scorecard tune``): rule evidence a QA lead can read.

Real QA labels often follow a word the criterion's author had in mind ("refer to the specialist team" is
labelled on replies that say *team*), which no description or example written in plain words can pin down.
From the tuning replies, :func:`learned_phrases` picks for each step the word sequences (1 to 3 tokens, as
spaCy's English tokenizer splits them, lower case) made of the criterion's own words, that occur in enough of
the step's replies and in none of the others, greedily by how many of the step's replies they add, at most
``most`` per step. They become the step's ``phrases`` (matched like any phrase a user writes), so the tuned
scorecard shows them and the audit trail says a rule fired. ``cxlens scorecard tune --learn-phrases``; off by
default (docs/benchmarks.md: it helps where labels follow a keyword and can hurt steps with few replies).
"""

from __future__ import annotations

import re
from collections import defaultdict

import numpy as np
import pandas as pd

from cxlens.nlp.qa._tokenizer import blank_english

__all__ = ["criterion_words", "learned_phrases"]

_SKIP = re.compile(r"^(?:@\w+|https?://\S+|\W+|\d+)$")


def _grams(nlp, text: str, longest: int) -> set[str]:
    words = [t.lower_ for t in nlp.make_doc(text)]
    stop = nlp.Defaults.stop_words
    found = set()
    for n in range(1, longest + 1):
        for i in range(len(words) - n + 1):
            gram = words[i:i + n]
            if any(_SKIP.match(w) for w in gram) or all(w in stop for w in gram):
                continue
            found.add(" ".join(gram))
    return found


def criterion_words(*texts: str) -> set[str]:
    """The words of a criterion (its id, description, examples), lower case, singular and plural alike."""
    nlp = blank_english()
    words = set()
    for text in texts:
        for token in nlp.make_doc(text.replace("_", " ")):
            word = token.lower_
            words |= {word, word.rstrip("s"), word + "s"}
    return words


def learned_phrases(texts: list[str], labels: pd.DataFrame, *, grounds: dict[str, set[str]] | None = None,
                    min_support: float = 0.25, min_count: int = 3, min_precision: float = 1.0, most: int = 3,
                    longest: int = 3) -> dict[str, list[str]]:
    """Per step (label column): phrases seen in at least ``min_count`` and ``min_support`` of its replies, with
    precision at least ``min_precision`` over all the replies given (by default: in none of the others), and
    qualifying for no other step (a phrase of replies that show two steps tells neither); greedy by new replies
    covered. ``grounds`` (step -> :func:`criterion_words`): a phrase's content words must be words of the
    step's own criterion, so a template's filler ("under the hood") shared by a few replies is not learned."""
    nlp = blank_english()
    grams = [_grams(nlp, "" if t is None else str(t), longest) for t in texts]
    where: dict[str, set[int]] = defaultdict(set)
    for i, found in enumerate(grams):
        for gram in found:
            where[gram].add(i)
    y = labels.fillna(False).to_numpy(dtype=bool)
    qualified: dict[str, list[tuple[str, set[int]]]] = {}
    for j, step in enumerate(labels.columns):
        positives = set(np.flatnonzero(y[:, j]).tolist())
        if len(positives) < min_count:
            continue
        need = max(min_count, int(np.ceil(min_support * len(positives))))
        candidates = []
        ground = None if grounds is None else grounds.get(str(step), set())
        stop = nlp.Defaults.stop_words
        for gram, rows in where.items():
            if ground is not None and not all(w in ground for w in gram.split() if w not in stop):
                continue
            hit = len(rows & positives)
            if hit >= need and hit / len(rows) >= min_precision:
                candidates.append((gram, rows & positives))
        qualified[str(step)] = candidates
    steps_of: dict[str, int] = defaultdict(int)
    for candidates in qualified.values():
        for gram, _ in candidates:
            steps_of[gram] += 1
    out: dict[str, list[str]] = {}
    for step, candidates in qualified.items():
        candidates = [c for c in candidates if steps_of[c[0]] == 1]
        chosen: list[str] = []
        covered: set[int] = set()
        while candidates and len(chosen) < most:
            gram, rows = max(candidates, key=lambda c: (len(c[1] - covered), -len(c[0].split()), c[0]))
            if len(rows - covered) < min_count:
                break
            if any(f" {gram} " in f" {c} " or f" {c} " in f" {gram} " for c in chosen):  # "the team" after "team"
                candidates = [c for c in candidates if c[0] != gram]
                continue
            chosen.append(gram)
            covered |= rows
            candidates = [c for c in candidates if c[0] != gram]
        if chosen:
            out[step] = chosen
    return out
