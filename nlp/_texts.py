"""A batch of texts that carries its vectors: the data every text component reads.

In the spirit of spaCy's ``Doc``: a :class:`Texts` is a sequence of strings plus, per encoder, the
vectors of those strings, computed the first time a component asks for them and kept with the batch.
Every component of a :class:`~cxlens.nlp.TextPipeline` that reads the same encoder gets the same
array: a text is encoded once per batch, and nothing outside the batch remembers it (no module-level
cache, nothing to clear). Slicing a ``Texts`` slices its vectors with it.

Vectors depend on the text alone (the int8 encoder quantises each token row with its own scale, see
:class:`~cxlens.nlp.encoders.MiniLMEncoder`), so a batch's output depends on that batch alone by
construction; a :class:`VectorStore` that a caller owns (a scoring run) may carry vectors from one
batch to the next without changing any result.
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["Texts", "VectorStore", "encoder_key"]


def encoder_key(encoder: Any) -> str:
    """The name vectors of ``encoder`` are filed under: its ``key`` (e.g. a tuned model's folder) or its name."""
    return str(getattr(encoder, "key", None) or encoder.name)


def _clean(text: object) -> str:
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return ""
    return str(text)


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


class VectorStore:
    """Vectors kept across batches by whoever owns the store (a scoring run), keyed by encoder and text.

    Bounded (least recently used go first). Only sound because vectors depend on the text alone; it
    saves encoding the same text twice in a run (templates, repeated replies), it never changes a result.
    """

    def __init__(self, *, max_size: int = 200_000) -> None:
        self.max_size = max_size
        self._vectors: OrderedDict[tuple[str, bytes], np.ndarray] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._vectors)

    def put(self, key: str, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Keep known ``vectors`` of ``texts`` under the encoder key ``key`` (see :func:`encoder_key`)."""
        for text, vec in zip(texts, vectors):
            self._vectors[(key, _digest(text))] = np.array(vec, dtype=np.float32)
        while len(self._vectors) > self.max_size:
            self._vectors.popitem(last=False)

    def encode(self, encoder: Any, texts: Sequence[str]) -> np.ndarray:
        """Vectors of distinct ``texts``: stored ones are reused, the others encoded in one call and stored."""
        key = encoder_key(encoder)
        digests = [_digest(t) for t in texts]
        found = [self._vectors.get((key, d)) for d in digests]
        todo = [i for i, v in enumerate(found) if v is None]
        self.hits += len(texts) - len(todo)
        self.misses += len(todo)
        if todo:
            fresh = encoder.encode([texts[i] for i in todo])
            for i, vec in zip(todo, fresh):
                found[i] = vec = np.array(vec, dtype=np.float32)  # a copy: a row view would keep its batch alive
                self._vectors[(key, digests[i])] = vec
            while len(self._vectors) > self.max_size:
                self._vectors.popitem(last=False)
        for d in digests:
            if (key, d) in self._vectors:
                self._vectors.move_to_end((key, d))
        if not texts:
            return np.empty((0, encoder.dim), dtype=np.float32)
        return np.stack(found).astype(np.float32, copy=False)


class Texts(Sequence[str]):
    """A batch of texts and, per encoder, their vectors (computed once, sliced with the batch).

    Parameters
    ----------
    texts : the strings (``None``/NaN become ``""``).
    vectors : vectors already known, ``{encoder key: array of shape (len(texts), dim)}``.
    store : a :class:`VectorStore` to reuse vectors from earlier batches (owned by the caller).

    >>> batch = Texts(["where is my order", "cancel my plan"])
    >>> batch[1:]
    Texts(['cancel my plan'], vectors=[])
    """

    def __init__(self, texts: Iterable[object], *, vectors: Mapping[str, np.ndarray] | None = None,
                 store: VectorStore | None = None) -> None:
        if isinstance(texts, str):
            raise TypeError("Texts takes a sequence of texts, not a single string: wrap it in a list.")
        self._texts = [_clean(t) for t in texts]
        self._vectors: dict[str, np.ndarray] = {}
        self._store = store
        for key, array in (vectors or {}).items():
            array = np.asarray(array, dtype=np.float32)
            if array.ndim != 2 or len(array) != len(self._texts):
                raise ValueError(f"vectors[{key!r}] has shape {array.shape} for {len(self._texts)} texts.")
            self._vectors[key] = array

    @classmethod
    def of(cls, X: object) -> Texts:
        """``X`` itself when it is a :class:`Texts`, else a new batch of its strings (a list, a pandas Series,
        a 1-D array). A 2-D array is refused: vectors travel inside a ``Texts``, not instead of it."""
        if isinstance(X, Texts):
            return X
        if isinstance(X, np.ndarray) and X.ndim != 1:
            raise TypeError(f"expected texts, got an array of shape {X.shape}: pass the texts (a list, a Series or "
                            "a Texts); a Texts carries its vectors with it.")
        if hasattr(X, "tolist") and not isinstance(X, list):
            X = X.tolist()
        return cls(X)

    # -- the sequence ------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._texts)

    def __iter__(self) -> Iterator[str]:
        return iter(self._texts)

    def __getitem__(self, index):  # int -> str; slice, int array, bool mask -> Texts
        if isinstance(index, (int, np.integer)):
            return self._texts[index]
        rows = np.arange(len(self._texts))[index]
        return Texts([self._texts[i] for i in rows], vectors={k: v[rows] for k, v in self._vectors.items()},
                     store=self._store)

    def __repr__(self) -> str:
        shown = self._texts[:3] + (["..."] if len(self._texts) > 3 else [])
        return f"Texts({shown!r}, vectors={sorted(self._vectors)!r})"

    def tolist(self) -> list[str]:
        return list(self._texts)

    # -- vectors -----------------------------------------------------------------------------
    def has_vectors(self, encoder: Any) -> bool:
        return encoder_key(encoder) in self._vectors

    def vectors(self, encoder: Any) -> np.ndarray:
        """The vectors of these texts by ``encoder`` (an encoder object): computed on first use, each distinct
        text once, then kept with this batch for every other component that reads the same encoder."""
        key = encoder_key(encoder)
        if key not in self._vectors:
            unique: dict[str, int] = {}
            rows = np.fromiter((unique.setdefault(t, len(unique)) for t in self._texts), dtype=np.int64,
                               count=len(self._texts))
            distinct = list(unique)
            if self._store is not None:
                found = self._store.encode(encoder, distinct)
            else:
                found = np.asarray(encoder.encode(distinct), dtype=np.float32)
            self._vectors[key] = found[rows] if len(distinct) else np.empty((0, encoder.dim), np.float32)
        return self._vectors[key]

    def map(self, fn) -> Texts:
        """A new batch of ``fn(text)`` for each text. Vectors of the texts ``fn`` left unchanged go with it (in
        this batch's store, or a new one), so only the changed texts are encoded again."""
        mapped = [fn(t) for t in self._texts]
        if mapped == self._texts:
            return Texts(mapped, vectors=self._vectors, store=self._store)
        store = self._store
        if self._vectors:
            store = VectorStore() if store is None else store
            kept = [i for i, (old, new) in enumerate(zip(self._texts, mapped)) if old == new]
            for key, array in self._vectors.items():
                store.put(key, [self._texts[i] for i in kept], array[kept])
        return Texts(mapped, store=store)

    def take(self, texts: Sequence[str]) -> Texts:
        """The batch of ``texts`` (each must be one of these texts), with the vectors already computed here."""
        where = {t: i for i, t in enumerate(self._texts)}
        try:
            rows = np.fromiter((where[_clean(t)] for t in texts), dtype=np.int64, count=len(texts))
        except KeyError as exc:
            raise KeyError(f"{exc.args[0]!r} is not a text of this batch") from None
        return self[rows]
