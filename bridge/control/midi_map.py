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
``live_transform``, ``live_generate`` (the Live remote script captures its range and sends it),
and ``take_1`` ... ``take_16``: deliver that take of the bank (the last request's variations;
its LED shows the slot: running while it generates, done when ready, ``selected``, error).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from bridge import checks
from bridge.config import read_toml
from bridge.control.commands import Arm, Cancel, Command, Edit, Learn, Live, Regenerate, Select, Set, Take, UsePreset
from bridge.errors import BadValue, PresetError
from bridge.jobs.options import MAX_VARIATIONS
from bridge.model import Operation

__all__ = ["ACTIONS", "Binding", "ControllerMap", "Feedback", "Learned", "Mapper", "MidiEvent", "Pressed",
           "find_controller_map", "load_map", "take_slot"]

ACTIONS: dict[str, Command] = {
    "regenerate": Edit(Operation.INPAINT),
    "transform": Edit(Operation.TRANSFORM),
    "generate": Edit(Operation.GENERATE),
    "variation": Regenerate(),
    "cancel": Cancel(),
    "previous_take": Take(-1),
    "next_take": Take(1),
    "arm_last": Arm(),
    "learn": Learn("regenerate"),
    "live_inpaint": Live(Operation.INPAINT),
    "live_transform": Live(Operation.TRANSFORM),
    "live_generate": Live(Operation.GENERATE),
    **{f"take_{k}": Select(k) for k in range(1, MAX_VARIATIONS + 1)},
}
"""Each action is the command it stands for: MIDI and OSC share one set of handlers."""

MESSAGES = ("note", "cc", "program")


def take_slot(action: str | None) -> int | None:
    """The bank slot a ``take_k`` action selects, or ``None`` for any other action."""
    if action is None or not action.startswith("take_"):
        return None
    command = ACTIONS.get(action)
    return command.slot if isinstance(command, Select) else None
_CHOICES = {"mode": ("momentary", "toggle"), "curve": ("linear", "exponential"),
            "encoder": ("absolute", "relative2c", "relative64")}


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
                                                            "selected": 127, "off": 0})


@dataclass(frozen=True)
class ControllerMap:
    name: str
    bindings: tuple[Binding, ...]
    feedback: Feedback | None = None
    description: str = ""
    source: Path | None = None


@dataclass(frozen=True)
class Pressed:
    """What a MIDI message asks for: a command, and the binding that sent it (for its LED)."""

    command: Command
    binding: Binding


@dataclass(frozen=True)
class Learned:
    """Learn mode bound the message to ``binding``."""

    binding: Binding


class Mapper:
    """Turns :class:`MidiEvent` values into commands; keeps toggle, encoder and learn state."""

    def __init__(self, controller: ControllerMap) -> None:
        self.map = controller
        self._toggles: dict[Binding, bool] = {}
        self._values: dict[str, float] = {}
        self._held: set[tuple[int, int]] = set()
        self.learning: str | None = None

    def handle(self, event: MidiEvent) -> list[Pressed | Learned]:
        if self.learning is not None and event.kind in ("note_on", "cc", "program") and (
                event.kind != "note_on" or event.value > 0):
            return self._learn(event)
        out: list[Pressed | Learned] = []
        for binding in self.map.bindings:
            if binding.matches(event):
                command = self._apply(binding, event)
                if command is not None:
                    out.append(command)
        return out

    def _apply(self, binding: Binding, event: MidiEvent) -> Pressed | None:
        if binding.message == "program":
            if not binding.presets:
                return None
            if event.number >= len(binding.presets):
                return None
            return Pressed(UsePreset(binding.presets[event.number]), binding)
        if binding.param is not None:
            return Pressed(Set(binding.param, self._param_value(binding, event.value)), binding)
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
        command = Learn(binding.learn_action) if binding.action == "learn" else ACTIONS[binding.action]
        return Pressed(command, binding)

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

    def _learn(self, event: MidiEvent) -> list[Pressed | Learned]:
        action = self.learning
        assert action is not None
        self.learning = None
        message = "note" if event.kind == "note_on" else event.kind
        binding = Binding(message=message, number=None if message == "program" else event.number,
                          channel=event.channel, action=action)
        kept = [b for b in self.map.bindings if not (b.message == message and b.number == binding.number
                                                     and b.channel in (None, event.channel))]
        self.map = replace(self.map, bindings=(*kept, binding))
        return [Learned(binding)]


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


def _binding(path: Path, index: int, table: dict[str, object]) -> Binding:
    with checks.where(f"{path}: binding {index + 1} ", PresetError):
        return _read_binding(table)


def _read_binding(table: dict[str, object]) -> Binding:
    message = checks.choice("message", table.get("message"), MESSAGES)
    values: dict[str, object] = {"message": message}
    for key, value in table.items():
        if key in ("message",):
            continue
        if key == "number":
            values[key] = checks.integer(key, value, 0, 127)
        elif key == "channel":
            values[key] = checks.integer(key, value, 1, 16)
        elif key in ("action", "learn_action"):
            values[key] = checks.choice(key, value, ACTIONS)
        elif key in _CHOICES:
            values[key] = checks.choice(key, value, _CHOICES[key])
        elif key == "param":
            values[key] = checks.name(key, value)
        elif key in ("min", "max", "step"):
            values[{"min": "low", "max": "high"}.get(key, key)] = checks.number(key, value)
        elif key == "integer":
            values[key] = checks.boolean(key, value)
        elif key == "presets":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise BadValue(key, value, "must be a list of preset names")
            values[key] = tuple(value)
        else:
            raise BadValue(key, value, "unknown key")
    if message != "program" and "number" not in values:
        raise BadValue("number", None, f"a {message} binding needs one")
    if message != "program" and ("action" in values) == ("param" in values):
        raise BadValue("action", values.get("action"), "give exactly one of action or param")
    if message == "program" and not values.get("presets"):
        raise BadValue("presets", None, "a program binding needs presets")
    return Binding(**values)  # type: ignore[arg-type]


def _feedback(path: Path, table: object) -> Feedback:
    with checks.where(f"{path}: feedback ", PresetError):
        if not isinstance(table, dict):
            raise BadValue("feedback", table, "must be a table")
        kind = checks.choice("kind", table.get("kind", "note"), ("note", "cc"))
        channel = checks.integer("channel", table["channel"], 1, 16) if "channel" in table else None
        states = dict(Feedback().states)
        for key, value in table.items():
            if key in ("kind", "channel"):
                continue
            if key not in states:
                raise BadValue(key, value, f"unknown key (states: {', '.join(states)})")
            states[key] = checks.integer(key, value, 0, 127)
    return Feedback(kind, channel, states)


def shipped_maps() -> Sequence[Path]:
    from bridge.jobs.presets import shipped_folder

    folder = shipped_folder() / "controllers"
    return sorted(folder.glob("*.toml")) if folder.is_dir() else []


def find_controller_map(name: str, config_dir: Path) -> tuple[ControllerMap, Path]:
    """A controller map by name (the user's ``controllers/`` first) or path, and where learn saves it."""
    from bridge.jobs.presets import shipped_folder

    user = config_dir / "controllers"
    candidates = [Path(name)] if name.endswith(".toml") else [user / f"{name}.toml",
                                                              shipped_folder() / "controllers" / f"{name}.toml"]
    for path in candidates:
        if path.is_file():
            controller = load_map(path)
            return controller, path if path.parent == user or name.endswith(".toml") else user / path.name
    known = sorted({p.stem for folder in (user, shipped_folder() / "controllers") if folder.is_dir()
                    for p in folder.glob("*.toml")})
    raise BadValue("--midi-map", name, f"no such controller map; known: {', '.join(known) or 'none'}")
