"""``inpaint-bridge serve``: options from the command line, logging, and the daemon's run."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
from collections.abc import Sequence
from pathlib import Path

from bridge.cli.logs import configure_logging
from bridge.cli.parsers import PROG, add_command
from bridge.config import Settings
from bridge.daemon import Daemon, Network, ServeOptions
from bridge.errors import BadValue
from bridge.runtime import prepare_for_jobs

__all__ = ["register", "serve"]


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
        link=bool(args.link or settings.link.enabled),
        quantum=args.quantum if args.quantum is not None else settings.link.quantum,
    )
    configure_logging(args.log_format, secrets=settings.secrets)
    prepare_for_jobs()
    try:
        asyncio.run(Daemon(settings, options).serve())
    except OSError as exc:
        raise BadValue("--osc-port", args.osc_port, f"cannot listen on {args.listen} ({exc.strerror})") from exc
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    v = add_command(
        sub, "serve", serve, help="run the daemon the DAW talks to (OSC)",
        description="Run the daemon: OSC control surface, job runner with a crash-safe journal, presets. "
        "SIGINT or SIGTERM stops it gracefully; a second signal exits at once.",
        examples=f"examples:\n  {PROG} serve\n  {PROG} serve --osc-port 9130 --media-root ~/Music --log-format json\n"
        f"  {PROG} serve --listen 0.0.0.0 --allow 192.168.1.0/24   # a tablet on the LAN")
    v.add_argument("--osc-port", type=int, default=9130, metavar="PORT", help="UDP port (9130)")
    v.add_argument("--listen", default="127.0.0.1", metavar="HOST", help="address to bind (127.0.0.1)")
    v.add_argument("--allow", action="append", default=[], metavar="CIDR",
                   help="senders accepted when --listen is not loopback (repeatable)")
    v.add_argument("--media-root", action="append", default=[], type=Path, metavar="DIR",
                   help="sources must lie inside one of these (default: your home folder)")
    v.add_argument("--output-root", action="append", default=[], type=Path, metavar="DIR",
                   help="takes go here unless a request names a project folder (default: the data folder)")
    v.add_argument("--grace", type=float, default=10.0, metavar="S", help="seconds running jobs get at shutdown")
    v.add_argument("--log-format", choices=("text", "json"), default="text", help="stderr log lines as text or JSON")
    v.add_argument("--spool", type=Path, metavar="DIR",
                   help="spool folder for hosts without sockets, e.g. REAPER (default: <data folder>/spool)")
    v.add_argument("--midi", action="store_true", help="open a virtual MIDI input 'Inpaint Bridge' (and LED output)")
    v.add_argument("--midi-in", metavar="NAME", help="open this MIDI input port instead of a virtual one")
    v.add_argument("--midi-out", metavar="NAME", help="send LED feedback to this port instead of a virtual one")
    v.add_argument("--midi-api", choices=("alsa", "jack", "coremidi", "winmm"),
                   help="MIDI system (default: the first that works, in that order)")
    v.add_argument("--midi-map", metavar="NAME",
                   help="controller map: generic, akai-mpk-mini, launchpad-x, yours, or a .toml path")
    v.add_argument("--link", action="store_true",
                   help="join the Ableton Link session for tempo and phase (quantized delivery); Link finds peers"
                        " by multicast on the local network")
    v.add_argument("--quantum", type=float, metavar="BEATS",
                   help="beats per bar for Link and MIDI clock (default 4, or [link] quantum)")


def parse_networks(values: Sequence[str]) -> tuple[Network, ...]:
    out = []
    for value in values:
        try:
            out.append(ipaddress.ip_network(value, strict=False))
        except ValueError:
            raise BadValue("--allow", value, "must be an address or CIDR such as 192.168.1.0/24") from None
    return tuple(out)
