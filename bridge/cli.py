"""The ``inpaint-bridge`` command.

Exit status: 0 done, 1 the job failed (engine, alignment, writing), 2 bad input (a value,
a path or a range the command cannot use), 130 interrupted. Errors are one line on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from bridge import __version__
from bridge.compose import compose
from bridge.config import Settings, load_settings
from bridge.edit import run_edit
from bridge.engines.registry import engine_names, make_engine
from bridge.errors import BadValue, BridgeError
from bridge.listings import list_engines, list_jobs, list_presets
from bridge.model import EditRequest, Operation, TakeInfo
from bridge.presets import load_presets
from bridge.progress import ProgressLine

__all__ = ["main"]

PROG = "inpaint-bridge"

INPAINT_EXAMPLES = f"""\
examples:
  {PROG} inpaint take3.wav --start 12.40 --end 12.75
      fill a dropout offline; writes take3.take-12.400-12.750s.wav beside the source
  {PROG} inpaint take3.wav --start 12.4 --end 12.75 -o fixed.wav
      the whole file with the range replaced, as fixed.wav
  {PROG} inpaint take3.wav --start 12.4 --end 12.75 --patch
      only the range plus handles, to lay over the original in a DAW
  {PROG} inpaint fx.wav --start 3 --end 5 --engine fal --prompt "glass shattering" --steps 30
      regenerate with fal.ai Stable Audio 3 (FAL_KEY must be set)
"""

TRANSFORM_EXAMPLES = f"""\
examples:
  {PROG} transform drums.wav --start 8 --end 12 --engine fal --prompt "vinyl breakbeat" --strength 0.6
  {PROG} transform pad.wav --start 0 --end 4 --engine wavespeed --prompt "choir" --patch
"""

GENERATE_EXAMPLES = f"""\
examples:
  {PROG} generate scene.wav --start 10 --end 14 --engine fal --prompt "distant thunder"
      a Stable Audio Open clip laid into 10-14 s with crossfades
"""

_HOSTED_PARAMS = (
    ("--steps", int, "N", "steps", "diffusion steps (model's range; see `engines`)"),
    ("--guidance", float, "G", "guidance", "guidance scale"),
)


def _add_edit_arguments(p: argparse.ArgumentParser, operation: Operation) -> None:
    p.add_argument("source", type=Path, metavar="SOURCE", help="audio file (WAV, FLAC, AIFF, Ogg, MP3 ...)")
    p.add_argument("--start", type=float, required=True, metavar="S", help="range start, seconds")
    p.add_argument("--end", type=float, required=True, metavar="E", help="range end, seconds (exclusive)")
    p.add_argument("--prompt", default="", metavar="TEXT", help="what the range should sound like")
    p.add_argument("--negative-prompt", default="", metavar="TEXT", help="what to avoid")
    p.add_argument("-o", "--output", type=Path, metavar="OUT", help="write the whole file, range replaced, here")
    p.add_argument("--overwrite", action="store_true", help="allow -o to replace an existing file")
    p.add_argument("--patch", action="store_true", help="write only the range plus handles (for a DAW)")
    p.add_argument("--engine", metavar="NAME", help=f"engine ({', '.join(engine_names())}); default from config")
    p.add_argument("--model", metavar="ID", help="model id of the engine (default: the engine's first for this)")
    p.add_argument("--seed", type=int, metavar="N", help="seed; for local, picks among near-equal donor passages")
    p.add_argument("--fade-ms", type=float, metavar="MS", help="crossfade / bridge length inside the range (20)")
    p.add_argument("--context", type=float, metavar="S", help="seconds of surrounding audio the engine sees")
    for flag, kind, metavar, _, text in _HOSTED_PARAMS:
        p.add_argument(flag, type=kind, metavar=metavar, help=text)
    if operation is Operation.TRANSFORM:
        p.add_argument("--strength", type=float, metavar="X", help="0 keeps the audio, 1 ignores it (0.9)")
    p.add_argument("--preset", metavar="NAME", help="start from a preset (see `presets`)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="any other model parameter, e.g. --set enable_prompt_expansion=true")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines on stderr")
    p.set_defaults(operation=operation)


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Regenerate a time range of an audio file and splice it back seamlessly.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    for name, operation, text, description, epilog in (
        ("inpaint", Operation.INPAINT, "regenerate a range of a file",
         "Regenerate [START, END) seconds of SOURCE from its surroundings (and the prompt, on a hosted "
         "engine). Samples outside the range stay bit-identical; the source itself is never written.",
         INPAINT_EXAMPLES),
        ("transform", Operation.TRANSFORM, "re-render a range towards a prompt (audio-to-audio)",
         "Send [START, END) through an audio-to-audio model and splice the answer back in place.",
         TRANSFORM_EXAMPLES),
        ("generate", Operation.GENERATE, "lay a generated clip into a range (text-to-audio)",
         "Generate a clip from the prompt and splice it into [START, END) with crossfades.",
         GENERATE_EXAMPLES),
    ):
        p = sub.add_parser(name, help=text, description=description, epilog=epilog,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        _add_edit_arguments(p, operation)

    e = sub.add_parser(
        "engines",
        help="list engines and models and whether each is ready",
        description="List the engines, their models and parameters, and whether each is ready to take jobs.",
        epilog=f"example:\n  {PROG} engines",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    e.set_defaults(command="engines")

    x = sub.add_parser(
        "example",
        help="write an example source to try the tool on",
        description="Write a 20 s 48 kHz 24-bit stereo loop with a dropout at 8.0-8.3 s and a "
        "noise burst at 13.20-13.25 s.",
        epilog=f"example:\n  {PROG} example demo.wav && {PROG} inpaint demo.wav --start 8.0 --end 8.3",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    x.add_argument("path", type=Path, nargs="?", default=Path("inpaint-example.wav"), metavar="PATH")

    b = sub.add_parser(
        "bench",
        help="measure speed and memory",
        description="Time every stage of a job against the plain file and resampling floor, "
        "measure peak memory against source length, time the local engine, and measure a "
        "hosted job against the fake service.",
        epilog=f"examples:\n  {PROG} bench\n  {PROG} bench --json --quick",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    b.add_argument("--json", action="store_true", help="print one JSON document")
    b.add_argument("--quick", action="store_true", help="small sources, for a smoke test (figures not comparable)")

    v = sub.add_parser(
        "serve",
        help="run the daemon the DAW talks to (OSC)",
        description="Run the daemon: OSC control surface, job runner with a crash-safe journal, presets. "
        "SIGINT or SIGTERM stops it gracefully; a second signal exits at once.",
        epilog=f"examples:\n  {PROG} serve\n  {PROG} serve --osc-port 9130 --media-root ~/Music --log-format json\n"
        f"  {PROG} serve --listen 0.0.0.0 --allow 192.168.1.0/24   # a tablet on the LAN",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
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

    d = sub.add_parser(
        "send",
        help="send one OSC message to the daemon and print the replies",
        description="Send ADDRESS with ARGs (numbers become int or float, the rest strings) and print every "
        "reply; with --follow, wait for the jobs it starts to finish.",
        epilog=f"examples:\n  {PROG} send /bridge/ping\n"
        f"  {PROG} send /bridge/inpaint ~/take3.wav 12.4 12.75 '' --follow\n"
        f"  {PROG} send /bridge/inpaint ~/fx.wav 3 5 'glass shattering' engine fal variations 3 --follow",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    d.add_argument("address", metavar="ADDRESS")
    d.add_argument("args", nargs="*", metavar="ARG")
    d.add_argument("--host", default="127.0.0.1", help="daemon host (127.0.0.1)")
    d.add_argument("--port", type=int, default=9130, help="daemon port (9130)")
    d.add_argument("--wait", type=float, default=1.0, metavar="S", help="seconds to wait for replies (1)")
    d.add_argument("--follow", action="store_true", help="wait until every accepted job is done or failed")

    j = sub.add_parser(
        "jobs",
        help="list the daemon's job history",
        description="List jobs from the journal, newest first: id, state, engine, seed, prompt, take.",
        epilog=f"examples:\n  {PROG} jobs\n  {PROG} jobs --json --limit 5",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    j.add_argument("--json", action="store_true", help="one JSON document")
    j.add_argument("--limit", type=int, default=50, metavar="N", help="at most N jobs (50)")

    r = sub.add_parser(
        "presets",
        help="list presets",
        description="List the presets: shipped ones and yours (config folder's presets/*.toml, which win).",
        epilog=f"example:\n  {PROG} presets\n  {PROG} inpaint take.wav --start 3 --end 3.4 --preset replace-cough",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    r.set_defaults(command="presets")

    k = sub.add_parser(
        "reapack-index",
        help="write the REAPER scripts' ReaPack index from their headers",
        description="Generate reaper_scripts/index.xml from the main script's @version, @provides, @about and"
        " @changelog headers, with source URLs at the tag v<version>. --check only compares.",
        epilog=f"examples:\n  {PROG} reapack-index\n  {PROG} reapack-index --check",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    k.add_argument("--scripts", type=Path, default=Path(__file__).resolve().parent.parent / "reaper_scripts",
                   metavar="DIR", help="the reaper_scripts folder (this checkout's)")
    k.add_argument("--check", action="store_true", help="exit 1 when index.xml is not what the headers give")

    f = sub.add_parser(
        "fake-server",
        help="run the fake fal.ai and WaveSpeed services for offline demos",
        description="Serve the fake fal.ai (queue and storage) and WaveSpeedAI services on 127.0.0.1 "
        "and print the environment that points the engines at them.",
        epilog=f"example:\n  {PROG} fake-server --port 9150\n  (then, in another shell, the printed"
        f" exports and: {PROG} inpaint demo.wav --start 8 --end 8.3 --engine fal --prompt drums)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    f.add_argument("--port", type=int, default=9150, metavar="P",
                   help="fal queue on P, fal storage on P+1, WaveSpeed on P+2 (9150)")
    return parser


def _given(args: argparse.Namespace) -> dict[str, float | int | str | bool]:
    """The edit's options and model parameters as flags and ``--set`` gave them."""
    given: dict[str, float | int | str | bool] = {}
    for flag, value in (("engine", args.engine), ("model", args.model), ("seed", args.seed),
                        ("negative_prompt", args.negative_prompt or None), ("fade_ms", args.fade_ms),
                        ("context", args.context), ("preset", args.preset)):
        if value is not None:
            given[flag] = value
    for _, _, _, key, _ in _HOSTED_PARAMS:
        if getattr(args, key) is not None:
            given[key] = getattr(args, key)
    if getattr(args, "strength", None) is not None:
        given["strength"] = args.strength
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise BadValue("--set", item, "must be KEY=VALUE")
        given[key.strip()] = value.strip()
    return given


def _edit(args: argparse.Namespace, settings: Settings) -> int:
    composed = compose(args.operation, source=args.source, start=args.start, end=args.end, prompt=args.prompt,
                       given=_given(args), settings=settings, presets=load_presets(settings.config_dir),
                       patch=args.patch)
    if composed.variations != 1:
        raise BadValue("variations", composed.variations, "the command line makes one take; use the daemon")
    req = replace(composed.request, output=args.output, overwrite=args.overwrite)
    show = None if args.quiet or not sys.stderr.isatty() else ProgressLine(sys.stderr)
    take = asyncio.run(_run(req, settings, show))
    print(f"take: {take.path}")
    print(f"manifest: {take.manifest_path}")
    where = "full copy of the source" if take.kind == "full" else "patch: lay it over the source at this position"
    print(f"placement: {take.take_start:.6f}-{take.take_end:.6f} s ({where})")
    print(f"engine: {take.engine} ({take.model}), seed {take.seed}")
    return 0


async def _run(req: EditRequest, settings: Settings, show: ProgressLine | None) -> TakeInfo:
    engine = make_engine(req.engine, settings)
    try:
        return await run_edit(req, engine, settings, on_progress=show)
    finally:
        if show is not None:
            show.done()
        await engine.aclose()


def _fake_server(port: int) -> int:
    from bridge.fakes.fal import TEST_KEY as FAL_TEST_KEY
    from bridge.fakes.fal import FakeFal
    from bridge.fakes.wavespeed import TEST_KEY as WAVESPEED_TEST_KEY
    from bridge.fakes.wavespeed import FakeWaveSpeed

    try:
        fal = FakeFal(queue_port=port, rest_port=port + 1).start()
        wavespeed = FakeWaveSpeed(port=port + 2).start()
    except OSError as exc:
        raise BadValue("port", port, f"cannot listen on 127.0.0.1:{port}-{port + 2} ({exc.strerror})") from exc
    print("fake services on 127.0.0.1; in another shell:")
    print(f"  export INPAINT_BRIDGE_FAL_URL={fal.queue_url} INPAINT_BRIDGE_FAL_REST_URL={fal.rest_url}"
          f" FAL_KEY={FAL_TEST_KEY}")
    print(f"  export INPAINT_BRIDGE_WAVESPEED_URL={wavespeed.url} WAVESPEED_API_KEY={WAVESPEED_TEST_KEY}")
    print("Ctrl-C stops them.", flush=True)
    try:
        threading.Event().wait()
    finally:
        fal.stop()
        wavespeed.stop()
    return 0


def _example(path: Path) -> int:
    from bridge.example import DROPOUT, NOISE_BURST, write_example

    written = write_example(path)
    print(f"example: {written}")
    print(f"  dropout at {DROPOUT[0]}-{DROPOUT[1]} s, noise burst at {NOISE_BURST[0]}-{NOISE_BURST[1]} s")
    print(f"  try: {PROG} inpaint {written} --start {DROPOUT[0]} --end {DROPOUT[1]}")
    return 0


def _reapack_index(scripts: Path, *, check: bool) -> int:
    from bridge.reapack import build_index

    text = build_index(scripts)
    index = scripts / "index.xml"
    if check:
        if index.is_file() and index.read_text(encoding="utf-8") == text:
            print(f"{index}: up to date")
            return 0
        print(f"{PROG}: {index} differs from the scripts' headers; run: {PROG} reapack-index", file=sys.stderr)
        return 1
    index.write_text(text, encoding="utf-8")
    print(f"wrote {index}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        if args.command in ("inpaint", "transform", "generate"):
            return _edit(args, settings)
        if args.command == "engines":
            return list_engines(settings)
        if args.command == "example":
            return _example(args.path)
        if args.command == "bench":
            from bridge.bench import run_bench

            return run_bench(as_json=args.json, quick=args.quick)
        if args.command == "fake-server":
            return _fake_server(args.port)
        if args.command == "serve":
            from bridge.serve import serve

            return serve(args, settings)
        if args.command == "send":
            from bridge.send import send

            return send(args.address, args.args, host=args.host, port=args.port, wait=args.wait, follow=args.follow)
        if args.command == "jobs":
            return list_jobs(settings, as_json=args.json, limit=args.limit)
        if args.command == "presets":
            return list_presets(settings)
        if args.command == "reapack-index":
            return _reapack_index(args.scripts, check=args.check)
    except BridgeError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    parser.error(f"unknown command {args.command!r}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
