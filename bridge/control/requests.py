"""Requests that make audio: inpaint, transform, generate, regenerate, cancel."""

from __future__ import annotations

from dataclasses import replace

from bridge.control.context import Context, job_event
from bridge.control.routes import Args, Reply, Route
from bridge.errors import BadArguments
from bridge.jobs.compose import compose
from bridge.model import Operation

__all__ = ["ROUTES"]


def _edit(operation: Operation) -> Route:
    def handler(ctx: Context, args: Args) -> list[Reply]:
        session = ctx.session
        if len(args) == 0:
            if session.armed is None:
                raise BadArguments(f"{args.address}: no source and range given, and none armed (/bridge/arm)")
            source, start, end, prompt, given = (session.armed.source, session.armed.start, session.armed.end,
                                                 "", {})
        else:
            source, start, end = args.string(0, "source"), args.number(1, "start"), args.number(2, "end")
            prompt = args.optional_string(3, "prompt") or ""
            given = args.pairs(4)
        composed = compose(operation, source=ctx.roots.source(source), start=start, end=end, prompt=prompt,
                           given=given, settings=ctx.settings, presets=ctx.presets, session=session)
        request = replace(composed.request, folder=ctx.roots.folder(composed.project))
        reply = args.sender
        if reply is not None and composed.reply_port:
            reply = (reply[0], composed.reply_port)
        jobs = ctx.runner.accept(request, variations=composed.variations, keep=composed.keep, reply=reply)
        return [("/bridge/accepted", [job.id]) for job in jobs]

    description = {
        Operation.INPAINT: "regenerate the range from its surroundings (and the prompt)",
        Operation.TRANSFORM: "re-render the range towards the prompt (audio-to-audio)",
        Operation.GENERATE: "lay a generated clip into the range (text-to-audio)",
    }[operation]
    return Route(f"/bridge/{operation.value}", "s:source f:start f:end [s:prompt] [s:key value ...], or none (armed)",
                 "/bridge/accepted per job, then /bridge/progress, /bridge/done or /bridge/error",
                 description + "; with no arguments uses the armed range and the session", handler)


def _regenerate(ctx: Context, args: Args) -> list[Reply]:
    args.at_most(1)
    jobs = ctx.runner.regenerate(args.optional_string(0, "job"), args.sender)
    return [("/bridge/accepted", [job.id]) for job in jobs]


def _cancel(ctx: Context, args: Args) -> list[Reply]:
    args.at_most(1)
    jobs = ctx.runner.cancel(args.optional_string(0, "job"))
    if not jobs:
        raise BadArguments(f"{args.address}: no active job to cancel")
    for job in jobs:
        if args.sender is not None:
            ctx.listen(job.id, args.sender)
    return [("/bridge/progress", [job.id, "cancelling", job.fraction]) for job in jobs]


def _take(ctx: Context, args: Args) -> list[Reply]:
    args.at_most(1)
    step = args.integer(0, "step", -16, 16) if len(args) else 1
    done = [job for job in ctx.runner.last_group if job.take is not None]
    if not done:
        raise BadArguments(f"{args.address}: the last request has no finished take yet")
    ctx.take_index = (ctx.take_index + step) % len(done)
    job = done[ctx.take_index]
    ctx.announce(job)
    return [job_event(job)] if args.sender is not None else []


ROUTES = [
    _edit(Operation.INPAINT),
    _edit(Operation.TRANSFORM),
    _edit(Operation.GENERATE),
    Route("/bridge/regenerate", "[s:job]", "/bridge/accepted, then as for /bridge/inpaint",
          "repeat a job (default: the last) with the next seed", _regenerate),
    Route("/bridge/cancel", "[s:job]", "/bridge/progress job cancelling, then job cancelled",
          "cancel a job (default: every job of the last request), at the service too", _cancel),
    Route("/bridge/take", "[i:step]", "/bridge/done of that take, also to subscribers",
          "step through the finished variations of the last request (1 next, -1 previous)", _take),
]
