"""The engine interface: one small protocol, and capabilities declared as data."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from bridge.audio.io import EncodedAudio
from bridge.model import Operation

__all__ = ["Capabilities", "Engine", "EngineJob", "EngineResult", "Fit", "Progress"]


@dataclass(frozen=True)
class Capabilities:
    """What an engine can do, read by validation, planning and ``inpaint-bridge engines``."""

    name: str
    description: str
    operations: frozenset[Operation]
    min_duration_s: float
    max_duration_s: float
    default_context_s: float
    max_context_s: float
    uses_prompt: bool
    needs_key: bool
    models: tuple[str, ...] = ()


@dataclass(frozen=True)
class Progress:
    """A step of a job inside an engine, for progress displays and the job journal.

    ``state`` is one of ``uploading``, ``submitting`` (the paid request is about to be sent:
    from here on a restart must not send it again), ``submitted`` (``request_id`` is set: the service
    accepted the job and will bill it), ``queued`` (``queue_position`` is how many are
    ahead), ``running``, ``downloading``.
    """

    state: str
    elapsed_s: float
    request_id: str | None = None
    queue_position: int | None = None
    message: str | None = None


@dataclass(frozen=True)
class EngineJob:
    """What an engine is asked: regenerate ``audio[start:end]`` (frames of the window read)."""

    operation: Operation
    audio: NDArray[np.float32]
    sr: int
    start: int
    end: int
    prompt: str
    negative_prompt: str
    seed: int
    fade: int
    params: Mapping[str, float | int | str | bool] = field(default_factory=dict)
    model: str | None = None
    resume_id: str | None = None
    """A request the service already accepted for this job: poll it instead of submitting."""
    deadline_s: float = 600.0
    on_progress: Callable[[Progress], None] | None = None

    def report(self, progress: Progress) -> None:
        if self.on_progress is not None:
            self.on_progress(progress)


class Fit(StrEnum):
    """How an engine's audio goes back into the window."""

    JOINED = "joined"
    """The range's new frames, at the window's rate and channels, already joined to the context."""
    ALIGN = "align"
    """A model's rendering of the excerpt ``[lo, hi)``, context included: align on the context, then splice."""
    PLACE = "place"
    """New audio that starts at ``lo`` (no context to align on): resample, place, splice."""


@dataclass(frozen=True)
class EngineResult:
    """What an engine returned; ``fit`` says how it goes back into the window (see :class:`Fit`)."""

    audio: NDArray[np.float32] | EncodedAudio
    """Samples made here, or a service's answer file as it came, decoded where the fit reads it."""
    sr: int
    fit: Fit
    model: str
    lo: int = 0
    hi: int = 0
    request_id: str | None = None
    details: Mapping[str, object] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    seeded: bool = True
    """Whether the model took the seed (a result without one cannot be reproduced by it)."""
    regenerated: tuple[int, int] | None = None
    """Frames of the window the model regenerated (its mask), when more than the range: the fit
    aligns on audio outside it only."""


class Engine(Protocol):
    """An inpainting engine."""

    @property
    def capabilities(self) -> Capabilities: ...

    def readiness(self) -> str | None:
        """``None`` when the engine can take jobs, else why not (for ``engines``)."""
        ...

    async def render(self, job: EngineJob) -> EngineResult: ...

    async def aclose(self) -> None:
        """Release connections; the engine is not used afterwards."""
        ...
