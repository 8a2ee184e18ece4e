"""Controller maps: MIDI messages to bridge commands, as data. No MIDI backend is imported here.

A map (``presets/controllers/*.toml``) lists bindings::

    name = "generic"
    [feedback]                 # LED feedback on the output port
    kind = "note"              # note velocity (or "cc" value) per state
    queued = 8
    running = 24
    done = 64
    error = 4
    off = 0

    [[binding]]
    message = "note"           # note | cc | program
    number = 36
    channel = 10               # 1-16; leave out for any channel
    mode = "momentary"         # fires on the rising edge; "toggle" fires every other press
    action = "regenerate"

    [[binding]]
    message = "cc"
    number = 21
    param = "guidance"         # any request option or model parameter
    min = 0.0
    max = 25.0
    curve = "linear"           # linear | exponential
    encoder = "absolute"       # absolute | relative2c (two's complement) | relative64 (64 +/- n)
    step = 0.5                 # per encoder tick

    [[binding]]
    message = "program"
    presets = ["fill-dropout", "room-tone"]   # program 0, 1, ... selects these

Actions: ``regenerate`` (the armed range, the session's prompt and preset), ``variation``
(repeat the last job with the next seed), ``cancel``, ``previous_take``, ``next_take``,
``arm_last`` (arm the range of the last request), ``learn`` (bind the next message to
``learn_action``), ``transform`` / ``generate`` on the armed range, and ``live_inpaint``,
``live_transform``, ``live_generate`` (the Live remote script captures its range and sends it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from bridge.config import read_toml
from bridge.errors import PresetError

__all__ = ["ACTIONS", "Binding", "Command", "ControllerMap", "Feedback", "Mapper", "MidiEvent", "load_map"]

ACTIONS = {
    "regenerate": ("/bridge/inpaint", ()),
    "transform": ("/bridge/transform", ()),
    "generate": ("/bridge/generate", ()),
    "variation": ("/bridge/regenerate", ()),
    "cancel": ("/bridge/cancel", ()),
    "previous_take": ("/bridge/take", (-1,)),
    "next_take": ("/bridge/take", (1,)),
    "arm_last": ("/bridge/arm", ()),
    "learn": ("/bridge/midi/learn", ()),
    "live_inpaint": ("/bridge/live", ("inpaint",)),
    "live_transform": ("/bridge/live", ("transform",)),
    "live_generate": ("/bridge/live", ("generate",)),
}
"""Each action is the OSC message it stands for: MIDI and OSC share one set of handlers."""

JOB_ACTIONS = frozenset({"regenerate", "transform", "generate", "variation"})
MESSAGES = ("note", "cc", "program")


@dataclass(frozen=True)
class MidiEvent:
    """A MIDI channel message, independent of any library: ``kind`` note_on, note_off, cc or program."""

    kind: str
    channel: int  # 1-16
    number: int
    value: int = 0


@dataclass(frozen=True)
class Binding:
    message: str
    number: int | None = None
    channel: int | None = None
    mode: str = "momentary"
    action: str | None = None
    learn_action: str = "regenerate"
    param: str | None = None
    low: float = 0.0
    high: float = 1.0
    curve: str = "linear"
    encoder: str = "absolute"
    step: float = 0.01
    integer: bool = False
    presets: tuple[str, ...] = ()

    def matches(self, event: MidiEvent) -> bool:
        if self.channel is not None and event.channel != self.channel:
            return False
        if self.message == "program":
            return event.kind == "program"
        if self.message == "note":
            return event.kind in ("note_on", "note_off") and event.number == self.number
        return event.kind == "cc" and event.number == self.number


@dataclass(frozen=True)
class Feedback:
    kind: str = "note"
    channel: int | None = None
    states: dict[str, int] = field(default_factory=lambda: {"queued": 8, "running": 24, "done": 64, "error": 4,
                                                            "off": 0})


@dataclass(frozen=True)
class ControllerMap:
    name: str
    bindings: tuple[Binding, ...]
    feedback: Feedback | None = None
    description: str = ""
    source: Path | None = None


@dataclass(frozen=True)
class Command:
    """What a MIDI message asks for: an OSC-equivalent message, and the binding that sent it."""

    address: str
    args: tuple[object, ...]
    binding: Binding


class Mapper:
    """Turns :class:`MidiEvent` values into commands; keeps toggle, encoder and learn state."""

    def __init__(self, controller: ControllerMap) -> None:
        self.map = controller
        self._toggles: dict[Binding, bool] = {}
        self._values: dict[str, float] = {}
        self._held: set[tuple[int, int]] = set()
        self.learning: str | None = None

    def handle(self, event: MidiEvent) -> list[Command]:
        if self.learning is not None and event.kind in ("note_on", "cc", "program") and (
                event.kind != "note_on" or event.value > 0):
            return self._learn(event)
        out = []
        for binding in self.map.bindings:
            if binding.matches(event):
                command = self._apply(binding, event)
                if command is not None:
                    out.append(command)
        return out

    def _apply(self, binding: Binding, event: MidiEvent) -> Command | None:
        if binding.message == "program":
            if not binding.presets:
                return None
            if event.number >= len(binding.presets):
                return None
            return Command("/bridge/preset", (binding.presets[event.number],), binding)
        if binding.param is not None:
            return Command("/bridge/set", (binding.param, self._param_value(binding, event.value)), binding)
        if binding.action is None:
            return None
        pressed = self._edge(binding, event)
        if not pressed:
            return None
        if binding.mode == "toggle":
            on = not self._toggles.get(binding, False)
            self._toggles[binding] = on
            if not on:
                return None
        address, fixed = ACTIONS[binding.action]
        args: tuple[object, ...] = (binding.learn_action,) if binding.action == "learn" else tuple(fixed)
        return Command(address, args, binding)

    def _edge(self, binding: Binding, event: MidiEvent) -> bool:
        """True on the rising edge: note on with velocity, or a CC crossing 64 upwards."""
        key = (event.channel, event.number)
        down = event.value >= (1 if binding.message == "note" else 64) and event.kind != "note_off"
        if down and key not in self._held:
            self._held.add(key)
            return True
        if not down:
            self._held.discard(key)
        return False

    def _param_value(self, binding: Binding, value: int) -> float | int:
        name = binding.param or ""
        if binding.encoder == "absolute":
            x = value / 127.0
        else:
            delta = (value - 128 if value >= 64 else value) if binding.encoder == "relative2c" else value - 64
            span = binding.high - binding.low
            current = self._values.get(name, binding.low)
            x = min(1.0, max(0.0, (current - binding.low) / span + delta * binding.step / span)) if span else 0.0
        if binding.curve == "exponential" and binding.low > 0:
            result = binding.low * math.exp(x * math.log(binding.high / binding.low))
        else:
            result = binding.low + x * (binding.high - binding.low)
        self._values[name] = result
        return round(result) if binding.integer else round(result, 4)

    def learn(self, action: str) -> None:
        if action not in ACTIONS or action == "learn":
            choices = ", ".join(a for a in ACTIONS if a != "learn")
            raise PresetError(f"action = {action!r}: learn binds one of {choices}")
        self.learning = action

    def _learn(self, event: MidiEvent) -> list[Command]:
        action = self.learning
        assert action is not None
        self.learning = None
        message = "note" if event.kind == "note_on" else event.kind
        binding = Binding(message=message, number=None if message == "program" else event.number,
                          channel=event.channel, action=action)
        kept = [b for b in self.map.bindings if not (b.message == message and b.number == binding.number
                                                     and b.channel in (None, event.channel))]
        self.map = replace(self.map, bindings=(*kept, binding))
        return [Command("/bridge/midi/learned", (action, message, event.number, event.channel), binding)]


def load_map(path: Path) -> ControllerMap:
    """Read and check a controller map; errors name the file, the binding and the key."""
    doc = read_toml(path, max_bytes=256 * 1024, error=PresetError)
    bindings = tuple(_binding(path, i, b) for i, b in enumerate(_list(path, doc.get("binding", []))))
    feedback = _feedback(path, doc["feedback"]) if "feedback" in doc else None
    unknown = set(doc) - {"name", "description", "binding", "feedback"}
    if unknown:
        raise PresetError(f"{path}: {sorted(unknown)[0]}: unknown key")
    return ControllerMap(str(doc.get("name", path.stem)), bindings, feedback, str(doc.get("description", "")), path)


def _list(path: Path, value: object) -> list[dict[str, object]]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise PresetError(f"{path}: binding must be an array of tables ([[binding]])")
    return value


def _int(where: str, key: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise PresetError(f"{where} {key} = {value!r}: must be a whole number in range {low}..{high}")
    return value


def _binding(path: Path, index: int, table: dict[str, object]) -> Binding:
    where = f"{path}: binding {index + 1}"
    message = table.get("message")
    if message not in MESSAGES:
        raise PresetError(f"{where} message = {message!r}: must be one of {', '.join(MESSAGES)}")
    values: dict[str, object] = {"message": message}
    for key, value in table.items():
        if key == "message":
            continue
        if key == "number":
            values[key] = _int(where, key, value, 0, 127)
        elif key == "channel":
            values[key] = _int(where, key, value, 1, 16)
        elif key in ("action", "learn_action"):
            if value not in ACTIONS:
                raise PresetError(f"{where} {key} = {value!r}: must be one of {', '.join(ACTIONS)}")
            values[key] = value
        elif key == "mode":
            if value not in ("momentary", "toggle"):
                raise PresetError(f"{where} mode = {value!r}: must be momentary or toggle")
            values[key] = value
        elif key == "param":
            if not isinstance(value, str) or not value.isidentifier():
                raise PresetError(f"{where} param = {value!r}: must be an option or parameter name")
            values[key] = value
        elif key in ("min", "max", "step"):
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise PresetError(f"{where} {key} = {value!r}: must be a number")
            values[{"min": "low", "max": "high"}.get(key, key)] = float(value)
        elif key == "curve":
            if value not in ("linear", "exponential"):
                raise PresetError(f"{where} curve = {value!r}: must be linear or exponential")
            values[key] = value
        elif key == "encoder":
            if value not in ("absolute", "relative2c", "relative64"):
                raise PresetError(f"{where} encoder = {value!r}: must be absolute, relative2c or relative64")
            values[key] = value
        elif key == "integer":
            if not isinstance(value, bool):
                raise PresetError(f"{where} integer = {value!r}: must be true or false")
            values[key] = value
        elif key == "presets":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise PresetError(f"{where} presets = {value!r}: must be a list of preset names")
            values[key] = tuple(value)
        else:
            raise PresetError(f"{where} {key}: unknown key")
    if message != "program" and "number" not in values:
        raise PresetError(f"{where}: a {message} binding needs number")
    if message != "program" and ("action" in values) == ("param" in values):
        raise PresetError(f"{where}: give exactly one of action or param")
    if message == "program" and not values.get("presets"):
        raise PresetError(f"{where}: a program binding needs presets")
    return Binding(**values)  # type: ignore[arg-type]


def _feedback(path: Path, table: object) -> Feedback:
    where = f"{path}: feedback"
    if not isinstance(table, dict):
        raise PresetError(f"{where}: must be a table")
    kind = table.get("kind", "note")
    if kind not in ("note", "cc"):
        raise PresetError(f"{where} kind = {kind!r}: must be note or cc")
    channel = _int(where, "channel", table["channel"], 1, 16) if "channel" in table else None
    states = dict(Feedback().states)
    for key, value in table.items():
        if key in ("kind", "channel"):
            continue
        if key not in states:
            raise PresetError(f"{where} {key}: unknown key (states: {', '.join(states)})")
        states[key] = _int(where, key, value, 0, 127)
    return Feedback(str(kind), channel, states)


def shipped_maps() -> Sequence[Path]:
    from bridge.jobs.presets import shipped_folder

    folder = shipped_folder() / "controllers"
    return sorted(folder.glob("*.toml")) if folder.is_dir() else []
