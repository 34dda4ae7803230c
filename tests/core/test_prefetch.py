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


def test_stopping_early_stops_the_thread_and_reads_at_most_one_ahead():
    made = []

    def items():
        for i in range(100):
            made.append(i)
            yield i

    before = threading.active_count()
    reader = prefetched(items())
    assert next(reader) == 0
    time.sleep(0.2)  # the thread has read what it may read ahead
    reader.close()
    assert threading.active_count() == before
    assert len(made) <= 3  # the item handed out, one waiting in the queue, one the thread holds


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
