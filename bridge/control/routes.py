"""The control surface's routing: one table of addresses, and the arguments helper.

Each handler module lists its :class:`Route` rows; :class:`Router` joins them into one
exact-match table. A handler is a fast, synchronous callable: it checks its arguments,
acts (queueing a job at most) and returns the replies for the sender. Any
:class:`~bridge.errors.BridgeError` becomes ``/bridge/error <address> <message>``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bridge.errors import AccessDenied, BadArguments, BridgeError, UnknownAddress
from bridge.model import Value

if TYPE_CHECKING:
    from bridge.control.context import Context

__all__ = ["Args", "Reply", "Route", "Router"]

log = logging.getLogger("bridge.control")

PATTERN_CHARS = frozenset("*?[]{}#, ")

Address = tuple[str, int]
Reply = tuple[str, Sequence[object]]


@dataclass(frozen=True)
class Route:
    address: str
    arguments: str
    replies: str
    description: str
    handler: Callable[[Context, Args], list[Reply]] = field(repr=False)


class Args:
    """The arguments of one message, read by position with errors that name the field."""

    def __init__(self, address: str, params: Sequence[object], sender: Address | None) -> None:
        self.address = address
        self.params = list(params)
        self.sender = sender

    def __len__(self) -> int:
        return len(self.params)

    def _at(self, i: int, name: str) -> object:
        if i >= len(self.params):
            raise BadArguments(f"{self.address}: {name} is missing (argument {i + 1})")
        return self.params[i]

    def string(self, i: int, name: str) -> str:
        value = self._at(i, name)
        if not isinstance(value, str):
            raise BadArguments(f"{self.address}: {name} = {value!r}: must be a string")
        return value

    def number(self, i: int, name: str) -> float:
        value = self._at(i, name)
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise BadArguments(f"{self.address}: {name} = {value!r}: must be a finite number")
        return float(value)

    def integer(self, i: int, name: str, low: int, high: int) -> int:
        value = self._at(i, name)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise BadArguments(f"{self.address}: {name} = {value!r}: must be an integer in range {low}..{high}")
        return value

    def optional_string(self, i: int, name: str) -> str | None:
        return self.string(i, name) if i < len(self.params) else None

    def value(self, i: int, name: str) -> Value:
        value = self._at(i, name)
        if not isinstance(value, bool | int | float | str):
            raise BadArguments(f"{self.address}: {name} = {value!r}: must be a number, string or boolean")
        return value

    def pairs(self, start: int) -> dict[str, Value]:
        """``key value`` pairs from ``start`` on."""
        rest = self.params[start:]
        if len(rest) % 2:
            raise BadArguments(f"{self.address}: options must come in key value pairs; {rest[-1]!r} has no value")
        out: dict[str, Value] = {}
        for i in range(start, len(self.params), 2):
            out[self.string(i, "option key")] = self.value(i + 1, str(self.params[i]))
        return out

    def at_most(self, count: int) -> None:
        if len(self.params) > count:
            raise BadArguments(f"{self.address}: takes at most {count} arguments, got {len(self.params)}")


class Router:
    """Exact-match address table over the routes of every handler module."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self.routes: dict[str, Route] = {}
        for route in routes:
            if route.address in self.routes:
                raise ValueError(f"{route.address} registered twice")
            self.routes[route.address] = route

    def dispatch(self, context: Context, address: str, params: Sequence[object],
                 sender: Address | None) -> list[Reply]:
        """The replies to one message; never raises for anything the sender did.

        ``sender`` is the OSC sender's address, or ``None`` for MIDI and spool requests,
        whose jobs are announced to subscribers only.
        """
        try:
            if not address.startswith("/") or PATTERN_CHARS & set(address) or len(address) > 128:
                raise UnknownAddress(f"address {address[:64]!r}: patterns and unusual characters are not accepted")
            route = self.routes.get(address)
            if route is None:
                raise UnknownAddress(f"address {address!r}: unknown; send /bridge/ping, or see the README")
            return route.handler(context, Args(address, params, sender))
        except AccessDenied as exc:
            peer = sender[0] if sender else "midi/spool"
            log.warning("refused %s from %s: %s", address[:128], peer, exc, extra={"event": "access_denied",
                                                                                  "peer": peer})
            return [("/bridge/error", [address[:128], str(exc)])]
        except BridgeError as exc:
            return [("/bridge/error", [address[:128], str(exc)])]
        except Exception as exc:  # a handler bug answers, logs once, and the daemon keeps serving
            log.exception("handler for %s failed", address[:128])
            return [("/bridge/error", [address[:128], f"internal error: {type(exc).__name__}"])]
