"""Session state for triggers that carry no range or prompt (MIDI pads, hotkeys).

``/bridge/arm`` sets the range, ``/bridge/prompt`` the prompt, ``/bridge/preset`` the
preset and ``/bridge/set`` any request option; a request that leaves one out takes it
from here, and what a request names itself always wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bridge.jobs.options import check_option
from bridge.model import Value

__all__ = ["Armed", "Session"]


@dataclass(frozen=True)
class Armed:
    source: str
    start: float
    end: float


@dataclass
class Session:
    armed: Armed | None = None
    prompt: str = ""
    preset: str | None = None
    options: dict[str, Value] = field(default_factory=dict)

    def set(self, key: str, value: object | None) -> None:
        """Set (or with ``None`` clear) one option, checked like a request's."""
        if value is None:
            self.options.pop(key, None)
        else:
            self.options[key] = check_option(key, value)

    def snapshot(self) -> list[tuple[str, Value]]:
        """Key/value pairs, for ``/bridge/status``."""
        out: list[tuple[str, Value]] = []
        if self.armed is not None:
            out += [("source", self.armed.source), ("start", self.armed.start), ("end", self.armed.end)]
        out += [("prompt", self.prompt), ("preset", self.preset or "")]
        out += sorted(self.options.items())
        return out
