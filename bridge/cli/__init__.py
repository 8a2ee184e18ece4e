"""The ``inpaint-bridge`` command: one module per subcommand group, each adding its own parser.

Exit status: 0 done, 1 the job failed (engine, alignment, writing), 2 bad input (a value,
a path or a range the command cannot use), 130 interrupted. Errors are one line on stderr.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bridge import __version__
from bridge.cli import bench, edit, example, listings, reapack, send, serve
from bridge.cli.parsers import PROG
from bridge.config import load_settings, redact
from bridge.errors import BridgeError

__all__ = ["main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Regenerate a time range of an audio file and splice it back seamlessly.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (edit, listings, example, bench, serve, send, reapack):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    secrets: tuple[str, ...] = ()
    try:
        settings = load_settings()
        secrets = settings.secrets
        return int(args.run(args, settings))
    except BridgeError as exc:
        print(f"{PROG}: error: {redact(str(exc), secrets)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
