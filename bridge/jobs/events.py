"""What the runner tells the rest of the daemon: a job's state, as a typed event.

Every state change is journalled, then emitted as one :class:`JobEvent`; the control
layer's ``notify`` turns events into OSC replies, spool results and MIDI LEDs.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bridge.model import Quantize, TakeInfo

__all__ = ["FINAL", "FRACTION", "JobEvent", "JobState"]


class JobState(StrEnum):
    QUEUED = "queued"
    RENDERING = "rendering"
    SUBMITTED = "submitted"
    RUNNING = "running"
    FITTING = "fitting"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINAL = frozenset({JobState.DONE, JobState.FAILED, JobState.CANCELLED})
FRACTION = {JobState.QUEUED: 0.0, JobState.RENDERING: 0.1, JobState.SUBMITTED: 0.25, JobState.RUNNING: 0.5,
            JobState.FITTING: 0.9, JobState.DONE: 1.0, JobState.FAILED: 1.0, JobState.CANCELLED: 1.0}


@dataclass(frozen=True)
class JobEvent:
    """One job's state: where it got, its take when done, its error when it failed or was cancelled."""

    job_id: str
    state: JobState
    fraction: float
    seed: int
    engine: str
    reply: tuple[str, int] | None = None
    """Where the request asked for replies (an OSC sender), or ``None`` (MIDI, spool)."""
    take: TakeInfo | None = None
    error: str | None = None
    cost_usd: float | None = 0.0
    """The estimated cost of this job (0 for local, ``None`` when the service publishes no price)."""
    quantize: Quantize | None = None
    """The boundary the take waits for before it is announced."""
    boundary: float | None = None
    """The beat (of the Link or MIDI-clock timeline) on which a quantized take was announced."""
    held: bool = False
    """A finished take waiting in the bank: announced as ready, delivered when it is selected."""

    @property
    def final(self) -> bool:
        return self.state in FINAL
