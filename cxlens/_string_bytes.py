"""What a column of Arrow-backed strings holds, read from its buffers in one numpy pass: whether validation must
strip, lower-case or search for control characters at all (pandas' string methods on a million ids cost tenths
of a second each, and exported ids and categories rarely need them). Each answer is conservative: ``True`` when
unsure (other dtypes, bytes a null slot may hold), so the pandas method then decides."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxlens._keys import string_buffers

__all__ = ["may_change_case", "may_hold_control", "may_need_strip"]


def _string_chunks(values: pd.Series) -> list | None:
    """The non-empty Arrow string chunks behind ``values`` (no copy for pandas' Arrow-backed strings); ``None``
    for other dtypes, where the callers leave the decision to the pandas string methods."""
    import pyarrow as pa

    if isinstance(values.array, np.ndarray) or values.dtype == object:
        return None
    try:
        array = pa.array(values.array, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        return None
    chunks = array.chunks if isinstance(array, pa.ChunkedArray) else [array]
    if not all(pa.types.is_string(c.type) or pa.types.is_large_string(c.type) for c in chunks):
        return None
    return [c for c in chunks if len(c)]


def _data_bytes(chunk) -> np.ndarray:
    offsets, data = string_buffers(chunk)
    return data[offsets[0]:offsets[-1]]


def _any_bytes(values: pd.Series, test) -> bool:
    """``test`` on the data bytes of each Arrow chunk behind ``values``, True when one passes; True for other
    dtypes (the pandas method decides)."""
    chunks = _string_chunks(values)
    return True if chunks is None else any(test(data) for data in map(_data_bytes, chunks))


def may_hold_control(values: pd.Series) -> bool:
    """False when no value has a byte of ``_CONTROL`` (UTF-8 bytes below 0x80 are ASCII characters), read from
    the Arrow buffers; True (so the regex decides) for other dtypes."""
    return _any_bytes(values, _has_control)


def _has_control(data: np.ndarray) -> bool:
    if not len(data):
        return False
    if data.min() >= 0x20 and data.max() < 0x7F:  # two vectorised reductions settle the usual, printable case
        return False
    return bool(((data < 0x20) | (data == 0x7F)).any())


def may_change_case(values: pd.Series) -> bool:
    """False when lower-casing and writing spaces as ``_`` would change no value: no byte is an ASCII capital,
    a space or non-ASCII (read from the Arrow buffers); True for other dtypes."""
    return _any_bytes(values, _may_fold)


def _may_fold(data: np.ndarray) -> bool:
    if not len(data):
        return False
    if data.min() <= 0x20 or data.max() >= 0x80:  # a space (or below) or a non-ASCII byte: let pandas decide
        return True
    return bool((np.subtract(data, 0x41, dtype=np.uint8) < 26).any())  # A..Z (other bytes wrap above 25)


def may_need_strip(values: pd.Series) -> bool:
    """False when no value is empty or starts or ends with a byte that could be whitespace (ASCII whitespace,
    or any non-ASCII byte: U+00A0 and friends), read from the Arrow buffers; True for other dtypes."""
    chunks = _string_chunks(values)
    if chunks is None:
        return True
    for chunk in chunks:
        offsets, data = string_buffers(chunk)
        starts, ends = offsets[:-1], offsets[1:]
        if chunk.null_count:
            valid = np.asarray(chunk.is_valid())
            starts, ends = starts[valid], ends[valid]
        if not len(starts):
            continue
        if (ends <= starts).any() or _edge_space(data[starts]) or _edge_space(data[ends - 1]):
            return True
    return False


def _edge_space(edges: np.ndarray) -> bool:
    return bool(len(edges)) and bool(edges.min() <= 0x20 or edges.max() >= 0x7F)
