"""The one tokenizer-only English spaCy pipeline of a process, shared by scorecard validation (token patterns
are checked against its vocabulary) and step detection (phrase and pattern matching)."""

from __future__ import annotations

import functools

__all__ = ["blank_english"]


@functools.lru_cache(maxsize=1)
def blank_english():
    """One tokenizer-only English pipeline per process (building one takes about a second)."""
    import spacy

    return spacy.blank("en")
