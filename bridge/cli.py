"""The ``inpaint-bridge`` command.

Exit status: 0 done, 1 the job failed (engine, alignment, writing), 2 bad input (a value,
a path or a range the command cannot use), 130 interrupted. Errors are one line on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from bridge import __version__
from bridge.config import Settings, load_settings
from bridge.edit import run_edit
from bridge.engines.registry import engine_names, make_engine
from bridge.errors import BridgeError
from bridge.model import EditRequest, Operation

__all__ = ["main"]

PROG = "inpaint-bridge"

INPAINT_EXAMPLES = f"""\
examples:
  {PROG} inpaint take3.wav --start 12.40 --end 12.75
      fill a dropout; writes take3.take-12.400-12.750s.wav beside the source
  {PROG} inpaint take3.wav --start 12.4 --end 12.75 -o fixed.wav
      the whole file with the range replaced, as fixed.wav
  {PROG} inpaint take3.wav --start 12.4 --end 12.75 --patch
      only the range plus handles, to lay over the original in a DAW
"""


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Regenerate a time range of an audio file and splice it back seamlessly.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "inpaint",
        help="regenerate a range of a file",
        description="Regenerate [START, END) seconds of SOURCE. Samples outside the range stay "
        "bit-identical; the source itself is never written.",
        epilog=INPAINT_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("source", type=Path, metavar="SOURCE", help="audio file (WAV, FLAC, AIFF, Ogg, MP3 ...)")
    p.add_argument("--start", type=float, required=True, metavar="S", help="range start, seconds")
    p.add_argument("--end", type=float, required=True, metavar="E", help="range end, seconds (exclusive)")
    p.add_argument("--prompt", default="", metavar="TEXT", help="what the range should sound like")
    p.add_argument("--negative-prompt", default="", metavar="TEXT", help="what to avoid")
    p.add_argument("-o", "--output", type=Path, metavar="OUT", help="write the whole file, range replaced, here")
    p.add_argument("--overwrite", action="store_true", help="allow -o to replace an existing file")
    p.add_argument("--patch", action="store_true", help="write only the range plus handles (for a DAW)")
    p.add_argument("--engine", metavar="NAME", help=f"engine ({', '.join(engine_names())}); default from config")
    p.add_argument("--seed", type=int, metavar="N", help="seed; for local, picks among near-equal donor passages")
    p.add_argument("--fade-ms", type=float, metavar="MS", help="crossfade / bridge length inside the range (20)")
    p.add_argument("--context", type=float, metavar="S", help="seconds of surrounding audio the engine sees")

    e = sub.add_parser(
        "engines",
        help="list engines and whether each is ready",
        description="List the engines, what they do and whether each is ready to take jobs.",
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
        "measure peak memory against source length, and time the local engine.",
        epilog=f"examples:\n  {PROG} bench\n  {PROG} bench --json --quick",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    b.add_argument("--json", action="store_true", help="print one JSON document")
    b.add_argument("--quick", action="store_true", help="small sources, for a smoke test (figures not comparable)")
    return parser


def _inpaint(args: argparse.Namespace, settings: Settings) -> int:
    req = EditRequest(
        source=args.source,
        start=args.start,
        end=args.end,
        operation=Operation.INPAINT,
        prompt=args.prompt,
        negative_prompt=args.negative_prompt,
        engine=args.engine or settings.engine,
        seed=args.seed,
        fade_ms=settings.fade_ms if args.fade_ms is None else args.fade_ms,
        context_s=args.context,
        output=args.output,
        patch=args.patch,
        overwrite=args.overwrite,
    )
    engine = make_engine(req.engine, settings)
    take = asyncio.run(run_edit(req, engine, settings))
    print(f"take: {take.path}")
    print(f"manifest: {take.manifest_path}")
    where = "full copy of the source" if take.kind == "full" else "patch: lay it over the source at this position"
    print(f"placement: {take.take_start:.6f}-{take.take_end:.6f} s ({where})")
    print(f"engine: {take.engine} ({take.model}), seed {take.seed}")
    return 0


def _engines(settings: Settings) -> int:
    for name in engine_names():
        engine = make_engine(name, settings)
        caps = engine.capabilities
        reason = engine.readiness()
        state = "ready" if reason is None else f"not ready: {reason}"
        ops = ", ".join(sorted(op.value for op in caps.operations))
        default = " (default)" if name == settings.engine else ""
        print(f"{name}{default}: {state}")
        print(f"  {caps.description}")
        print(f"  does: {ops}; range {caps.min_duration_s * 1000:g} ms to {caps.max_duration_s:g} s;"
              f" context {caps.default_context_s:g} s; prompt {'used' if caps.uses_prompt else 'not read'}")
        for model in caps.models:
            print(f"  model: {model}")
    return 0


def _example(path: Path) -> int:
    from bridge.example import DROPOUT, NOISE_BURST, write_example

    written = write_example(path)
    print(f"example: {written}")
    print(f"  dropout at {DROPOUT[0]}-{DROPOUT[1]} s, noise burst at {NOISE_BURST[0]}-{NOISE_BURST[1]} s")
    print(f"  try: {PROG} inpaint {written} --start {DROPOUT[0]} --end {DROPOUT[1]}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        if args.command == "inpaint":
            return _inpaint(args, settings)
        if args.command == "engines":
            return _engines(settings)
        if args.command == "example":
            return _example(args.path)
        if args.command == "bench":
            from bridge.bench import run_bench

            return run_bench(as_json=args.json, quick=args.quick)
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
