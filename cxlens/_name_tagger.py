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
from contextlib import nullcontext
from functools import cache
from importlib import resources
from pathlib import Path

log = logging.getLogger(__name__)

__all__ = ["load_name_tagger", "tag_names"]


#: texts longer than this are tagged in pieces cut at white space (spaCy refuses texts over a million characters and
#: its memory grows with a text's length)
PIECE_CHARS = 10_000
#: pieces tagged inside one spaCy memory zone (the new words of a zone are forgotten when it closes)
ZONE_PIECES = 10_000


@cache
def load_name_tagger():
    """The shipped spaCy pipeline, or ``None`` when it cannot be loaded: spaCy missing, or the package installed in
    a form the model folder cannot be read from (names then come from the rules alone, and a warning says so).

    Loaded once per process (a read-only model; :func:`tag_names` keeps its vocabulary from growing)."""
    try:
        import spacy
    except ImportError:  # spaCy is a dependency; a trimmed environment still redacts with the rules
        log.warning("spaCy is not installed: person names are found by cxlens's rules only (lower recall; "
                    "pip install spacy)")
        return None
    folder = resources.files("cxlens").joinpath("data", "pii", "ner")
    try:
        if isinstance(folder, Path):
            return spacy.load(folder)
        with resources.as_file(folder) as path:  # a zipped install: a folder needs Python 3.12 here
            return spacy.load(path)
    except (OSError, ValueError) as exc:
        log.warning("the name tagger could not be loaded (%s): person names are found by cxlens's rules only",
                    exc)
        return None


def _pieces(text: str) -> list[tuple[int, str]]:
    """``text`` as (offset, piece) parts of at most about :data:`PIECE_CHARS` characters, cut at white space."""
    if len(text) <= PIECE_CHARS:
        return [(0, text)]
    out, start = [], 0
    while start < len(text):
        end = min(len(text), start + PIECE_CHARS)
        if end < len(text):
            cut = max(text.rfind(" ", start, end), text.rfind("\n", start, end))
            end = cut + 1 if cut > start else end
        out.append((start, text[start:end]))
        start = end
    return out


def tag_names(texts: Sequence[str], *, batch_size: int = 256) -> list[list[tuple[int, int]]]:
    """Character spans the tagger calls a person, per text (empty lists when no tagger is available). Long texts
    are tagged in pieces; the model's vocabulary does not grow with what it reads (spaCy's memory zones)."""
    nlp = load_name_tagger()
    if nlp is None or not texts:
        return [[] for _ in texts]
    owners, offsets, pieces = [], [], []
    for i, text in enumerate(texts):
        for offset, piece in _pieces(text):
            owners.append(i)
            offsets.append(offset)
            pieces.append(piece)
    out: list[list[tuple[int, int]]] = [[] for _ in texts]
    for block in range(0, len(pieces), ZONE_PIECES):  # the strings a zone adds are dropped when it closes
        part = slice(block, block + ZONE_PIECES)
        with nlp.memory_zone() if hasattr(nlp, "memory_zone") else nullcontext():
            docs = nlp.pipe(pieces[part], batch_size=batch_size)
            for owner, offset, doc in zip(owners[part], offsets[part], docs):
                out[owner] += [(offset + e.start_char, offset + e.end_char) for e in doc.ents if e.label_ == "PERSON"]
    return out
