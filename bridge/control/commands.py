"""Typed commands: what every transport (OSC, MIDI, spool, the Live script) asks the daemon to do.

Each transport parses its input once into one of these frozen values; past the edge no
code sees an OSC tuple or a MIDI byte. ``address`` is the OSC address a command stands
for, which names it in error replies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from bridge.model import Operation, Value

__all__ = ["Arm", "Range", "Cancel", "Command", "Edit", "Learn", "ListJobs", "Live", "Ping", "Prompt", "Regenerate",
           "Set", "Status", "Subscribe", "Take", "UsePreset"]


@dataclass(frozen=True)
class Range:
    source: str
    start: float
    end: float


@dataclass(frozen=True)
class Edit:
    """Inpaint, transform or generate; ``range`` ``None`` takes the armed range and the session."""

    operation: Operation
    range: Range | None = None
    prompt: str = ""
    options: Mapping[str, Value] = field(default_factory=dict)

    @property
    def address(self) -> str:
        return f"/bridge/{self.operation.value}"


@dataclass(frozen=True)
class Regenerate:
    address: ClassVar[str] = "/bridge/regenerate"
    job: str | None = None


@dataclass(frozen=True)
class Cancel:
    address: ClassVar[str] = "/bridge/cancel"
    job: str | None = None


@dataclass(frozen=True)
class Take:
    """Step through the finished variations of the last request."""

    address: ClassVar[str] = "/bridge/take"
    step: int = 1


@dataclass(frozen=True)
class Select:
    """Deliver take ``slot`` (1-based) of the bank: the variations of the last request."""

    address: ClassVar[str] = "/bridge/select"
    slot: int = 1


@dataclass(frozen=True)
class Arm:
    """Set the range the next trigger uses; ``None`` takes the last request's."""

    address: ClassVar[str] = "/bridge/arm"
    range: Range | None = None


@dataclass(frozen=True)
class Prompt:
    address: ClassVar[str] = "/bridge/prompt"
    text: str


@dataclass(frozen=True)
class UsePreset:
    address: ClassVar[str] = "/bridge/preset"
    name: str


@dataclass(frozen=True)
class Set:
    """Set a session option; ``value`` ``None`` clears it."""

    address: ClassVar[str] = "/bridge/set"
    key: str
    value: Value | None = None


@dataclass(frozen=True)
class Status:
    address: ClassVar[str] = "/bridge/status"
    job: str | None = None


@dataclass(frozen=True)
class ListJobs:
    address: ClassVar[str] = "/bridge/jobs"


@dataclass(frozen=True)
class Subscribe:
    """Subscribe (or not) the sender's host at ``port`` (default: the sender's port)."""

    on: bool = True
    port: int | None = None

    @property
    def address(self) -> str:
        return "/bridge/subscribe" if self.on else "/bridge/unsubscribe"


@dataclass(frozen=True)
class Learn:
    address: ClassVar[str] = "/bridge/midi/learn"
    action: str


@dataclass(frozen=True)
class Ping:
    address: ClassVar[str] = "/bridge/ping"
    echo: tuple[object, ...] = ()
    """Whatever the sender sent (up to 8 arguments), sent back."""


@dataclass(frozen=True)
class Live:
    """Ask the Live remote script to capture its range and send it back as an :class:`Edit`."""

    address: ClassVar[str] = "/bridge/live"
    operation: Operation = Operation.INPAINT
    prompt: str | None = None
    options: Mapping[str, Value] = field(default_factory=dict)


Command = (Edit | Regenerate | Cancel | Take | Select | Arm | Prompt | UsePreset | Set | Status | ListJobs | Subscribe
           | Learn | Ping | Live)
