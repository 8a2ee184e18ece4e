"""Listing jobs, subscribing to events, and the health check."""

from __future__ import annotations

from collections.abc import Callable

from bridge.control.context import Context
from bridge.control.routes import Args, Reply, Route
from bridge.errors import BadArguments

__all__ = ["ROUTES"]

MAX_LISTED = 50


def _jobs(ctx: Context, args: Args) -> list[Reply]:
    args.at_most(0)
    records = ctx.runner.journal.jobs(limit=MAX_LISTED)
    replies: list[Reply] = [
        ("/bridge/job", [r.id, r.state, r.fraction, r.engine, r.prompt, r.seed, r.take_path or ""]) for r in records
    ]
    return [*replies, ("/bridge/jobs", [len(records)])]


def _subscription(subscribe: bool) -> Callable[[Context, Args], list[Reply]]:
    word = "subscribe" if subscribe else "unsubscribe"

    def handler(ctx: Context, args: Args) -> list[Reply]:
        args.at_most(1)
        if args.sender is None:
            raise BadArguments(f"{args.address}: only an OSC sender can {word}")
        port = args.integer(0, "port", 1, 65535) if len(args) else args.sender[1]
        journal = ctx.runner.journal
        (journal.subscribe if subscribe else journal.unsubscribe)(args.sender[0], port)
        return [("/bridge/status", [f"{word}d", port])]

    return handler


def _learn(ctx: Context, args: Args) -> list[Reply]:
    args.at_most(1)
    action = args.string(0, "action")
    if ctx.midi is None:
        raise BadArguments(f"{args.address}: MIDI is not running (start the daemon with --midi)")
    ctx.midi.learn(action)
    return [("/bridge/status", ["learning", action])]


def _ping(ctx: Context, args: Args) -> list[Reply]:
    return [("/bridge/pong", [ctx.version, *args.params[:8]])]


ROUTES = [
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
]
