"""The person-name tagger behind PERSON redaction: a small spaCy NER that cxlens trains and ships.

No English NER model is published on PyPI and nothing may be downloaded at run time, so cxlens ships its own
(``cxlens/data/pii/ner/``, trained by ``benchmarks/train_pii_ner.py`` on GoEmotions comments whose masked names are
filled from cxlens's name lists, with customer requests and capitalised non-names as negatives; model card:
``docs/models/name_tagger.md``). Its spans are candidates: :func:`cxlens._pii.find_pii` keeps those that hold a
listed given name or surname, or that are capitalised words no English word list knows (``_pii.tagged_name_ok``),
and adds them to the rules' names.

The model is loaded once per process on first use (:func:`load_name_tagger`; about 0.3 s) and is read-only.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import cache
from importlib import resources

log = logging.getLogger(__name__)

__all__ = ["load_name_tagger", "tag_names"]


@cache
def load_name_tagger():
    """The shipped spaCy pipeline, or ``None`` when spaCy cannot be imported (names then come from the rules alone,
    and a warning says so once)."""
    try:
        import spacy
    except ImportError:  # spaCy is a dependency; a trimmed environment still redacts with the rules
        log.warning("spaCy is not installed: person names are found by cxlens's rules only (lower recall; "
                    "pip install spacy)")
        return None
    folder = resources.files("cxlens").joinpath("data", "pii", "ner")
    with resources.as_file(folder) as path:
        return spacy.load(path)


def tag_names(texts: Sequence[str], *, batch_size: int = 256) -> list[list[tuple[int, int]]]:
    """Character spans the tagger calls a person, per text (empty lists when no tagger is available)."""
    nlp = load_name_tagger()
    if nlp is None or not texts:
        return [[] for _ in texts]
    return [[(e.start_char, e.end_char) for e in doc.ents if e.label_ == "PERSON"]
            for doc in nlp.pipe(texts, batch_size=batch_size)]
