"""Tempo and phase from an Ableton Link session, through ``aalink`` (asyncio).

Link finds its peers by multicast on every network interface of the machine: the daemon
joins only when asked (``serve --link``, or ``[link] enabled = true``). Tempo, beat and
bar phase follow the session; the bar is ``quantum`` beats long. A boundary is awaited
with ``Link.sync``, which resumes on the event loop when the shared timeline reaches it.
"""

from __future__ import annotations

from typing import Any

from bridge.errors import ConfigError
from bridge.model import Quantize, Value

__all__ = ["LinkTime"]


class LinkTime:
    """The daemon's Link peer. Create it on the running event loop."""

    name = "link"

    def __init__(self, *, quantum: float = 4.0, tempo: float = 120.0) -> None:
        try:
            from aalink import Link
        except ImportError as exc:
            raise ConfigError(f"Ableton Link needs the aalink package ({exc}): pip install 'inpaint-bridge[link]'"
                              ) from exc
        self.quantum = quantum
        self._link: Any = Link(tempo)
        self._link.quantum = quantum
        self._link.enabled = True

    def running(self) -> bool:
        return bool(self._link.enabled)

    @property
    def tempo(self) -> float:
        return float(self._link.tempo)

    @property
    def beat(self) -> float:
        return float(self._link.beat)

    @property
    def peers(self) -> int:
        return int(self._link.num_peers)

    def status(self) -> list[tuple[str, Value]]:
        return [("time", self.name), ("tempo", round(self.tempo, 3)), ("beat", round(self.beat, 3)),
                ("phase", round(float(self._link.phase), 3)), ("quantum", self.quantum), ("peers", self.peers)]

    async def boundary(self, quantize: Quantize) -> float:
        return float(await self._link.sync(quantize.beats(self.quantum)))

    def close(self) -> None:
        self._link.enabled = False
