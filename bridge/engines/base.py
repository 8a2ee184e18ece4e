"""The engine interface: one small protocol, and capabilities declared as data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from bridge.model import Operation

__all__ = ["Capabilities", "Engine", "EngineJob", "EngineResult"]


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
class EngineJob:
    """What an engine is asked: regenerate ``audio[start:end]`` (frames of the excerpt)."""

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


@dataclass(frozen=True)
class EngineResult:
    """What an engine returned.

    ``joined`` means ``audio`` holds exactly the new frames of the range, at the excerpt's
    rate and channels and already joined to the context; otherwise it is a model's
    rendering of the whole excerpt that still has to be fitted (resampled, aligned,
    gain-matched) and spliced.
    """

    audio: NDArray[np.float32]
    sr: int
    joined: bool
    model: str
    request_id: str | None = None
    details: Mapping[str, object] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


class Engine(Protocol):
    """An inpainting engine."""

    @property
    def capabilities(self) -> Capabilities: ...

    def readiness(self) -> str | None:
        """``None`` when the engine can take jobs, else why not (for ``engines``)."""
        ...

    async def render(self, job: EngineJob) -> EngineResult: ...
