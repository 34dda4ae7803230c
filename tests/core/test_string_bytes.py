"""The Arrow byte checks that let validation skip pandas' string methods (cxlens._string_bytes) never say "nothing
to do" when the pandas method would change something or find a control character."""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest

from cxlens._string_bytes import may_change_case, may_hold_control, may_need_strip

ALPHABET = list("abcxyz019_-.@") + ["A", "Z", " ", "\t", "\x00", "\x1f", "\x7f", "\u00a0", "\u00e9", "\u00c9", "\u20ac"]


def _columns(seed: int, n: int = 300):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        size = int(rng.integers(1, 6))
        words = ["".join(rng.choice(ALPHABET, size=int(rng.integers(0, 5)))) for _ in range(size)]
        if rng.random() < 0.2:
            words[0] = None
        yield pd.Series(words, dtype="str")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_checks_agree_with_the_pandas_methods(seed):
    for values in _columns(seed):
        present = values.dropna()
        if not may_change_case(values):
            assert (present.str.lower().str.replace(" ", "_", regex=False) == present).all(), list(values)
        if not may_hold_control(values):
            assert not present.str.contains(r"[\x00-\x1f\x7f]", regex=True).any(), list(values)
        if not may_need_strip(values):
            assert (present.str.strip() == present).all() and (present != "").all(), list(values)


def test_plain_ascii_ids_need_nothing_and_other_dtypes_are_left_to_pandas():
    ids = pd.Series([f"T{i:07d}" for i in range(1000)], dtype="str")
    assert not may_change_case(ids.str.lower()) and not may_hold_control(ids) and not may_need_strip(ids)
    assert may_change_case(ids)  # capitals
    objects = ids.astype(object)
    assert may_change_case(objects) and may_hold_control(objects) and may_need_strip(objects)
    assert may_hold_control(pd.Series(["ok", "bad\x7f"], dtype="str"))
    assert may_need_strip(pd.Series(["ok", "\u00a0x"], dtype="str"))
