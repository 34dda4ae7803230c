"""Giving freed memory back to the system between the stages of a long run."""

from __future__ import annotations

__all__ = ["give_back_memory"]


def give_back_memory() -> None:
    """Return freed memory to the system: Arrow's pool and the C heap keep what was freed otherwise, so the
    next stage's peak is counted on top of it."""
    import ctypes

    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass
