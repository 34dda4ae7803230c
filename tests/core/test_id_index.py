"""The ticket-id index of the streamed KPI tables (``cxlens._keys.IdIndex``): exact whatever the hashes do."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlens import _keys
from cxlens._keys import IdIndex

TICKETS = ["T1", "T2", "T10", "ABC-7", "émile-3", "T3"]
ASKED = ["T10", "T4", None, "T1", "émile-3", "", "T3", "T2", "T2"]
EXPECTED = [2, -1, -1, 0, 4, -1, 5, 1, 1]


def test_positions_are_the_rows_of_equal_ids():
    index = IdIndex(pd.Series(TICKETS, dtype="str"))
    assert index.table_ is not None  # distinct hashes: the hash table
    assert index.positions(pd.Series(ASKED, dtype="str")).tolist() == EXPECTED
    assert index.positions(pd.Series(ASKED, dtype=object)).tolist() == EXPECTED
    assert index.positions(pd.Series([], dtype="str")).tolist() == []


@pytest.mark.parametrize("coarse", [lambda v: np.full(len(v), 7, dtype=np.uint64),             # every id collides
                                    lambda v: (_real(v) % np.uint64(3)).astype(np.uint64)])   # a few buckets
def test_positions_stay_exact_when_hashes_collide(monkeypatch, coarse):
    monkeypatch.setattr(_keys, "id_hashes", coarse)
    index = IdIndex(pd.Series(TICKETS, dtype="str"))
    assert index.table_ is None  # shared hashes: sorted hashes, each match checked against the string
    assert index.positions(pd.Series(ASKED, dtype="str")).tolist() == EXPECTED


def test_an_asked_id_sharing_a_hash_with_another_ticket_is_not_taken_for_it(monkeypatch):
    real = _keys.id_hashes

    def clash(values):  # "T4" gets the hash of "T1": the table finds T1's row, the string check refuses it
        out = real(values)
        strings = pd.Series(pd.array(values, dtype="str")) if not isinstance(values, pd.Series) else values
        out[(strings == "T4").fillna(False).to_numpy()] = real(pd.Series(["T1"], dtype="str"))[0]
        return out

    monkeypatch.setattr(_keys, "id_hashes", clash)
    index = IdIndex(pd.Series(TICKETS, dtype="str"))
    assert index.table_ is not None
    assert index.positions(pd.Series(ASKED, dtype="str")).tolist() == EXPECTED


_real = _keys.id_hashes


@pytest.mark.parametrize("coarse", [False, True])
def test_repeated_keys_equal_pandas_duplicated(monkeypatch, coarse):
    """Validation's duplicate-key check (``_validate._repeated_keys``) through hashes, exact even when every
    hash collides."""
    from cxlens import _validate

    if coarse:
        monkeypatch.setattr(_validate, "id_hashes", lambda v: np.full(len(v), 5, dtype=np.uint64))
    rng = np.random.default_rng(11)
    values = np.array([f"K{i}" for i in rng.integers(0, 400, 1000)], dtype=object)
    values[rng.random(1000) < 0.05] = None
    for dtype in ("str", object):
        keys = pd.Series(values, dtype=dtype)
        expected = (keys.notna() & keys.duplicated(keep="first")).to_numpy()
        assert expected.sum() > 100
        assert (_validate._repeated_keys(keys) == expected).all()
