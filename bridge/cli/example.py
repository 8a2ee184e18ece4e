"""An example source for first runs: 20 s of a stereo loop with a dropout and a noise burst."""

from __future__ import annotations

import argparse
import threading
from pathlib import Path

import numpy as np
import soundfile as sf

from bridge.audio.io import write_take
from bridge.cli.parsers import PROG, add_command
from bridge.errors import BadValue

__all__ = ["register", "DROPOUT", "NOISE_BURST", "write_example"]

DROPOUT = (8.0, 8.3)
"""Seconds of digital silence, as a broken cable or a buffer underrun leaves."""
NOISE_BURST = (13.2, 13.25)
"""A short burst of noise, like a cough or a handling bump."""


def write_example(path: Path, *, sr: int = 48000) -> Path:
    """Write the example as 24-bit WAV at ``path`` (a new name is chosen if it is taken)."""
    from bridge.audio.signals import loop  # scipy: only when an example is written

    x = loop(sr, 20.0, channels=2)
    a, b = (round(t * sr) for t in DROPOUT)
    x[a:b] = 0.0
    a, b = (round(t * sr) for t in NOISE_BURST)
    rng = np.random.default_rng(7)
    x[a:b] += (0.5 * rng.standard_normal((b - a, 2))).astype(np.float32)
    x = np.clip(x, -1.0, 1.0)

    def write(f: sf.SoundFile) -> None:
        f.write(x)

    return write_take(path, write, sr=sr, channels=2, fmt="WAV", subtype="PCM_24")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    x = add_command(
        sub, "example", lambda args, settings: _example(args.path), help="write an example source to try the tool on",
        description="Write a 20 s 48 kHz 24-bit stereo loop with a dropout at 8.0-8.3 s and a "
        "noise burst at 13.20-13.25 s.",
        examples=f"example:\n  {PROG} example demo.wav && {PROG} inpaint demo.wav --start 8.0 --end 8.3")
    x.add_argument("path", type=Path, nargs="?", default=Path("inpaint-example.wav"), metavar="PATH")
    f = add_command(
        sub, "fake-server", lambda args, settings: _fake_server(args.port),
        help="run the fake fal.ai and WaveSpeed services for offline demos",
        description="Serve the fake fal.ai (queue and storage) and WaveSpeedAI services on 127.0.0.1 "
        "and print the environment that points the engines at them.",
        examples=f"example:\n  {PROG} fake-server --port 9150\n  (then, in another shell, the printed"
        f" exports and: {PROG} inpaint demo.wav --start 8 --end 8.3 --engine fal --prompt drums)")
    f.add_argument("--port", type=int, default=9150, metavar="P",
                   help="fal queue on P, fal storage on P+1, WaveSpeed on P+2 (9150)")


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
    written = write_example(path)
    print(f"example: {written}")
    print(f"  dropout at {DROPOUT[0]}-{DROPOUT[1]} s, noise burst at {NOISE_BURST[0]}-{NOISE_BURST[1]} s")
    print(f"  try: {PROG} inpaint {written} --start {DROPOUT[0]} --end {DROPOUT[1]}")
    return 0
