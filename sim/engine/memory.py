"""The process's memory for a run's day: freed arrays kept for the next day instead of handed back to the system.

A day of a million-account book makes dozens of temporary arrays of a few
megabytes (a gathered column of the live rows, a mask, a draw) and frees them
within the step. glibc's malloc serves such sizes from ``mmap`` or from the top
of its heap and, by its defaults, gives the memory back to the system as soon
as it is freed (``munmap``, or a trim once more than twice the current ``mmap``
threshold lies free at the top), so the next day's array of the same size
faults its pages in again, zeroed by the kernel: about 3,500 page faults and
25 ms of system time a day in the 1M open-book benchmark, a tenth of the day.

:func:`keep_freed_memory` asks glibc (through ``mallopt``) to serve arrays up
to 32 MB (its ceiling) from the heap and to keep up to 1 GB of freed memory
for reuse. The numbers a run computes do not change (where memory comes from
is invisible to the arithmetic); the resident size at the end of a run stays
near its peak instead of shrinking. Elsewhere than glibc (macOS, musl) it does
nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util

# mallopt's parameters (glibc's malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's largest (HEAP_MAX_SIZE / 2 on 64-bit): arrays up to this from the heap
TRIM_THRESHOLD = 1024 * 1024 * 1024  # freed memory kept at the top of the heap before any is handed back

_taken: bool | None = None  # set on the first call


def keep_freed_memory() -> bool:
    """Once per process: keep freed arrays' memory for reuse (glibc only). Returns whether glibc took it."""
    global _taken
    if _taken is None:
        _taken = _set_thresholds()
    return _taken


def _set_thresholds() -> bool:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False  # not glibc: its allocator keeps its own defaults
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    # Each returns 1 when glibc accepts the value; setting the mmap threshold also stops glibc moving it.
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
