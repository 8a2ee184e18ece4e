"""``inpaint-bridge bench``: speed and memory figures, each beside what it is compared with.

The audio path's measurements are in :mod:`bridge.cli.bench.audio`, the daemon's (control
latency, bursts, throughput, MIDI through JACK) in :mod:`bridge.cli.bench.daemon`; this
module runs both and prints one report (or one JSON document). ``pytest -m bench`` runs
a quick pass as a test.
"""

from __future__ import annotations

import argparse

from bridge.cli.parsers import PROG, add_command
from bridge.config import Settings

__all__ = ["register"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    b = add_command(
        sub, "bench", _run,
        help="measure speed and memory",
        description="Time every stage of a job against the plain file and resampling floor, "
        "measure peak memory against source length, time the local engine, and measure a "
        "hosted job against the fake service.",
        examples=f"examples:\n  {PROG} bench\n  {PROG} bench --json --quick")
    b.add_argument("--json", action="store_true", help="print one JSON document")
    b.add_argument("--quick", action="store_true", help="small sources, for a smoke test (figures not comparable)")




def _run(args: argparse.Namespace, settings: Settings) -> int:
    from bridge.cli.bench.report import run_bench  # numpy, scipy and the fakes: only when the bench runs

    return run_bench(as_json=args.json, quick=args.quick)
