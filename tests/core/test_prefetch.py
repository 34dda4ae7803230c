"""Reading ahead in a background thread (cxlens._prefetch): same items in the same order, errors where they
would have come, and a reader that stops early leaves no thread behind."""

from __future__ import annotations

import threading
import time

import pytest

from cxlens._prefetch import prefetched


def test_items_come_in_order_and_all_of_them():
    assert list(prefetched(iter(range(1000)))) == list(range(1000))
    assert list(prefetched([])) == []


def test_an_error_is_raised_where_its_item_would_have_come():
    def items():
        yield 1
        yield 2
        raise ValueError("broken chunk")

    got = []
    with pytest.raises(ValueError, match="broken chunk"):
        for item in prefetched(items()):
            got.append(item)
    assert got == [1, 2]


def _counted(n: int, made: list):
    """0..n-1, each appended to ``made`` as it is made."""
    for i in range(n):
        made.append(i)
        yield i


def test_stopping_early_stops_the_thread_and_reads_exactly_one_ahead():
    made = []
    before = threading.active_count()
    reader = prefetched(_counted(100, made))
    assert next(reader) == 0
    time.sleep(0.2)  # the thread has read what it may read ahead
    reader.close()
    assert threading.active_count() == before
    assert made == [0, 1]  # the item handed out and the one made meanwhile, no more


def test_the_next_item_is_made_while_the_caller_holds_this_one():
    making_second = threading.Event()

    def items():
        yield 0
        making_second.set()
        yield 1

    reader = prefetched(items())
    assert next(reader) == 0
    # made one after the other, the second item would not be started before the caller asks for it
    assert making_second.wait(timeout=10)
    assert list(reader) == [1]


def test_an_error_in_the_callers_loop_stops_the_thread():
    before = threading.active_count()
    with pytest.raises(RuntimeError):
        for item in prefetched(iter(range(100))):
            if item == 3:
                raise RuntimeError("the caller failed")
    assert threading.active_count() == before


def test_an_item_is_started_only_once_the_one_before_is_taken():
    made = []
    reader = prefetched(_counted(10, made))
    for expected in range(5):
        assert next(reader) == expected
        time.sleep(0.05)
        assert len(made) <= expected + 2
    reader.close()
