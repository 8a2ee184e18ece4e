"""The local engine: fills in a given executor, and survives a broken process pool."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor, Future
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import numpy as np

from bridge.audio.signals import loop
from bridge.engines.base import EngineJob, Fit
from bridge.engines.local import LocalEngine
from bridge.model import Operation


class BrokenPool(Executor):
    """An executor whose workers have died, as a ProcessPoolExecutor reports it."""

    def __init__(self) -> None:
        self.calls = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.calls += 1
        raise BrokenProcessPool("a child process terminated abruptly")


def job() -> EngineJob:
    audio = loop(48000, 6.0, channels=2)
    return EngineJob(Operation.INPAINT, audio, 48000, 96000, 98400, "", "", 0, 480)


def test_a_broken_pool_falls_back_to_threads() -> None:
    pool = BrokenPool()
    engine = LocalEngine(pool)
    first = asyncio.run(engine.render(job()))
    second = asyncio.run(engine.render(job()))
    assert isinstance(first.audio, np.ndarray) and isinstance(second.audio, np.ndarray)
    assert first.fit is Fit.JOINED and first.audio.shape == (2400, 2) and np.isfinite(first.audio).all()
    assert np.array_equal(first.audio, second.audio)
    assert pool.calls == 1  # the broken pool is not tried again


def test_the_fill_process_pool_gets_the_window_through_shared_memory_and_gives_it_back() -> None:
    from pathlib import Path

    from bridge.engines.registry import fill_pool

    before = set(Path("/dev/shm").iterdir()) if Path("/dev/shm").is_dir() else set()
    pool = fill_pool(1)
    assert pool is not None
    try:
        in_process = asyncio.run(LocalEngine(pool).render(job()))
    finally:
        pool.shutdown()
    in_thread = asyncio.run(LocalEngine().render(job()))
    assert isinstance(in_process.audio, np.ndarray) and isinstance(in_thread.audio, np.ndarray)
    assert np.array_equal(in_process.audio, in_thread.audio) and in_process.details == in_thread.details
    after = set(Path("/dev/shm").iterdir()) if Path("/dev/shm").is_dir() else set()
    assert not {p for p in after - before if p.name.startswith("psm_")}  # the shared window is gone
