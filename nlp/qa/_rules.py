"""Rule evidence of scorecard items: phrases (spaCy ``PhraseMatcher``), regexes (``re``) and token patterns
(spaCy ``Matcher``), matched for every column at once. A match is certain evidence (score 1)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from cxlens.errors import ConfigError
from cxlens.nlp.qa._tokenizer import blank_english
from cxlens.nlp.qa._units import Column

__all__ = ["Rules"]


class Rules:
    """Phrase / regex / token-pattern matching for all columns at once."""

    def __init__(self, columns: Sequence[Column], items: Sequence) -> None:
        self.regexes = [(c, re.compile(rx, re.IGNORECASE)) for c, item in enumerate(items) for rx in item.regexes]
        self.need_spacy = any(item.phrases or item.patterns for item in items)
        self.nlp = self.phrases = self.matcher = None
        if self.need_spacy:
            try:
                import spacy
                from spacy.matcher import Matcher, PhraseMatcher
            except ImportError as exc:
                from cxlens.errors import MissingDependencyError

                raise MissingDependencyError(package="spacy", feature="Scorecard phrases and patterns",
                                             extra="nlp") from exc
            self.nlp = blank_english()
            self.phrases = PhraseMatcher(self.nlp.vocab, attr="LOWER")
            self.matcher = Matcher(self.nlp.vocab)
            for c, item in enumerate(items):
                if item.phrases:
                    self.phrases.add(str(c), [self.nlp.make_doc(p) for p in item.phrases])
                if item.patterns:
                    try:
                        self.matcher.add(str(c), [list(p) for p in item.patterns])
                    except (ValueError, KeyError, TypeError) as exc:
                        raise ConfigError(f"{columns[c].key}: bad spaCy token pattern: {exc}") from exc
        self.n = len(items)

    def match(self, texts: Sequence[str], rows: np.ndarray, hit: np.ndarray, span: np.ndarray,
              allowed: np.ndarray) -> None:
        """Fill ``hit[rows[i], c]`` and ``span`` for text i; only where ``allowed[i, c]``."""
        for i, text in enumerate(texts):
            r = rows[i]
            for c, rx in self.regexes:
                if allowed[i, c] and not hit[r, c]:
                    m = rx.search(text)
                    if m:
                        hit[r, c] = True
                        span[r, c] = (m.start(), m.end())
        if not self.need_spacy:
            return
        vocab = self.nlp.vocab
        use_matcher = len(self.matcher) > 0
        for i, doc in enumerate(self.nlp.tokenizer.pipe(list(texts), batch_size=256)):
            r = rows[i]
            for match_id, start, end in [*self.phrases(doc), *(self.matcher(doc) if use_matcher else ())]:
                c = int(vocab.strings[match_id])
                if allowed[i, c] and not hit[r, c]:
                    hit[r, c] = True
                    span[r, c] = (doc[start:end].start_char, doc[start:end].end_char)
