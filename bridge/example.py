"""An example source for first runs: 20 s of a stereo loop with a dropout and a noise burst."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from bridge.audio.io import write_take
from bridge.audio.signals import loop

__all__ = ["DROPOUT", "NOISE_BURST", "write_example"]

DROPOUT = (8.0, 8.3)
"""Seconds of digital silence, as a broken cable or a buffer underrun leaves."""
NOISE_BURST = (13.2, 13.25)
"""A short burst of noise, like a cough or a handling bump."""


def write_example(path: Path, *, sr: int = 48000) -> Path:
    """Write the example as 24-bit WAV at ``path`` (a new name is chosen if it is taken)."""
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
