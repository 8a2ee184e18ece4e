"""What the fake models sound like: checkable stand-ins for Stable Audio.

* inpainting re-synthesises the unmasked audio as a real latent model does (slightly
  changed: a gain, a little noise) behind an optional codec delay, and fills the mask
  with a distinctive tone whose pitch follows the seed, at the level of the context;
* audio-to-audio blends the input towards that tone by ``init_noise_level``;
* text-to-audio renders the tone for ``seconds_total`` seconds.

A test can therefore check the delay and gain the bridge must undo, and find the tone
in the range and nowhere else.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from bridge.audio.io import decode_bytes, encode_bytes
from bridge.audio.resample import map_channels, resample
from bridge.errors import AudioParameterError

__all__ = ["SR", "fake_generate", "fake_inpaint", "fake_transform", "read_input", "tone_hz", "write_output"]

SR = 44100
Audio = NDArray[np.float32]
MIMES = {"wav": "audio/wav", "flac": "audio/flac", "mp3": "audio/mpeg", "ogg": "audio/ogg"}


def read_input(data: bytes) -> Audio:
    """Uploaded audio as the models hear it: 44.1 kHz stereo. Raises ``ValueError`` when it is not audio."""
    try:
        audio, sr = decode_bytes(data)
    except AudioParameterError as exc:
        raise ValueError(f"could not decode audio: {exc}") from exc
    return map_channels(resample(audio, sr, SR), 2)


def write_output(audio: Audio, requested: str) -> tuple[bytes, str, str]:
    """The answer encoded as asked (a format the fakes cannot write becomes mp3, the services' default).

    Returns the bytes, their MIME type and the file suffix.
    """
    fmt = requested if requested in MIMES else "mp3"
    return encode_bytes(audio, SR, fmt), MIMES[fmt], fmt


def tone_hz(seed: int) -> float:
    """The fill tone's pitch for ``seed``: one of twelve semitones above 440 Hz."""
    return float(440.0 * 2.0 ** ((seed % 12) / 12.0))


def _tone(frames: int, seed: int, level: float) -> Audio:
    t = np.arange(frames) / SR
    wave = level * np.sqrt(2.0) * np.sin(2 * np.pi * tone_hz(seed) * t)
    return np.repeat(wave[:, None], 2, axis=1).astype(np.float32)


def _rms(x: Audio) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if x.size else 0.0


def fake_inpaint(
    audio: Audio, mask: tuple[float, float], *, seed: int, delay: int = 0, gain_db: float = -1.5
) -> Audio:
    """``audio`` [shape=(frames, 2)] at 44.1 kHz with ``mask`` (seconds) regenerated."""
    a, b = (min(len(audio), max(0, round(m * SR))) for m in mask)
    rng = np.random.default_rng(seed)
    out = audio * np.float32(10 ** (gain_db / 20)) + rng.normal(0, 1e-4, audio.shape).astype(np.float32)
    level = _rms(np.concatenate([audio[max(0, a - SR) : a], audio[b : b + SR]])) or 0.1
    out[a:b] = _tone(b - a, seed, level)
    return np.concatenate([np.zeros((delay, 2), dtype=np.float32), out]) if delay else out


def fake_transform(audio: Audio, *, duration: float, strength: float, seed: int) -> Audio:
    """``audio`` moved towards the seed's tone by ``strength``, ``duration`` seconds long."""
    frames = round(duration * SR)
    src = np.zeros((frames, 2), dtype=np.float32)
    src[: min(frames, len(audio))] = audio[:frames]
    return ((1.0 - strength) * src + strength * _tone(frames, seed, _rms(audio) or 0.1)).astype(np.float32)


def fake_generate(seconds: float, *, seed: int) -> Audio:
    """The seed's tone for ``seconds`` seconds, with 10 ms fades."""
    out = _tone(round(seconds * SR), seed, 0.1)
    ramp = np.linspace(0.0, 1.0, min(len(out), 441), dtype=np.float32)[:, None]
    out[: len(ramp)] *= ramp
    out[len(out) - len(ramp) :] *= ramp[::-1]
    return out
