"""Notify: typed replies and job events out to every transport.

* :func:`to_osc` renders a reply or a job event as the OSC message the README documents;
  the spool's result files carry the same messages.
* :func:`spool_job` is a job's entry in a spool result, :func:`led_state` the LED a pad shows.
* :class:`Notifier` fans each job event out: the requester, whoever cancelled or asked
  about the job, the subscribers, the spool and the MIDI pads. A job with ``quantize`` is
  announced everywhere on the next boundary of the beat (Link or MIDI clock), and its
  ``/bridge/done`` says which beat that was.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from bridge.control.osc import Address
from bridge.control.replies import Accepted, Cancelling, JobListed, JobsListed, Pong, Refused, Reply, Report
from bridge.jobs.events import JobEvent, JobState

if TYPE_CHECKING:
    from bridge.control.midi import MidiControl
    from bridge.control.spool import Spool
    from bridge.control.tempo import TimeSource

__all__ = ["Notifier", "led_state", "spool_job", "to_osc"]

OscMessage = tuple[str, list[object]]

_LED = {JobState.QUEUED: "queued", JobState.RENDERING: "running", JobState.SUBMITTED: "running",
        JobState.RUNNING: "running", JobState.FITTING: "running", JobState.DONE: "done", JobState.FAILED: "error",
        JobState.CANCELLED: "off"}


def to_osc(reply: Reply) -> OscMessage:
    """The OSC message for one reply or job event."""
    match reply:
        case Accepted(job_id, cost):
            return "/bridge/accepted", [job_id, -1.0 if cost is None else round(cost, 6)]
        case Cancelling(job_id, fraction):
            return "/bridge/progress", [job_id, "cancelling", fraction]
        case Refused(address, message):
            return "/bridge/error", [address[:128], message]
        case Report(pairs):
            return "/bridge/status", [item for pair in pairs for item in pair]
        case Pong(version, echo):
            return "/bridge/pong", [version, *echo]
        case JobListed(r):
            return "/bridge/job", [r.id, r.state.value, r.fraction, r.engine, r.prompt, r.seed, r.take_path or ""]
        case JobsListed(count):
            return "/bridge/jobs", [count]
        case JobEvent():
            return _job_message(reply)
    raise TypeError(f"no OSC form for {reply!r}")


def _job_message(event: JobEvent) -> OscMessage:
    if event.state is JobState.DONE and event.held:
        return "/bridge/progress", [event.job_id, "ready", 1.0]
    if event.state is JobState.DONE and event.take is not None:
        take = event.take
        return "/bridge/done", [event.job_id, str(take.path), take.take_start, take.take_end, take.seed,
                                str(take.manifest_path), -1.0 if event.boundary is None else event.boundary]
    if event.state is JobState.FAILED:
        return "/bridge/error", [event.job_id, event.error or "failed"]
    return "/bridge/progress", [event.job_id, event.state.value, event.fraction]


def spool_job(event: JobEvent) -> dict[str, Any]:
    """A job's entry in a spool result file."""
    state = "ready" if event.state is JobState.DONE and event.held else event.state.value
    info: dict[str, Any] = {"state": state, "fraction": event.fraction, "seed": event.seed,
                            "engine": event.engine, "error": event.error if event.final else None,
                            "cost_usd": event.cost_usd, "boundary_beat": event.boundary}
    if event.take is not None:
        take = event.take
        info.update(take_path=str(take.path), take_start=take.take_start, take_end=take.take_end,
                    manifest_path=str(take.manifest_path), engine=take.engine, model=take.model,
                    notes=list(take.notes), request_id=take.request_id)
    return info


def led_state(state: JobState) -> str:
    """The feedback state (a controller map's ``[feedback]`` key) a pad shows for its job."""
    return _LED[state]


@dataclass
class Notifier:
    """Fans job events out to OSC peers, the spool and the MIDI pads."""

    send: Callable[[Address, str, list[object]], None]
    """Send one OSC message (the daemon's socket)."""
    subscribers: Callable[[], list[Address]]
    time: TimeSource | None = None
    """Where the beat comes from (Link, else MIDI clock), for quantized jobs."""
    spool: Spool | None = None
    midi: MidiControl | None = None
    listeners: dict[str, set[Address]] = field(default_factory=dict)
    """Extra addresses per job that hear its events (who cancelled it, who asked its status)."""
    _on_beat: set[asyncio.Task[None]] = field(default_factory=set)
    """Takes waiting for their boundary."""

    def listen(self, job_id: str, who: Address) -> None:
        self.listeners.setdefault(job_id, set()).add(who)

    def job(self, event: JobEvent, *, also: Address | None = None) -> None:
        """Tell everyone who hears ``event``'s job (and ``also``, once) about it; a quantized take on the
        next boundary."""
        if (event.state is JobState.DONE and not event.held and event.quantize is not None and event.boundary is None
                and self.time is not None and self.time.running()):
            waiting = asyncio.get_running_loop().create_task(self._on_boundary(event, self.time, also))
            self._on_beat.add(waiting)
            waiting.add_done_callback(self._on_beat.discard)
            return
        if self.midi is not None:
            self.midi.job_changed(event)
        if self.spool is not None:
            self.spool.job_changed(event)
        if event.state is JobState.QUEUED:
            if event.reply is None:  # MIDI and spool jobs: subscribers hear them begin (OSC senders got a reply)
                self._send_all(self.subscribers(), to_osc(Accepted(event.job_id, event.cost_usd)))
            return
        destinations = self._destinations(event)
        if also is not None and also not in destinations:
            destinations.append(also)
        self._send_all(destinations, to_osc(event))
        if event.final:
            self.listeners.pop(event.job_id, None)

    async def _on_boundary(self, event: JobEvent, time: TimeSource, also: Address | None) -> None:
        assert event.quantize is not None
        beat = -1.0
        try:
            beat = await time.boundary(event.quantize)
        finally:  # on the boundary, or at once when the daemon stops first: a take is never left unannounced
            self.job(replace(event, boundary=beat), also=also)

    def release(self) -> None:
        """Announce every take still waiting for its boundary, now (the daemon is stopping)."""
        for waiting in list(self._on_beat):
            waiting.cancel()

    def _destinations(self, event: JobEvent) -> list[Address]:
        seen: list[Address] = []
        for dest in ([event.reply] if event.reply else []) + sorted(self.listeners.get(event.job_id, ())) + \
                self.subscribers():
            if dest not in seen:
                seen.append(dest)
        return seen

    def _send_all(self, destinations: list[Address], message: OscMessage) -> None:
        address, args = message
        for dest in destinations:
            self.send(dest, address, args)
