"""The OSC edge: one table of addresses, each parsed once into a typed command.

OSC messages, spool requests (which carry OSC's address and arguments) and the Live
script's requests all go through :func:`parse`; nothing past it sees an argument list.
The README's address table is generated from :data:`ROUTES`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bridge import checks
from bridge.control.commands import (
    Arm,
    Cancel,
    Command,
    Edit,
    Learn,
    ListJobs,
    Live,
    Ping,
    Prompt,
    Range,
    Regenerate,
    Select,
    Set,
    Status,
    Subscribe,
    Take,
    UsePreset,
)
from bridge.errors import BadArguments, BadValue, UnknownAddress
from bridge.jobs.options import MAX_VARIATIONS
from bridge.model import Operation, Value

__all__ = ["MAX_LISTED", "ROUTES", "Args", "Route", "address_table", "parse"]

PATTERN_CHARS = frozenset("*?[]{}#, ")
MAX_LISTED = 50
OPERATIONS = tuple(op.value for op in Operation)


class Args:
    """The arguments of one message, read by position; errors name the address and the field."""

    def __init__(self, address: str, params: Sequence[object]) -> None:
        self.address = address
        self.params = list(params)

    def __len__(self) -> int:
        return len(self.params)

    def _at(self, i: int, name: str) -> object:
        if i >= len(self.params):
            raise BadArguments(f"{self.address}: {name} is missing (argument {i + 1})")
        return self.params[i]

    def _checked(self, check: Callable[[], Value]) -> Value:
        try:
            return check()
        except BadValue as exc:
            raise BadArguments(f"{self.address}: {exc}") from None

    def string(self, i: int, name: str) -> str:
        value = self._at(i, name)
        return str(self._checked(lambda: checks.text(name, value, empty_ok=True)))

    def number(self, i: int, name: str) -> float:
        value = self._at(i, name)
        return float(self._checked(lambda: checks.number(name, value)))

    def integer(self, i: int, name: str, low: int, high: int) -> int:
        value = self._at(i, name)
        return int(self._checked(lambda: checks.integer(name, value, low, high)))

    def optional_string(self, i: int, name: str) -> str | None:
        return self.string(i, name) if i < len(self.params) else None

    def value(self, i: int, name: str) -> Value:
        value = self._at(i, name)
        return self._checked(lambda: checks.scalar(name, value))

    def choice(self, i: int, name: str, choices: Sequence[str]) -> str:
        value = self._at(i, name)
        return str(self._checked(lambda: checks.choice(name, value, choices)))

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

    def range(self) -> Range:
        return Range(self.string(0, "source"), self.number(1, "start"), self.number(2, "end"))


@dataclass(frozen=True)
class Route:
    address: str
    arguments: str
    replies: str
    description: str
    parse: Callable[[Args], Command] = field(repr=False)


def _edit(operation: Operation) -> Route:
    def parse_edit(args: Args) -> Command:
        if len(args) == 0:
            return Edit(operation)
        return Edit(operation, args.range(), args.optional_string(3, "prompt") or "", args.pairs(4))

    description = {
        Operation.INPAINT: "regenerate the range from its surroundings (and the prompt)",
        Operation.TRANSFORM: "re-render the range towards the prompt (audio-to-audio)",
        Operation.GENERATE: "lay a generated clip into the range (text-to-audio)",
    }[operation]
    return Route(f"/bridge/{operation.value}", "s:source f:start f:end [s:prompt] [s:key value ...], or none (armed)",
                 "/bridge/accepted s:job f:estimated_cost_usd per job (0 on local, -1 when the service publishes no"
                 " price), then /bridge/progress, /bridge/done or /bridge/error",
                 description + "; with no arguments uses the armed range and the session", parse_edit)


def _one_job(kind: Callable[[str | None], Command]) -> Callable[[Args], Command]:
    def parse_job(args: Args) -> Command:
        args.at_most(1)
        return kind(args.optional_string(0, "job"))

    return parse_job


def _take(args: Args) -> Command:
    args.at_most(1)
    return Take(args.integer(0, "step", -16, 16) if len(args) else 1)


def _select(args: Args) -> Command:
    args.at_most(1)
    return Select(args.integer(0, "slot", 1, MAX_VARIATIONS))


def _arm(args: Args) -> Command:
    args.at_most(3)
    return Arm(args.range() if len(args) else None)


def _prompt(args: Args) -> Command:
    args.at_most(1)
    return Prompt(args.string(0, "text"))


def _preset(args: Args) -> Command:
    args.at_most(1)
    return UsePreset(args.string(0, "name"))


def _set(args: Args) -> Command:
    args.at_most(2)
    key = args.string(0, "key")
    return Set(key, args.value(1, key) if len(args) > 1 else None)


def _jobs(args: Args) -> Command:
    args.at_most(0)
    return ListJobs()


def _subscription(on: bool) -> Callable[[Args], Command]:
    def parse_subscription(args: Args) -> Command:
        args.at_most(1)
        return Subscribe(on, args.integer(0, "port", 1, 65535) if len(args) else None)

    return parse_subscription


def _learn(args: Args) -> Command:
    args.at_most(1)
    return Learn(args.string(0, "action"))


def _ping(args: Args) -> Command:
    return Ping(tuple(args.params[:8]))


def _live(args: Args) -> Command:
    operation = args.choice(0, "operation", OPERATIONS) if len(args) else Operation.INPAINT.value
    return Live(Operation(operation), args.optional_string(1, "prompt"), args.pairs(2))


ROUTES: tuple[Route, ...] = (
    _edit(Operation.INPAINT),
    _edit(Operation.TRANSFORM),
    _edit(Operation.GENERATE),
    Route("/bridge/regenerate", "[s:job]", "/bridge/accepted, then as for /bridge/inpaint",
          "repeat a job (default: the last) with the next seed", _one_job(Regenerate)),
    Route("/bridge/cancel", "[s:job]", "/bridge/progress job cancelling, then job cancelled",
          "cancel a job (default: every job of the last request), at the service too", _one_job(Cancel)),
    Route("/bridge/take", "[i:step]", "/bridge/done of that take, also to subscribers",
          "step through the finished variations of the last request (1 next, -1 previous)", _take),
    Route("/bridge/select", "i:slot", "/bridge/done of that take (on the next boundary when quantized), also to"
          " subscribers", "deliver take slot (1-based) of the bank: the last request's variations; with keep_ahead"
          " set, played slots are regenerated so that many fresh ones wait", _select),
    Route("/bridge/arm", "[s:source f:start f:end]", "/bridge/status",
          "set the range the next trigger uses (no arguments: the last request's)", _arm),
    Route("/bridge/prompt", "s:text", "/bridge/status", "set the prompt the next trigger uses", _prompt),
    Route("/bridge/preset", "s:name", "/bridge/status", "set the preset the next trigger uses ('' clears)",
          _preset),
    Route("/bridge/set", "s:key [value]", "/bridge/status",
          "set a request option for the next triggers (engine, seed, steps, variations ...); no value clears",
          _set),
    Route("/bridge/status", "[s:job]", "/bridge/status key value ... (session and daemon), or the job's state",
          "show the session, or one job", _one_job(Status)),
    Route("/bridge/live", "[s:operation] [s:prompt] [s:key value ...]", "/bridge/status live operation sent",
          "ask the Live remote script to capture its range and send it (operation: inpaint, transform, generate)",
          _live),
    Route("/bridge/jobs", "", "/bridge/job s:job s:state f:fraction s:engine s:prompt i:seed s:take_path per job"
          f" (newest {MAX_LISTED}), then /bridge/jobs i:count", "list recent jobs", _jobs),
    Route("/bridge/subscribe", "[i:port]", "/bridge/status subscribed port",
          "send every job's progress, done and error to this host (at port, default the sender's)",
          _subscription(True)),
    Route("/bridge/unsubscribe", "[i:port]", "/bridge/status unsubscribed port", "stop those messages",
          _subscription(False)),
    Route("/bridge/midi/learn", "s:action", "/bridge/status learning action",
          "bind the next MIDI message to an action (regenerate, variation, cancel, ...) and save the map", _learn),
    Route("/bridge/ping", "[any ...]", "/bridge/pong s:version [the same arguments]", "health check", _ping),
)
_BY_ADDRESS = {route.address: route for route in ROUTES}
assert len(_BY_ADDRESS) == len(ROUTES), "an address is registered twice"


def parse(address: str, params: Sequence[object]) -> Command:
    """The command one message stands for; :class:`~bridge.errors.ControlError` when it stands for none."""
    if not address.startswith("/") or PATTERN_CHARS & set(address) or len(address) > 128:
        raise UnknownAddress(f"address {address[:64]!r}: patterns and unusual characters are not accepted")
    route = _BY_ADDRESS.get(address)
    if route is None:
        raise UnknownAddress(f"address {address!r}: unknown; send /bridge/ping, or see the README")
    return route.parse(Args(address, params))


def address_table() -> str:
    """The OSC address table in Markdown, as the README carries it."""
    rows = ["| Address | Arguments | Replies | Description |", "|---|---|---|---|"]
    for route in ROUTES:
        rows.append(f"| `{route.address}` | {route.arguments or '-'} | {route.replies} | {route.description} |")
    return "\n".join(rows)
