"""``inpaint-bridge serve``: options from the command line, logging, and the daemon's run."""

from __future__ import annotations

import argparse
import asyncio
import sys

from bridge.config import Settings
from bridge.daemon import Daemon, ServeOptions, parse_networks
from bridge.logs import configure_logging

__all__ = ["serve"]


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def serve(args: argparse.Namespace, settings: Settings) -> int:
    midi = settings.midi
    options = ServeOptions(
        host=args.listen,
        port=args.osc_port,
        allow=parse_networks(args.allow),
        media_roots=tuple(p.expanduser() for p in args.media_root),
        output_roots=tuple(p.expanduser() for p in args.output_root),
        grace_s=args.grace,
        midi=bool(args.midi or args.midi_in or midi.get("enabled")),
        midi_in=args.midi_in or _text(midi.get("input")),
        midi_out=args.midi_out or _text(midi.get("output")),
        midi_api=args.midi_api or _text(midi.get("api")),
        midi_map=args.midi_map or _text(midi.get("map")) or "generic",
        spool=args.spool.expanduser() if args.spool else None,
    )
    secrets = [s for s in (settings.fal.key, settings.wavespeed.key) if s]
    configure_logging(args.log_format, secrets=secrets)
    # audio work runs in threads; a short switch interval lets the event loop take the GIL
    # back within about a millisecond, which keeps control replies fast while jobs run
    sys.setswitchinterval(0.001)
    try:
        asyncio.run(Daemon(settings, options).serve())
    except OSError as exc:
        from bridge.errors import BadValue

        raise BadValue("--osc-port", args.osc_port, f"cannot listen on {args.listen} ({exc.strerror})") from exc
    return 0
