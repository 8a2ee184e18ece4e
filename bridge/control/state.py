"""Session state for triggers without a range or prompt: arm, prompt, preset, set, status."""

from __future__ import annotations

import time

from bridge.control.context import Context, job_event
from bridge.control.routes import Args, Reply, Route
from bridge.control.session import Armed
from bridge.errors import BadArguments, JobError
from bridge.jobs.presets import find_preset

__all__ = ["ROUTES"]


def _status_reply(ctx: Context) -> list[Reply]:
    flat: list[object] = []
    for key, value in ctx.session.snapshot():
        flat += [key, value]
    return [("/bridge/status", flat)]


def _arm(ctx: Context, args: Args) -> list[Reply]:
    args.at_most(3)
    if len(args) == 0:
        if not ctx.runner.last_group:
            raise BadArguments(f"{args.address}: no range given and no request yet to take it from")
        last = ctx.runner.last_group[0].request
        ctx.session.armed = Armed(str(last.source), last.start, last.end)
        return _status_reply(ctx)
    source, start, end = args.string(0, "source"), args.number(1, "start"), args.number(2, "end")
    ctx.roots.source(source)
    if not 0 <= start < end:
        raise BadArguments(f"{args.address}: start, end = {start:g}, {end:g}: need 0 <= start < end")
    ctx.session.armed = Armed(source, start, end)
    return _status_reply(ctx)


def _prompt(ctx: Context, args: Args) -> list[Reply]:
    args.at_most(1)
    ctx.session.prompt = args.string(0, "text")
    return _status_reply(ctx)


def _preset(ctx: Context, args: Args) -> list[Reply]:
    args.at_most(1)
    name = args.string(0, "name")
    ctx.session.preset = find_preset(dict(ctx.presets), name).name if name else None
    return _status_reply(ctx)


def _set(ctx: Context, args: Args) -> list[Reply]:
    args.at_most(2)
    key = args.string(0, "key")
    ctx.session.set(key, args.value(1, key) if len(args) > 1 else None)
    return _status_reply(ctx)


def _status(ctx: Context, args: Args) -> list[Reply]:
    args.at_most(1)
    job_id = args.optional_string(0, "job")
    if job_id is None:
        counts = ctx.stats()
        active = sum(1 for j in ctx.runner.jobs.values() if j.active)
        extra: list[object] = ["version", ctx.version, "uptime_s", round(time.monotonic() - ctx.started, 1),
                               "active_jobs", active]
        for key, value in counts.items():
            extra += [key, value]
        address, flat = _status_reply(ctx)[0]
        return [(address, [*flat, *extra])]
    job = ctx.runner.jobs.get(job_id)
    if job is None:
        record = ctx.runner.journal.get(job_id)
        if record is None:
            raise JobError(f"job = {job_id!r}: unknown")
        return [("/bridge/progress", [record.id, record.state, record.fraction])]
    if args.sender is not None:
        ctx.listen(job.id, args.sender)
    return [job_event(job)]


ROUTES = [
    Route("/bridge/arm", "[s:source f:start f:end]", "/bridge/status",
          "set the range the next trigger uses (no arguments: the last request's)", _arm),
    Route("/bridge/prompt", "s:text", "/bridge/status", "set the prompt the next trigger uses", _prompt),
    Route("/bridge/preset", "s:name", "/bridge/status", "set the preset the next trigger uses ('' clears)",
          _preset),
    Route("/bridge/set", "s:key [value]", "/bridge/status",
          "set a request option for the next triggers (engine, seed, steps, variations ...); no value clears",
          _set),
    Route("/bridge/status", "[s:job]", "/bridge/status key value ... (session and daemon), or the job's state",
          "show the session, or one job", _status),
]
