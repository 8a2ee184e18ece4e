"""How a long-running process of the bridge sets itself up for jobs: the interpreter's switch
interval and what the C heap does with freed memory.

* Audio work runs in threads; a short switch interval lets the event loop take the GIL back
  within about a millisecond, which keeps control replies fast while jobs run.
* A job allocates tens of MB of sample buffers and frees them when it ends. glibc's malloc
  maps blocks above 128 KB (a threshold that rises, as such blocks are freed, to at most
  32 MB) straight from the kernel and hands them back on free, and trims the free top of the
  heap beyond 128 KB, so every job faults all its pages in afresh: on a virtual machine whose
  host reclaims freed pages that costs as much as the audio work itself. The daemon keeps
  them: blocks below 32 MB come from the heap, and up to :data:`KEPT_FREE_MB` of it stays
  mapped between jobs. Other C libraries keep their own policy.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

__all__ = ["KEPT_FREE_MB", "prepare_for_jobs"]

SWITCH_INTERVAL_S = 0.001
KEPT_FREE_MB = 128
_HEAP_BLOCK_MB = 32
"""glibc refuses an mmap threshold above this on 64-bit systems."""
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def prepare_for_jobs() -> None:
    """Set the switch interval, and keep freed memory where the C library is glibc."""
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and others: their own policy stays
        return
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    mallopt(_M_MMAP_THRESHOLD, _HEAP_BLOCK_MB << 20)
    mallopt(_M_TRIM_THRESHOLD, KEPT_FREE_MB << 20)
