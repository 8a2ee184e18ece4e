"""What the handlers act on: the runner, the session, presets, roots, and the notifier."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bridge import __version__
from bridge.config import Settings
from bridge.control.notify import Notifier
from bridge.control.osc import Address
from bridge.control.roots import Roots
from bridge.control.session import Session
from bridge.jobs.events import JobEvent
from bridge.jobs.presets import Preset
from bridge.jobs.runner import Runner

if TYPE_CHECKING:
    from bridge.control.midi import MidiControl

__all__ = ["Address", "Context"]



@dataclass
class Context:
    settings: Settings
    runner: Runner
    roots: Roots
    presets: Mapping[str, Preset]
    notifier: Notifier
    session: Session = field(default_factory=Session)
    stats: Callable[[], dict[str, int]] = field(default=lambda: {})
    started: float = field(default_factory=time.monotonic)
    version: str = __version__
    take_index: int = -1
    selected: str | None = None
    """The bank's take delivered last by ``/bridge/select`` (a job id)."""
    played: set[str] = field(default_factory=set)
    """The bank's takes delivered by ``/bridge/select`` so far."""
    notice: str | None = None
    """Something the next requester should hear once (the journal was damaged and moved aside)."""

    @property
    def midi(self) -> MidiControl | None:
        """The MIDI control when the daemon runs with --midi (learn mode, LEDs)."""
        return self.notifier.midi

    def listen(self, job_id: str, who: Address) -> None:
        """``who`` hears this job's events from now on (it cancelled the job, or asked its status)."""
        self.notifier.listen(job_id, who)

    def announce(self, event: JobEvent, *, also: Address | None = None) -> None:
        """Tell a job's listeners and the subscribers about it (again: previous/next take), and ``also``."""
        self.notifier.job(event, also=also)

    def send(self, to: Address, address: str, args: list[object]) -> None:
        """Send one OSC message to another peer (the Live script)."""
        self.notifier.send(to, address, args)
