"""The MIDI shell: ports through python-rtmidi, messages parsed by mido, commands through the router.

Opening ports is the only place a MIDI backend is imported. The API is tried in the order
ALSA, JACK, CoreMIDI, Windows MM (or the one ``--midi-api`` names); with no MIDI system
the daemon runs without MIDI and says so once. Input arrives on rtmidi's thread and is
handed to the event loop; LED feedback is sent from the loop.

Clock: MIDI clock (24 per quarter note), start, continue, stop and song position are
followed (:class:`MidiClock`); with ``quantize`` (``/bridge/set quantize bar``) a finished
job is announced on the next boundary while the clock runs, when Link does not give the beat.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mido

from bridge.control.commands import Command
from bridge.control.midi_map import Binding, ControllerMap, Feedback, Learned, Mapper, MidiEvent, take_slot
from bridge.control.notify import led_state
from bridge.control.replies import Accepted, Refused, Reply
from bridge.errors import MidiUnavailable
from bridge.jobs.events import JobEvent
from bridge.model import Quantize, Value

__all__ = ["API_ORDER", "MidiClock", "MidiControl", "event_from_bytes", "open_ports", "save_map"]

log = logging.getLogger("bridge.midi")

API_ORDER = ("alsa", "jack", "coremidi", "winmm")
PORT_NAME = "Inpaint Bridge"
TICKS_PER_BEAT = 24


def event_from_bytes(data: list[int]) -> MidiEvent | None:
    """A channel message as :class:`MidiEvent` (``None`` for anything else, or malformed bytes)."""
    try:
        msg = mido.Message.from_bytes(data)
    except (ValueError, TypeError, IndexError):
        return None
    if msg.type == "note_on":
        return MidiEvent("note_on" if msg.velocity else "note_off", msg.channel + 1, msg.note, msg.velocity)
    if msg.type == "note_off":
        return MidiEvent("note_off", msg.channel + 1, msg.note, msg.velocity)
    if msg.type == "control_change":
        return MidiEvent("cc", msg.channel + 1, msg.control, msg.value)
    if msg.type == "program_change":
        return MidiEvent("program", msg.channel + 1, msg.program)
    return None


@dataclass
class MidiClock:
    """Song position from MIDI clock: ticks since the song's start, and the tick period; a time source
    (:class:`~bridge.control.tempo.TimeSource`) while the clock runs. A boundary is awaited on the tick
    that reaches it, not on an estimate of when that will be."""

    name = "midi_clock"
    quantum: float = 4.0
    """Beats per bar (MIDI clock does not say)."""
    playing: bool = False
    ticks: int = 0
    period_s: float | None = None
    _last: float | None = None
    _waiting: list[tuple[int, asyncio.Future[float]]] = field(default_factory=list)

    def feed(self, status: int, data: list[int], now: float) -> None:
        if status == 0xF8:
            if self._last is not None:
                gap = now - self._last
                if 0 < gap < 0.25:
                    self.period_s = gap if self.period_s is None else 0.9 * self.period_s + 0.1 * gap
            self._last = now
            if self.playing:
                self.ticks += 1
                self._wake(lambda target: target <= self.ticks)
        elif status == 0xFA:
            self.playing, self.ticks = True, 0
            self._wake(lambda target: True)  # the song starts over: whatever waited is delivered now
        elif status == 0xFB:
            self.playing = True
        elif status == 0xFC:
            self.playing = False
            self._wake(lambda target: True)  # stopped: no boundary is coming
        elif status == 0xF2 and len(data) >= 3:
            self.ticks = (data[1] | (data[2] << 7)) * 6
            self._wake(lambda target: True)  # the song moved: the boundary waited for is gone

    def _wake(self, due: Callable[[int], bool]) -> None:
        keep = []
        for target, future in self._waiting:
            if not due(target):
                keep.append((target, future))
            elif not future.done():
                future.set_result(target / TICKS_PER_BEAT if target <= self.ticks else -1.0)
        self._waiting = keep

    def running(self) -> bool:
        return self.playing and self.period_s is not None

    @property
    def beat(self) -> float:
        return self.ticks / TICKS_PER_BEAT

    def until(self, quantize: Quantize) -> tuple[float, float] | None:
        """Seconds to the next boundary and its beat, or ``None`` when the clock is not running."""
        if not self.running() or self.period_s is None:
            return None
        spacing = round(quantize.beats(self.quantum) * TICKS_PER_BEAT)
        remaining = spacing - self.ticks % spacing
        return remaining * self.period_s, (self.ticks + remaining) / TICKS_PER_BEAT

    def status(self) -> list[tuple[str, Value]]:
        tempo = 60.0 / (self.period_s * TICKS_PER_BEAT) if self.period_s else 0.0
        phase = self.beat % self.quantum
        return [("time", self.name), ("tempo", round(tempo, 3)), ("beat", round(self.beat, 3)),
                ("phase", round(phase, 3)), ("quantum", self.quantum), ("playing", self.playing)]

    async def boundary(self, quantize: Quantize) -> float:
        """On the tick that reaches the next boundary (feed runs on the event loop); -1 when the clock
        stops, starts over or jumps first."""
        wait = self.until(quantize)
        if wait is None:
            return -1.0
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiting.append((round(wait[1] * TICKS_PER_BEAT), future))
        try:
            return await future
        finally:
            self._waiting = [(t, f) for t, f in self._waiting if f is not future]


@dataclass
class Ports:
    midi_in: Any
    midi_out: Any | None
    api: str
    names: tuple[str, str | None]

    def send(self, message: list[int]) -> None:
        if self.midi_out is not None:
            self.midi_out.send_message(message)

    def close(self) -> None:
        for port in (self.midi_in, self.midi_out):
            if port is not None:
                port.close_port()
                del port


def open_ports(*, api: str | None, in_name: str | None, out_name: str | None, want_output: bool,
               callback: Callable[[list[int]], None]) -> Ports:
    """Open the input (a named port, or our virtual port) and, when wanted, the LED output."""
    try:
        import rtmidi
    except ImportError as exc:
        raise MidiUnavailable(f"python-rtmidi cannot load ({exc}); on Linux install libasound2") from exc
    codes = {"alsa": rtmidi.API_LINUX_ALSA, "jack": rtmidi.API_UNIX_JACK, "coremidi": rtmidi.API_MACOSX_CORE,
             "winmm": rtmidi.API_WINDOWS_MM}
    compiled = set(rtmidi.get_compiled_api())
    order = [api] if api else [a for a in API_ORDER if codes[a] in compiled]
    reasons = []
    for name in order:
        if name not in codes:
            raise MidiUnavailable(f"--midi-api {name!r}: use one of {', '.join(API_ORDER)}")
        try:
            return _open(rtmidi, codes[name], name, in_name, out_name, want_output, callback)
        except (SystemError, RuntimeError, OSError, rtmidi.RtMidiError) as exc:
            reasons.append(f"{name}: {str(exc).strip() or type(exc).__name__}")
    raise MidiUnavailable("; ".join(reasons) or "no MIDI API compiled into python-rtmidi")


def _open(rtmidi: Any, code: int, api: str, in_name: str | None, out_name: str | None, want_output: bool,
          callback: Callable[[list[int]], None]) -> Ports:
    midi_in = rtmidi.MidiIn(code, PORT_NAME)
    midi_in.ignore_types(sysex=True, timing=False, active_sense=True)
    if in_name:
        midi_in.open_port(_find(midi_in, in_name))
    else:
        midi_in.open_virtual_port(PORT_NAME)
    midi_in.set_callback(lambda event, _data: callback(list(event[0])))
    midi_out = None
    if want_output or out_name:
        midi_out = rtmidi.MidiOut(code, PORT_NAME)
        if out_name:
            midi_out.open_port(_find(midi_out, out_name))
        else:
            midi_out.open_virtual_port(f"{PORT_NAME} LEDs")
    led_name = out_name or (f"{PORT_NAME} LEDs" if midi_out else None)
    return Ports(midi_in, midi_out, api, (in_name or PORT_NAME, led_name))


def _find(port: Any, name: str) -> int:
    names = port.get_ports()
    for i, candidate in enumerate(names):
        if name == candidate or name in candidate:
            return i
    raise OSError(f"no MIDI port named {name!r}; there are: {', '.join(names) or 'none'}")


Dispatch = Callable[[Command], list[Reply]]


@dataclass
class MidiControl:
    """Runs MIDI input through the map to the handlers, and shows each pad's job on its LED."""

    mapper: Mapper
    dispatch: Dispatch
    ports: Ports | None = None
    clock: MidiClock = field(default_factory=MidiClock)
    save_to: Path | None = None
    pads: dict[str, Binding] = field(default_factory=dict)
    """Which binding started each job, for its LED."""
    bank: Callable[[], tuple[list[JobEvent], str | None]] = lambda: ([], None)
    """The bank (the last request's jobs) and the job selected from it, for the take pads' LEDs."""
    _loop: asyncio.AbstractEventLoop | None = None

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def on_bytes(self, data: list[int]) -> None:
        """Called on rtmidi's thread: hand over to the event loop."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self.handle_bytes, data)

    def handle_bytes(self, data: list[int]) -> None:
        if not data:
            return
        if data[0] >= 0xF0:
            self.clock.feed(data[0], data, time.monotonic())
            return
        event = event_from_bytes(data)
        if event is not None:
            self.handle(event)

    def handle(self, event: MidiEvent) -> None:
        for pressed in self.mapper.handle(event):
            if isinstance(pressed, Learned):
                b = pressed.binding
                log.info("learned: %s %s on channel %s -> %s", b.message, b.number, b.channel, b.action,
                         extra={"event": "midi_learned"})
                if self.save_to is not None:
                    save_map(self.mapper.map, self.save_to)
                continue
            for reply in self.dispatch(pressed.command):
                if isinstance(reply, Accepted):
                    self.pads[reply.job_id] = pressed.binding
                    self.led(pressed.binding, "queued")
                elif isinstance(reply, Refused):
                    log.warning("MIDI %s: %s", reply.address, reply.message, extra={"event": "midi_error"})
                    self.led(pressed.binding, "error")

    def job_changed(self, event: JobEvent) -> None:
        binding = self.pads.get(event.job_id)
        if binding is not None:
            self.led(binding, led_state(event.state))
            if event.final:
                self.pads.pop(event.job_id, None)
        jobs, _ = self.bank()
        if any(job.job_id == event.job_id for job in jobs):
            self.show_bank()

    def show_bank(self) -> None:
        """Each take pad (action ``take_k``) shows slot k of the bank: generating, ready, selected, failed or off."""
        jobs, selected = self.bank()
        for binding in self.mapper.map.bindings:
            slot = take_slot(binding.action)
            if slot is None:
                continue
            job = jobs[slot - 1] if slot <= len(jobs) else None
            state = "off" if job is None else "selected" if job.job_id == selected else led_state(job.state)
            self.led(binding, state)

    def led(self, binding: Binding, state: str) -> None:
        feedback: Feedback | None = self.mapper.map.feedback
        if self.ports is None or feedback is None or binding.number is None:
            return
        channel = (feedback.channel or binding.channel or 1) - 1
        value = feedback.states.get(state, 0)
        status = (0x90 if feedback.kind == "note" else 0xB0) | channel
        try:
            self.ports.send([status, binding.number, value])
        except (OSError, RuntimeError, SystemError) as exc:
            log.warning("LED feedback failed: %s", exc)

    def learn(self, action: str) -> None:
        self.mapper.learn(action)

    def close(self) -> None:
        if self.ports is not None:
            self.ports.close()
            self.ports = None


def save_map(controller: ControllerMap, path: Path) -> None:
    """Write a controller map back as TOML (after learn), atomically."""
    from bridge.files import write_text

    lines = [f"name = {_toml(controller.name)}", f"description = {_toml(controller.description)}", ""]
    if controller.feedback is not None:
        fb = controller.feedback
        lines += ["[feedback]", f"kind = {_toml(fb.kind)}"]
        if fb.channel is not None:
            lines.append(f"channel = {fb.channel}")
        lines += [f"{k} = {v}" for k, v in fb.states.items()] + [""]
    defaults = Binding(message="note")
    renames = {"low": "min", "high": "max"}
    for b in controller.bindings:
        lines.append("[[binding]]")
        for key in ("message", "number", "channel", "mode", "action", "learn_action", "param", "low", "high",
                    "curve", "encoder", "step", "integer", "presets"):
            value = getattr(b, key)
            if key != "message" and (value is None or value == getattr(defaults, key)):
                continue
            lines.append(f"{renames.get(key, key)} = {_toml(value)}")
        lines.append("")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, "\n".join(lines))


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'
