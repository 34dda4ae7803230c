"""Reading ahead: the next item of an iterator made in a background thread while the caller works on this one.

Parquet decoding, pyarrow and most numpy work release the GIL, so a table's next chunk is read and validated on
the second core while the caller uses the current one. Exactly one item is made ahead: the thread starts an item
only once the caller has taken the one before it, so memory holds the item in use and the next one. An error in
the thread is raised to the caller where its item would have come; closing the generator early stops the thread.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

__all__ = ["prefetched"]

T = TypeVar("T")
_DONE = object()
_POLL_S = 0.1  # how often a waiting thread checks whether the caller has gone


def prefetched(items: Iterable[T]) -> Iterator[T]:
    """The items of ``items`` in order, each made while the caller handles the one before it."""
    ahead: queue.Queue = queue.Queue(maxsize=1)
    turn = threading.Semaphore(1)  # released each time the caller takes an item: the thread may make the next
    stop = threading.Event()

    def wait_turn() -> bool:
        while not stop.is_set():
            if turn.acquire(timeout=_POLL_S):
                return True
        return False

    def work() -> None:
        try:
            iterator = iter(items)
            while wait_turn():
                try:
                    item = next(iterator)
                except StopIteration:
                    ahead.put((_DONE, None))
                    return
                ahead.put((item, None))
        except BaseException as exc:  # handed to the caller, raised there
            ahead.put((_DONE, exc))

    thread = threading.Thread(target=work, name="cxlens-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item, error = ahead.get()
            turn.release()
            if error is not None:
                raise error
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
        thread.join()
