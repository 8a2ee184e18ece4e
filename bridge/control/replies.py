"""Typed replies: what a handler answers to one command, before any transport renders it.

``notify`` turns each into an OSC message; the spool writes them into its result file and
MIDI lights a pad for :class:`Accepted`. Job events (:class:`~bridge.jobs.events.JobEvent`)
are replies too, when a command asks for a job's state.
"""

from __future__ import annotations

from dataclasses import dataclass

from bridge.jobs.events import JobEvent
from bridge.jobs.journal import JobRecord
from bridge.model import Value

__all__ = ["Accepted", "Cancelling", "JobListed", "JobsListed", "Pong", "Refused", "Reply", "Report"]


@dataclass(frozen=True)
class Accepted:
    """A job was queued for the command, at this estimated cost (USD; ``None``: not published)."""

    job_id: str
    cost_usd: float | None = 0.0


@dataclass(frozen=True)
class Cancelling:
    """A cancel was asked for; the job's ``cancelled`` event follows."""

    job_id: str
    fraction: float


@dataclass(frozen=True)
class Refused:
    """The command cannot be carried out; ``message`` names the field and the value."""

    address: str
    message: str


@dataclass(frozen=True)
class Report:
    """Key/value pairs: the session and daemon status, or what a command changed."""

    pairs: tuple[tuple[str, Value], ...]


@dataclass(frozen=True)
class Pong:
    version: str
    echo: tuple[object, ...]


@dataclass(frozen=True)
class JobListed:
    record: JobRecord


@dataclass(frozen=True)
class JobsListed:
    count: int


Reply = Accepted | Cancelling | Refused | Report | Pong | JobListed | JobsListed | JobEvent
