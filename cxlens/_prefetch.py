"""Reading ahead: the next item of an iterator made in a background thread while the caller works on this one.

Parquet decoding releases the GIL, so a file's next batch is decoded on the second core while pandas validates
the current one. One item is read ahead (the memory of one more chunk); an error in the thread is raised to the
caller where the item would have come; closing the generator early stops the thread.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

__all__ = ["prefetched"]

T = TypeVar("T")
_DONE = object()


def prefetched(items: Iterable[T]) -> Iterator[T]:
    """The items of ``items`` in order, each made while the caller handles the one before it."""
    ahead: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()

    def put(entry) -> bool:
        while not stop.is_set():
            try:
                ahead.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    return
            put((_DONE, None))
        except BaseException as exc:  # handed to the caller, raised there
            put((_DONE, exc))

    thread = threading.Thread(target=work, name="cxlens-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item, error = ahead.get()
            if error is not None:
                raise error
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
        thread.join()
