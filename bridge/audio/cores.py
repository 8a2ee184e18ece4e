"""The machine's cores, for the stages of a job that split into independent parts.

soxr and libsndfile release the GIL, so threads run a signal's channels (resampling) or
halves (decoding) side by side: a hotkey job's answer is ready sooner. Each part is the
same work as one call would do, so the result is the same sample for sample.
"""

from __future__ import annotations

import functools
import os
from concurrent.futures import ThreadPoolExecutor

__all__ = ["MIN_SPLIT_FRAMES", "side_pool"]

MIN_SPLIT_FRAMES = 48_000
"""Shorter audio is done in one call: a thread hop would cost more than it saves."""


@functools.cache
def side_pool() -> ThreadPoolExecutor | None:
    """Threads for the parts of one stage, or ``None`` on a single core.

    Only leaf work goes here (a channel, a half): nothing in the pool waits on the pool.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return ThreadPoolExecutor(max_workers=min(cores, 4), thread_name_prefix="audio-part") if cores > 1 else None
