"""What each command does: fast, synchronous, a typed command in and typed replies out.

A handler checks what it needs, acts (queueing a job at most) and returns the replies
for whoever sent the command. :func:`dispatch` turns every
:class:`~bridge.errors.BridgeError` into a :class:`~bridge.control.replies.Refused`, so a
transport never sees an exception for anything a sender did.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

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
    Regenerate,
    Select,
    Set,
    Status,
    Subscribe,
    Take,
    UsePreset,
)
from bridge.control.compose import compose
from bridge.control.context import Address, Context
from bridge.control.osc import LogLimit
from bridge.control.replies import Accepted, Cancelling, JobListed, JobsListed, Pong, Refused, Reply, Report
from bridge.control.routes import MAX_LISTED, parse
from bridge.control.session import Armed
from bridge.engines.models import MODELS, check_parameter
from bridge.errors import AccessDenied, BadArguments, BadValue, BridgeError, JobError
from bridge.jobs.events import JobEvent, JobState
from bridge.jobs.options import OPTIONS, check_option
from bridge.jobs.presets import find_preset
from bridge.model import Value, check_range, parse_quantize

__all__ = ["dispatch", "handle_message"]

log = logging.getLogger("bridge.control")
_ACCESS_LOG = LogLimit()


def dispatch(ctx: Context, command: Command, sender: Address | None) -> list[Reply]:
    """The replies to one command; never raises for anything the sender did.

    ``sender`` is the OSC sender's address, or ``None`` for MIDI and spool commands,
    whose jobs are announced to subscribers only.
    """
    if ctx.notice is not None:
        notice, ctx.notice = ctx.notice, None
        return [Report((("notice", notice),)), *dispatch(ctx, command, sender)]
    try:
        return _HANDLERS[type(command)](ctx, command, sender)
    except AccessDenied as exc:
        peer = sender[0] if sender else "midi/spool"
        if _ACCESS_LOG.allow():
            log.warning("refused %s from %s: %s", command.address, peer, exc,
                        extra={"event": "access_denied", "peer": peer})
        return [Refused(command.address, str(exc))]
    except BridgeError as exc:
        return [Refused(command.address, str(exc))]
    except Exception as exc:  # a handler bug answers, logs once, and the daemon keeps serving
        log.exception("handler for %s failed", command.address)
        return [Refused(command.address, f"internal error: {type(exc).__name__}")]


def handle_message(ctx: Context, address: str, params: Sequence[object], sender: Address | None) -> list[Reply]:
    """The replies to one OSC-shaped message (an OSC datagram's message, a spool request)."""
    try:
        command = parse(address, params)
    except BridgeError as exc:
        return [Refused(address, str(exc))]
    return dispatch(ctx, command, sender)


def _edit(ctx: Context, command: Edit, sender: Address | None) -> list[Reply]:
    session = ctx.session
    if command.range is None:
        if session.armed is None:
            raise BadArguments(f"{command.address}: no source and range given, and none armed (/bridge/arm)")
        source, start, end = session.armed.source, session.armed.start, session.armed.end
    else:
        source, start, end = command.range.source, command.range.start, command.range.end
    composed = compose(command.operation, source=ctx.roots.source(source), start=start, end=end,
                       prompt=command.prompt, given=command.options, settings=ctx.settings, presets=ctx.presets,
                       session=session)
    request = replace(composed.request, folder=ctx.roots.folder(composed.project))
    if composed.quantize is not None:
        _require_beat(ctx, composed.quantize.text, running=True)
    reply = sender
    if reply is not None and composed.reply_port:
        reply = (reply[0], composed.reply_port)
    jobs = ctx.runner.accept(request, variations=composed.variations, keep=composed.keep, reply=reply,
                             quantize=composed.quantize, hold=composed.hold)
    return [Accepted(job.id, job.cost_usd) for job in jobs]


def _regenerate(ctx: Context, command: Regenerate, sender: Address | None) -> list[Reply]:
    return [Accepted(job.id, job.cost_usd) for job in ctx.runner.regenerate(command.job, sender)]


def _cancel(ctx: Context, command: Cancel, sender: Address | None) -> list[Reply]:
    jobs = ctx.runner.cancel(command.job)
    if not jobs:
        raise BadArguments(f"{command.address}: no active job to cancel")
    if sender is not None:
        for job in jobs:
            ctx.listen(job.id, sender)
    return [Cancelling(job.id, job.fraction) for job in jobs]


def _take(ctx: Context, command: Take, sender: Address | None) -> list[Reply]:
    done = [job for job in ctx.runner.last_group if job.take is not None]
    if not done:
        raise BadArguments(f"{command.address}: the last request has no finished take yet")
    ctx.take_index = (ctx.take_index + command.step) % len(done)
    ctx.announce(done[ctx.take_index].event(), also=sender)  # once to each, the sender included
    return []


def _select(ctx: Context, command: Select, sender: Address | None) -> list[Reply]:
    bank = ctx.runner.last_group
    if not bank:
        raise BadArguments(f"{command.address}: no bank yet: send a request (with variations N) first")
    if command.slot > len(bank):
        raise BadArguments(f"{command.address}: slot = {command.slot}: the bank holds {len(bank)} takes")
    job = bank[command.slot - 1]
    if job.take is None:
        raise BadArguments(f"{command.address}: slot {command.slot} is {job.state.value}, not ready")
    ctx.selected = job.id
    ctx.played.add(job.id)
    ctx.announce(replace(job.event(), held=False), also=sender)  # on the boundary when quantized
    _keep_ahead(ctx)
    if ctx.midi is not None:
        ctx.midi.show_bank()
    return []


def _keep_ahead(ctx: Context) -> None:
    """Regenerate played slots (never the one selected) until ``keep_ahead`` fresh takes wait in the bank."""
    wanted = int(ctx.session.options.get("keep_ahead", 0))
    bank = ctx.runner.last_group
    fresh = [j for j in bank if j.id not in ctx.played and j.state not in (JobState.FAILED, JobState.CANCELLED)]
    spent = [i for i, j in enumerate(bank) if j.id in ctx.played and j.id != ctx.selected]
    for slot in spent[: max(0, wanted - len(fresh))]:
        _require_budget(ctx, bank[slot].engine, wanted)  # it may have been set for another engine's bank
        ctx.runner.refill(slot)


def _require_budget(ctx: Context, engine: str, keep_ahead: object) -> None:
    """Refuse background regeneration on a paid engine unless a daily ceiling caps what it may spend."""
    if engine != "local" and ctx.settings.budget.per_day is None:
        raise BadValue("keep_ahead", keep_ahead, f"regenerates {engine} requests in the background, each billed:"
                                                 " set a [budget] per_day ceiling in config.toml first")


def _status_report(ctx: Context) -> Report:
    return Report(tuple(ctx.session.snapshot()))


def _arm(ctx: Context, command: Arm, sender: Address | None) -> list[Reply]:
    if command.range is None:
        if not ctx.runner.last_group:
            raise BadArguments(f"{command.address}: no range given and no request yet to take it from")
        last = ctx.runner.last_group[0].request
        ctx.session.armed = Armed(str(last.source), last.start, last.end)
        return [_status_report(ctx)]
    armed = command.range
    ctx.roots.source(armed.source)
    check_range(armed.start, armed.end)
    ctx.session.armed = Armed(armed.source, armed.start, armed.end)
    return [_status_report(ctx)]


def _prompt(ctx: Context, command: Prompt, sender: Address | None) -> list[Reply]:
    ctx.session.prompt = command.text
    return [_status_report(ctx)]


def _preset(ctx: Context, command: UsePreset, sender: Address | None) -> list[Reply]:
    ctx.session.preset = find_preset(dict(ctx.presets), command.name).name if command.name else None
    return [_status_report(ctx)]


def _set(ctx: Context, command: Set, sender: Address | None) -> list[Reply]:
    """Checked now, against the engine and model in effect, not at the next trigger."""
    key, value = command.key, command.value
    if value is not None:
        engine, model = _in_effect(ctx)
        if key == "model":
            checks.choice("model", value, [m.id for m in MODELS])
        elif key not in OPTIONS:
            value = check_parameter(checks.name("option", key), value, service=engine, model_id=model)
        elif key == "quantize" and parse_quantize(value) is not None:
            _require_beat(ctx, str(value), running=False)  # the transport may start later
        elif key == "keep_ahead" and check_option(key, value):
            _require_budget(ctx, engine, value)
    ctx.session.set(key, value)
    return [_status_report(ctx)]


def _require_beat(ctx: Context, quantize: str, *, running: bool) -> None:
    """Refuse a quantized delivery when there is no beat to follow (or, with ``running``, none now)."""
    time_source = ctx.notifier.time
    if time_source is None:
        raise BadValue("quantize", quantize, "no beat to follow: start the daemon with --link (Ableton Link), or"
                                             " with --midi and send it MIDI clock")
    if running and not time_source.running():
        raise BadValue("quantize", quantize, "the MIDI clock is not running: start the DAW's transport (with"
                                             " clock sent to the daemon's MIDI port), or set quantize off")


def _in_effect(ctx: Context) -> tuple[str, str | None]:
    """The engine and model the next trigger would use: the session's, else its preset's, else the config's."""
    session = ctx.session
    preset = ctx.presets.get(session.preset) if session.preset else None
    given = {**(preset.options if preset else {}), **session.options}
    model = given.get("model")
    return str(given.get("engine", ctx.settings.engine)), str(model) if model is not None else None


def _status(ctx: Context, command: Status, sender: Address | None) -> list[Reply]:
    if command.job is None:
        active = sum(1 for j in ctx.runner.jobs.values() if j.active)
        uptime = round(time.monotonic() - ctx.started, 1)
        beat = ctx.notifier.time.status() if ctx.notifier.time is not None else [("time", "none")]
        daemon: tuple[tuple[str, Value], ...] = (("version", ctx.version), ("uptime_s", uptime),
                                                 ("active_jobs", active), *beat, *ctx.stats().items())
        return [Report((*ctx.session.snapshot(), *daemon))]
    job = ctx.runner.jobs.get(command.job)
    if job is None:
        record = ctx.runner.journal.get(command.job)
        if record is None:
            raise JobError(f"job = {command.job!r}: unknown")
        return [JobEvent(record.id, record.state, record.fraction, record.seed, record.engine,
                         error=record.error)]
    if sender is not None:
        ctx.listen(job.id, sender)
    return [job.event()]


def _live(ctx: Context, command: Live, sender: Address | None) -> list[Reply]:
    forwarded: list[object] = [command.prompt] if command.prompt is not None else []
    for key, value in command.options.items():
        forwarded += [key, value]
    port = ctx.settings.live_port
    ctx.send(("127.0.0.1", port), f"/live/{command.operation.value}", forwarded)
    return [Report((("live", command.operation.value), ("sent to port", port)))]


def _jobs(ctx: Context, command: ListJobs, sender: Address | None) -> list[Reply]:
    records = ctx.runner.journal.jobs(limit=MAX_LISTED)
    return [*(JobListed(record) for record in records), JobsListed(len(records))]


def _subscribe(ctx: Context, command: Subscribe, sender: Address | None) -> list[Reply]:
    word = "subscribe" if command.on else "unsubscribe"
    if sender is None:
        raise BadArguments(f"{command.address}: only an OSC sender can {word}")
    port = command.port or sender[1]
    journal = ctx.runner.journal
    (journal.subscribe if command.on else journal.unsubscribe)(sender[0], port)
    return [Report(((f"{word}d", port),))]


def _learn(ctx: Context, command: Learn, sender: Address | None) -> list[Reply]:
    if ctx.midi is None:
        raise BadArguments(f"{command.address}: MIDI is not running (start the daemon with --midi)")
    ctx.midi.learn(command.action)
    return [Report((("learning", command.action),))]


def _ping(ctx: Context, command: Ping, sender: Address | None) -> list[Reply]:
    return [Pong(ctx.version, command.echo)]


_HANDLERS: dict[type, Callable[[Context, Any, Address | None], list[Reply]]] = {
    Edit: _edit, Regenerate: _regenerate, Cancel: _cancel, Take: _take, Select: _select, Arm: _arm, Prompt: _prompt,
    UsePreset: _preset, Set: _set, Status: _status, Live: _live, ListJobs: _jobs, Subscribe: _subscribe,
    Learn: _learn, Ping: _ping,
}
