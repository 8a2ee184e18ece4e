"""The ``local`` engine: offline context fill, no key, no network (the embedded default)."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import importlib
import logging
from concurrent.futures import Executor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import shared_memory
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from bridge.engines.base import Capabilities, EngineJob, EngineResult, Fit
from bridge.errors import AudioParameterError, EngineRejected
from bridge.model import Operation

if TYPE_CHECKING:
    from bridge.audio.fill import FillInfo

__all__ = ["LocalEngine"]

log = logging.getLogger("bridge.engines.local")

SEARCH_CONTEXT_S = 60.0
"""Default search neighbourhood on each side of the range; ``--context`` changes it."""

CAPABILITIES = Capabilities(
    name="local",
    description="offline context fill: AR least squares for short gaps, exemplar search for long ones",
    operations=frozenset({Operation.INPAINT}),
    min_duration_s=0.0005,
    max_duration_s=30.0,
    default_context_s=SEARCH_CONTEXT_S,
    max_context_s=300.0,
    uses_prompt=False,
    needs_key=False,
    models=("context-fill",),
)


class LocalEngine:
    """Fills the range from the surrounding audio; the prompt is not read.

    The fill runs in ``executor`` when one is given (the daemon passes a process pool, so
    the fill's many small numpy steps never compete with the event loop for the GIL),
    otherwise in a worker thread. Only the frames the fill reads are sent to it, through
    shared memory: pickled, a window of tens of megabytes would hold the GIL while it is
    copied, and stall the daemon's replies.
    """

    def __init__(self, executor: Executor | None = None) -> None:
        self._executor = executor

    @property
    def capabilities(self) -> Capabilities:
        return CAPABILITIES

    def readiness(self) -> str | None:
        return None

    async def _fill(self, window: NDArray[np.float32], sr: int, start: int, end: int, *, seed: int,
                    bridge: int) -> tuple[NDArray[np.floating], FillInfo]:
        loop = asyncio.get_running_loop()
        if self._executor is not None:
            shared = await asyncio.to_thread(_share, window)
            try:
                work = functools.partial(_fill_shared, shared.name, window.shape, sr, start, end, seed=seed,
                                         bridge=bridge)
                return await loop.run_in_executor(self._executor, work)
            except BrokenProcessPool as exc:
                # a worker died (killed, out of memory, failed to start): fill in threads from now on
                log.warning("local engine: the fill process pool broke (%s); filling in threads", exc)
                self._executor = None
            finally:
                shared.close()
                shared.unlink()
        from bridge.audio.fill import fill_range

        return await loop.run_in_executor(None, functools.partial(fill_range, window, sr, start, end, seed=seed,
                                                                  bridge=bridge))

    async def aclose(self) -> None:
        return None

    async def render(self, job: EngineJob) -> EngineResult:
        if job.operation is not Operation.INPAINT:
            raise EngineRejected(f"operation = {job.operation.value!r}: the local engine only inpaints")
        # scipy is loaded by the first fill, not at start, and never on the event loop (it takes a second)
        fill = await asyncio.to_thread(importlib.import_module, "bridge.audio.fill")
        lo, hi = fill.fill_reach(len(job.audio), job.sr, job.start, job.end)
        try:
            body, info = await self._fill(job.audio[lo:hi], job.sr, job.start - lo, job.end - lo, seed=job.seed,
                                          bridge=job.fade)
        except AudioParameterError as exc:
            raise EngineRejected(str(exc)) from exc
        unread = ("the local engine fills from the surrounding audio and does not read the prompt",)
        notes = (unread if job.prompt.strip() else ()) + info.notes
        details = {k: v for k, v in dataclasses.asdict(info).items() if k != "notes"}
        return EngineResult(audio=body, sr=job.sr, fit=Fit.JOINED, model="context-fill", details=details, notes=notes)


def _share(window: NDArray[np.float32]) -> shared_memory.SharedMemory:
    """A shared-memory copy of ``window`` (float32) for a fill process."""
    shared = shared_memory.SharedMemory(create=True, size=max(1, window.nbytes))
    np.copyto(np.ndarray(window.shape, np.float32, buffer=shared.buf), window, casting="same_kind")
    return shared


def _fill_shared(name: str, shape: tuple[int, ...], sr: int, start: int, end: int, *, seed: int,
                 bridge: int) -> tuple[NDArray[np.floating], FillInfo]:
    """In a fill process: the fill of the window the daemon shared as ``name``."""
    from bridge.audio.fill import fill_range

    shared = shared_memory.SharedMemory(name=name)
    try:
        window = np.ndarray(shape, np.float32, buffer=shared.buf)
        body, info = fill_range(window, sr, start, end, seed=seed, bridge=bridge)
        del window
        return np.array(body), info  # its own memory, whatever the fill returned
    finally:
        shared.close()
