"""Ids across chunks in a few bytes each: 64-bit hashes of id strings, and an index of ticket ids.

A streamed table cannot keep every id as a Python string (50M message ids would take gigabytes), so what must
be known across chunks is kept as hashes computed in numpy straight from Arrow's string buffers:

* :func:`id_hashes` - a 64-bit hash per string (a polynomial over its bytes, then a SplitMix64 finaliser);
* :class:`IdIndex` - the ids of the valid tickets in a hash table of their hashes (sorted hashes when two ids
  share a hash), with their row positions and the ids themselves (as one Arrow array, a dozen bytes each) so
  that every hash match is checked against the string: a lookup is exact, a collision costs a slower exact
  lookup of that row only;
* :class:`SeenHashes` - hashes in 16 buckets, checked for repeats once at the end (one sort per bucket),
  for keys whose strings are not worth keeping (message ids): a repeat is reported by hash, so two different
  ids could be taken for one with a chance of about n² / 2⁶⁵ (10⁻⁵ for 20M ids).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["IdIndex", "SeenHashes", "id_hashes", "string_buffers"]

_PRIME = np.uint64(0x100000001B3)
_SEED = np.uint64(0xCBF29CE484222325)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def _arrow_strings(values: pd.Series | np.ndarray):
    """The values as one Arrow string array: the column's own buffers when it is Arrow-backed (no copy)."""
    import pyarrow as pa

    if isinstance(values, pd.Series) and not isinstance(values.array, np.ndarray):
        try:
            array = pa.array(values.array)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
            array = pa.array(values, from_pandas=True, type=pa.string())
    elif isinstance(values, (pa.Array, pa.ChunkedArray)):
        array = values
    else:
        array = pa.array(values, from_pandas=True, type=pa.string())
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        array = array.cast(pa.string())
    return array


def string_buffers(array) -> tuple[np.ndarray, np.ndarray]:
    """An Arrow string array's offsets (int64, ``len + 1`` of them, slice offset applied) and its data bytes."""
    import pyarrow as pa

    width = np.int64 if pa.types.is_large_string(array.type) else np.int32
    offsets = np.frombuffer(array.buffers()[1], dtype=width)[array.offset:array.offset + len(array) + 1]
    data = array.buffers()[2]
    data = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, dtype=np.uint8)
    return offsets.astype(np.int64, copy=False), data  # large strings: no copy


def id_hashes(values) -> np.ndarray:
    """A uint64 hash per id (missing ids hash to 0, which no string gets in practice).

    Each string is read as little-endian 8-byte words (the last one padded with zero bytes), folded by
    multiply-xor, then mixed with its length: ids of one length (the usual case) take one vector operation per
    word, others are grouped by their number of words."""
    array = _arrow_strings(values)
    n = len(array)
    out = np.zeros(n, dtype=np.uint64)
    if not n:
        return out
    offsets, data = string_buffers(array)
    starts, lengths = offsets[:-1], np.diff(offsets)
    words = (lengths + 7) // 8
    if words.min() == words.max():  # the usual case: one fold over every id (back to back, as offsets are)
        out[:] = _fold(data, starts, lengths, int(words[0]), contiguous=True)
    else:
        for count in np.unique(words):
            rows = np.flatnonzero(words == count)
            out[rows] = _fold(data, starts[rows], lengths[rows], int(count))
    if array.null_count:
        out[~np.asarray(array.is_valid())] = 0
    return out


def _fold(data: np.ndarray, starts: np.ndarray, lengths: np.ndarray, count: int, *,
          contiguous: bool = False) -> np.ndarray:
    """The hash of strings of ``count`` 8-byte words each (a padded byte matrix, read as uint64 words).
    ``contiguous``: each string starts where the one before it ends (all of an array's offsets)."""
    width = 8 * count
    padded = np.zeros((len(starts), max(width, 8)), dtype=np.uint8)
    if width:
        first, size = int(starts[0]), int(lengths[0])
        uniform = lengths.min() == lengths.max() and (
            contiguous or np.array_equal(starts, first + size * np.arange(len(starts))))
        if uniform:  # every id of one length, back to back: one reshape, no gather
            padded[:, :size] = data[first:first + size * len(starts)].reshape(len(starts), size)
        else:
            columns = np.arange(width)
            inside = columns[None, :] < lengths[:, None]
            at = np.where(inside, starts[:, None] + columns[None, :], 0)
            padded[:] = np.where(inside, data[at] if len(data) else 0, 0)
    block = padded.view("<u8")
    h = np.full(len(starts), _SEED, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(count):
            h = (h ^ block[:, j]) * _PRIME
        h ^= lengths.astype(np.uint64) * _MIX1
        h ^= h >> np.uint64(30)
        h *= _MIX1
        h ^= h >> np.uint64(27)
        h *= _MIX2
        h ^= h >> np.uint64(31)
    return h


class IdIndex:
    """Where each id sits among the valid tickets (row position), exactly; built once, looked up per chunk."""

    def __init__(self, ids) -> None:
        self.ids_ = _arrow_strings(ids)
        hashes = id_hashes(self.ids_)
        # distinct hashes (the usual case): a hash table finds each asked hash's row; else sorted hashes
        table = pd.Index(hashes, copy=False)
        if table.is_unique:
            self.table_, self.order_, self.sorted_ = table, None, None
        else:
            self.table_ = None
            self.order_ = np.argsort(hashes, kind="stable").astype(np.int32 if len(hashes) < 2**31 else np.int64)
            self.sorted_ = hashes[self.order_]

    def __len__(self) -> int:
        return len(self.ids_)

    def positions(self, values) -> np.ndarray:
        """Per value, the row position of the equal id (-1: none)."""
        import pyarrow.compute as pc

        asked = _arrow_strings(values)
        hashes = id_hashes(asked)
        if asked.type != self.ids_.type:
            asked = asked.cast(self.ids_.type)
        found = np.full(len(hashes), -1, dtype=np.int64)
        if not len(self.ids_) or not len(hashes):
            return found
        valid = np.asarray(asked.is_valid())
        if self.table_ is not None:
            at = self.table_.get_indexer(hashes)
            rows = np.flatnonzero((at >= 0) & valid)
            candidate = at[rows].astype(np.int64)
        else:
            at = np.minimum(np.searchsorted(self.sorted_, hashes), len(self.sorted_) - 1)
            rows = np.flatnonzero((self.sorted_[at] == hashes) & valid)
            candidate = self.order_[at[rows]].astype(np.int64)
        same = np.asarray(pc.equal(asked.take(rows), self.ids_.take(candidate)).fill_null(False))
        found[rows[same]] = candidate[same]
        unsure = rows[~same]  # a hash shared by two ids (or by several equal-hash tickets): look it up exactly
        if len(unsure):
            exact = pc.index_in(asked.take(unsure), value_set=self.ids_).fill_null(-1)
            found[unsure] = np.asarray(exact, dtype=np.int64)
        return found


class SeenHashes:
    """Hashes in read order, bucketed by their top bits; :meth:`repeated` finds the hashes seen twice."""

    BUCKETS = 16

    def __init__(self) -> None:
        self.parts_: list[list[np.ndarray]] = [[] for _ in range(self.BUCKETS)]

    def add(self, hashes: np.ndarray) -> None:
        bucket = (hashes >> np.uint64(60)).astype(np.uint8)
        order = np.argsort(bucket, kind="stable")  # a radix sort for 8-bit keys
        bounds = np.searchsorted(bucket[order], np.arange(self.BUCKETS + 1))
        for b in range(self.BUCKETS):
            if bounds[b + 1] > bounds[b]:
                self.parts_[b].append(hashes[order[bounds[b]:bounds[b + 1]]])

    def repeated(self) -> np.ndarray:
        """The distinct hashes added more than once (sorted)."""
        found = []
        for b in range(self.BUCKETS):
            if not self.parts_[b]:
                continue
            values = np.sort(np.concatenate(self.parts_[b]))
            found.append(np.unique(values[1:][values[1:] == values[:-1]]))
        return np.concatenate(found) if found else np.zeros(0, dtype=np.uint64)
