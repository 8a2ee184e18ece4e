"""What the control handlers act on: the runner, the session, presets, roots, listeners."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bridge import __version__
from bridge.config import Settings
from bridge.control.roots import Roots
from bridge.control.session import Session
from bridge.jobs.presets import Preset
from bridge.jobs.runner import Job, JobState, Runner

__all__ = ["Context", "job_event"]

Address = tuple[str, int]


@dataclass
class Context:
    settings: Settings
    runner: Runner
    roots: Roots
    presets: Mapping[str, Preset]
    session: Session = field(default_factory=Session)
    listeners: dict[str, set[Address]] = field(default_factory=dict)
    """Extra addresses per job that hear its events (who cancelled it, who asked its status)."""
    stats: Callable[[], dict[str, int]] = field(default=lambda: {})
    started: float = field(default_factory=time.monotonic)
    version: str = __version__
    midi: Any = None
    """The MIDI control when the daemon runs with --midi (learn mode, LEDs)."""
    take_index: int = -1
    announce: Callable[[Job], None] = field(default=lambda job: None)
    """Tell a job's listeners and the subscribers about it again (previous/next take)."""
    send: Callable[[Address, str, list[object]], None] = field(default=lambda to, address, args: None)
    """Send one OSC message to another peer (the Live script)."""

    def destinations(self, job: Job) -> list[Address]:
        seen: list[Address] = []
        for dest in ([job.reply] if job.reply else []) + sorted(self.listeners.get(job.id, ())) + \
                self.runner.journal.subscribers():
            if dest not in seen:
                seen.append(dest)
        return seen

    def listen(self, job_id: str, who: Address) -> None:
        self.listeners.setdefault(job_id, set()).add(who)

    def forget(self, job: Job) -> None:
        if not job.active:
            self.listeners.pop(job.id, None)


def job_event(job: Job) -> tuple[str, list[object]]:
    """The message that announces a job's current state."""
    if job.state is JobState.DONE and job.take is not None:
        take = job.take
        return "/bridge/done", [job.id, str(take.path), take.take_start, take.take_end, take.seed,
                                str(take.manifest_path)]
    if job.state is JobState.FAILED:
        return "/bridge/error", [job.id, job.error or "failed"]
    return "/bridge/progress", [job.id, job.state.value, job.fraction]
