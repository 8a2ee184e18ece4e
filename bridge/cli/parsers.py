"""What every subcommand module shares: the program's name and how a subcommand is added."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from bridge.config import Settings

__all__ = ["PROG", "Run", "add_command"]

PROG = "inpaint-bridge"

Run = Callable[[argparse.Namespace, Settings], int]
"""A subcommand's body: the parsed arguments and the settings in, the exit status out."""


def add_command(sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str, run: Run, *, help: str,
                description: str, examples: str) -> argparse.ArgumentParser:
    """Add subcommand ``name`` whose body is ``run``; ``examples`` is shown after the options."""
    parser = sub.add_parser(name, help=help, description=description, epilog=examples,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.set_defaults(run=run)
    return parser
