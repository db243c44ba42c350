"""Handing freed memory back to the operating system while a data set is built (glibc only)."""

from __future__ import annotations

import ctypes
import sys
from typing import Any

__all__ = ["release_free_memory"]

_MALLOC_TRIM: Any = None


def release_free_memory() -> None:
    """Hand memory that was freed but kept by the C allocator back to the system (glibc only).

    Building a DataSet frees many medium-sized temporaries (baskets, chunks of branches, index
    arrays).  glibc keeps such blocks in its heap after they are freed, and later allocations of other
    sizes may not fit into them, so the process's resident memory would stay near its high-water mark
    and grow with every new basket; ``malloc_trim(0)`` returns the free pages (also those between
    blocks still in use).  Does nothing where glibc is not the allocator.
    """
    global _MALLOC_TRIM
    if _MALLOC_TRIM is None:
        _MALLOC_TRIM = False
        if sys.platform.startswith("linux"):
            try:
                _MALLOC_TRIM = ctypes.CDLL("libc.so.6").malloc_trim
            except (OSError, AttributeError):
                _MALLOC_TRIM = False
    if _MALLOC_TRIM:
        _MALLOC_TRIM(0)
