"""Musical time for quantized delivery: the ``quantize`` value, and the sources of tempo and phase.

A finished take can be announced on the next beat, bar or N-bar boundary instead of at once,
so a DAW swaps it in on the grid. The grid comes from a :class:`TimeSource`: an Ableton Link
session (:mod:`bridge.control.link`) or the MIDI clock a DAW sends (:mod:`bridge.control.midi`).
The ``quantize`` value itself is :class:`bridge.model.Quantize`.
"""

from __future__ import annotations

from typing import Protocol

from bridge.model import Quantize, Value

__all__ = ["TimeSource"]

class TimeSource(Protocol):
    """Where the beat comes from."""

    name: str
    """``link`` or ``midi_clock``."""

    def running(self) -> bool:
        """Whether there is a beat to follow now (a Link session is always running; MIDI clock while it ticks)."""
        ...

    def status(self) -> list[tuple[str, Value]]:
        """Key/value pairs for ``/bridge/status``: the source, tempo, beat, phase."""
        ...

    async def boundary(self, quantize: Quantize) -> float:
        """Wait for the next boundary; returns its beat on the source's timeline."""
        ...
