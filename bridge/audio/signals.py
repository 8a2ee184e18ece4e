"""Synthetic test material, generated with a fixed seed (audio-core.md §7b).

Used by the tests, the benchmark and the example source, so every figure can be
reproduced without downloading anything.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.signal import butter, lfilter, sosfilt

__all__ = ["loop", "speech_like", "texture", "tone"]

Audio = NDArray[np.float32]


def tone(sr: int = 44100, seconds: float = 4.0, *, seed: int = 0) -> Audio:
    """Five harmonics of 220 Hz, 5 Hz ±0.3 % vibrato, exponential decay, −60 dB noise; mono."""
    rng = np.random.default_rng(seed)
    t = np.arange(round(sr * seconds)) / sr
    phase = 2 * np.pi * 220.0 * (t - 0.003 / (2 * np.pi * 5.0) * np.cos(2 * np.pi * 5.0 * t))
    x = sum(np.sin(h * phase) / h for h in range(1, 6)) * np.exp(-t / 3.0) * 0.3
    x = x + 1e-3 * rng.standard_normal(len(t))
    return np.asarray(x[:, None], dtype=np.float32)


def loop(sr: int = 44100, seconds: float = 20.0, *, channels: int = 2, seed: int = 0) -> Audio:
    """A 120 BPM two-bar loop (kick, hi-hat, four-chord pad) repeated, with −50 dB noise."""
    rng = np.random.default_rng(seed)
    bar = round(2.0 * sr)  # 4 beats at 120 BPM
    one = np.zeros((2 * bar, channels))
    t = np.arange(bar // 4) / sr
    kick = np.sin(2 * np.pi * (50 + 90 * np.exp(-t * 30)) * t) * np.exp(-t * 9)
    hat_t = np.arange(round(0.05 * sr)) / sr
    hat = rng.standard_normal(len(hat_t)) * np.exp(-hat_t * 80) * 0.15
    chords = [(220.0, 277.2, 329.6), (196.0, 246.9, 293.7), (174.6, 220.0, 261.6), (196.0, 246.9, 329.6)]
    for beat in range(8):
        at = beat * bar // 4
        one[at : at + len(kick)] += 0.6 * kick[:, None]
        off = at + bar // 8
        one[off : off + len(hat)] += hat[:, None] * np.linspace(0.8, 1.2, channels)[None, :]
    pad_t = np.arange(bar // 2) / sr
    env = np.minimum(1.0, pad_t / 0.05) * np.minimum(1.0, (pad_t[-1] - pad_t) / 0.05)
    for i, chord in enumerate(chords):
        pad = sum(np.sin(2 * np.pi * f * pad_t + c) for c, f in enumerate(chord)) * env * 0.08
        one[i * bar // 2 : (i + 1) * bar // 2] += pad[:, None]
    reps = int(np.ceil(seconds * sr / len(one)))
    x = np.tile(one, (reps, 1))[: round(seconds * sr)]
    x = x + 10 ** (-50 / 20) * rng.standard_normal(x.shape) * 0.3
    return np.asarray(x, dtype=np.float32)


def speech_like(sr: int = 44100, seconds: float = 6.0, *, seed: int = 0) -> Audio:
    """Voiced syllables: a glottal pulse train with drifting pitch through moving formants; mono."""
    rng = np.random.default_rng(seed)
    n = round(sr * seconds)
    t = np.arange(n) / sr
    f0 = 120.0 * (1 + 0.15 * np.sin(2 * np.pi * 0.7 * t) + 0.05 * np.sin(2 * np.pi * 3.1 * t))
    phase = np.cumsum(f0) / sr
    pulses = np.diff(np.floor(phase), prepend=0.0)
    source = np.convolve(pulses, np.exp(-np.arange(round(0.004 * sr)) / (0.0008 * sr)), mode="same")
    source += 0.02 * rng.standard_normal(n)
    vowels = [(730, 1090, 2440), (270, 2290, 3010), (300, 870, 2240), (530, 1840, 2480), (570, 840, 2410)]
    syllable = round(0.22 * sr)
    out = np.zeros(n)
    for i, at in enumerate(range(0, n, syllable)):
        seg = source[at : at + syllable]
        formants = vowels[int(rng.integers(len(vowels)))]
        y = np.zeros(len(seg))
        for k, f in enumerate(formants):
            r = np.exp(-np.pi * (60 + 40 * k) / sr)
            a = [1.0, -2 * r * np.cos(2 * np.pi * f / sr), r * r]
            y += lfilter([1.0 - r], a, seg) / (k + 1)
        env = np.sin(np.pi * np.arange(len(seg)) / len(seg)) ** 0.6
        out[at : at + len(seg)] += y * env * (0.5 + 0.5 * (i % 3 != 2))
    out *= 0.3 / max(float(np.max(np.abs(out))), 1e-9)
    return np.asarray(out[:, None], dtype=np.float32)


def texture(sr: int = 44100, seconds: float = 8.0, *, channels: int = 2, seed: int = 0) -> Audio:
    """A sound-effects bed: filtered noise (rain-like), a low hum and random drips."""
    rng = np.random.default_rng(seed)
    n = round(sr * seconds)
    sos = butter(4, [800, 6000], btype="band", fs=sr, output="sos")
    rain = sosfilt(sos, rng.standard_normal((n, channels)), axis=0) * 0.1
    t = np.arange(n) / sr
    hum = (0.05 * np.sin(2 * np.pi * 60 * t) + 0.02 * np.sin(2 * np.pi * 120 * t))[:, None]
    drips = np.zeros((n, channels))
    dt = np.arange(round(0.03 * sr)) / sr
    for at in rng.integers(0, n - len(dt), size=int(seconds * 3)):
        f = rng.uniform(900, 2500)
        drips[at : at + len(dt)] += (np.sin(2 * np.pi * f * dt) * np.exp(-dt * 150) * 0.2)[:, None]
    return np.asarray(rain + hum + drips, dtype=np.float32)
