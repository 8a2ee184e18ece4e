"""The ``local`` engine: offline context fill, no key, no network (the embedded default)."""

from __future__ import annotations

import asyncio
import dataclasses

from bridge.audio.fill import fill_range
from bridge.engines.base import Capabilities, EngineJob, EngineResult, Fit
from bridge.errors import AudioParameterError, EngineRejected
from bridge.model import Operation

__all__ = ["LocalEngine"]

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
    """Fills the range from the surrounding audio; the prompt is not read."""

    @property
    def capabilities(self) -> Capabilities:
        return CAPABILITIES

    def readiness(self) -> str | None:
        return None

    async def aclose(self) -> None:
        return None

    async def render(self, job: EngineJob) -> EngineResult:
        if job.operation is not Operation.INPAINT:
            raise EngineRejected(f"operation = {job.operation.value!r}: the local engine only inpaints")
        try:
            body, info = await asyncio.to_thread(
                fill_range, job.audio, job.sr, job.start, job.end, seed=job.seed, bridge_s=job.fade / job.sr
            )
        except AudioParameterError as exc:
            raise EngineRejected(str(exc)) from exc
        notes = ("the local engine fills from the surrounding audio and does not read the prompt",) + info.notes
        details = {k: v for k, v in dataclasses.asdict(info).items() if k != "notes"}
        return EngineResult(audio=body, sr=job.sr, fit=Fit.JOINED, model="context-fill", details=details, notes=notes)
