"""The ``local`` engine: offline context fill, no key, no network (the embedded default)."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
from concurrent.futures import Executor
from concurrent.futures.process import BrokenProcessPool
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
    otherwise in a worker thread. Only the frames the fill reads are sent to it.
    """

    def __init__(self, executor: Executor | None = None) -> None:
        self._executor = executor

    @property
    def capabilities(self) -> Capabilities:
        return CAPABILITIES

    def readiness(self) -> str | None:
        return None

    async def _fill(self, work: functools.partial[tuple[NDArray[np.floating], FillInfo]]) -> tuple[
            NDArray[np.floating], FillInfo]:
        loop = asyncio.get_running_loop()
        if self._executor is not None:
            try:
                return await loop.run_in_executor(self._executor, work)
            except BrokenProcessPool as exc:
                # a worker died (killed, out of memory, failed to start): fill in threads from now on
                log.warning("local engine: the fill process pool broke (%s); filling in threads", exc)
                self._executor = None
        return await loop.run_in_executor(None, work)

    async def aclose(self) -> None:
        return None

    async def render(self, job: EngineJob) -> EngineResult:
        if job.operation is not Operation.INPAINT:
            raise EngineRejected(f"operation = {job.operation.value!r}: the local engine only inpaints")
        from bridge.audio.fill import fill_range, fill_reach  # scipy: loaded by the first fill, not at start

        lo, hi = fill_reach(len(job.audio), job.sr, job.start, job.end)
        work = functools.partial(fill_range, job.audio[lo:hi], job.sr, job.start - lo, job.end - lo, seed=job.seed,
                                 bridge=job.fade)
        try:
            body, info = await self._fill(work)
        except AudioParameterError as exc:
            raise EngineRejected(str(exc)) from exc
        unread = ("the local engine fills from the surrounding audio and does not read the prompt",)
        notes = (unread if job.prompt.strip() else ()) + info.notes
        details = {k: v for k, v in dataclasses.asdict(info).items() if k != "notes"}
        return EngineResult(audio=body, sr=job.sr, fit=Fit.JOINED, model="context-fill", details=details, notes=notes)
