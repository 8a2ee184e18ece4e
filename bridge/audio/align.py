"""Lining returned audio up with the original (audio-core.md §3, §6.2 step 4).

A hosted model re-synthesises the whole excerpt, so the context comes back shifted by
codec delay (1105 samples for MP3, 2112 for AAC, 2257 for an MP3 whose gapless header
was lost), rescaled and slightly changed. The lag is found by FFT cross-correlation on
the untouched context only, separately on the left and right sides, which must agree;
the gain is the least-squares fit on the same samples, clamped to ±6 dB.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import gcd

import numpy as np
from numpy.typing import NDArray
from scipy import fft as sp_fft

from bridge.audio.io import EncodedAudio
from bridge.audio.resample import map_channels, resample
from bridge.audio.splice import sliding_energy
from bridge.errors import AlignmentError, AudioParameterError

__all__ = ["Alignment", "align", "apply_alignment", "fit_returned", "place_returned"]

MIN_NCC = 0.9
MAX_GAIN_DB = 6.0
GUARD_S = 0.25
MAX_CONTEXT_S = 1.5
MAX_LAG = 8192
FILTER_MARGIN_S = 0.1
"""Input the resampler is given beyond what is read of a part it resamples."""


@dataclass(frozen=True)
class Alignment:
    """How the returned audio maps onto the original: ``original[n] ≈ gain · returned[n + lag]``."""

    lag: int
    ncc: float
    gain: float
    lag_left: int | None
    lag_right: int | None

    @property
    def gain_db(self) -> float:
        return float(20.0 * np.log10(self.gain))


def _mono(x: NDArray[np.floating], lo: int, hi: int) -> NDArray[np.float32]:
    """The mean of the channels of ``x[lo:hi]`` [shape=(frames, channels)], as float32."""
    part = x[max(lo, 0) : max(hi, 0)]
    out = part[:, 0].astype(np.float32)
    for c in range(1, part.shape[1]):
        out += part[:, c]
    if part.shape[1] > 1:
        out *= np.float32(1.0 / part.shape[1])
    return out


def _side_correlation(
    original: NDArray[np.floating], returned: NDArray[np.floating], lo: int, hi: int, max_lag: int, offset: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]] | None:
    """Cross-correlation of ``original[lo:hi]`` against ``returned`` (whose frame 0 is frame ``offset``
    of the answer) for lags ``-max_lag..max_lag``, and its norm.

    One real FFT of a fast length at least as long as the searched stretch, in float32:
    the circular correlation is exact for the ``2·max_lag + 1`` lags read from it.
    """
    if hi - lo < 64:
        return None
    template = _mono(original, lo, hi)
    a = lo - max_lag - offset
    seg = np.zeros(hi - lo + 2 * max_lag, dtype=np.float32)
    got = _mono(returned, a, hi + max_lag - offset)
    seg[max(0, -a) : max(0, -a) + len(got)] = got
    n = sp_fft.next_fast_len(len(seg), real=True)
    spectrum = sp_fft.rfft(seg, n) * np.conj(sp_fft.rfft(template, n))
    num = sp_fft.irfft(spectrum, n)[: 2 * max_lag + 1].astype(np.float64)
    energy = sliding_energy(seg, len(template))
    norm = np.sqrt(np.maximum(energy, 1e-30) * float(np.dot(template, template, out=None)))
    return num, norm


def align(
    original: NDArray[np.floating],
    returned: NDArray[np.floating],
    *,
    start: int,
    end: int,
    sr: int,
    max_lag: int = MAX_LAG,
    min_ncc: float = MIN_NCC,
    offset: int = 0,
) -> Alignment:
    """Find lag and gain of ``returned`` against ``original`` on the context around ``[start, end)``.

    Parameters
    ----------
    original : np.ndarray [shape=(frames, channels)]
    returned : np.ndarray [shape=(frames2, channels)]
        Already at the original's sample rate and channel count.
    start, end : int
        The regenerated range; it and a 0.25 s guard band on each side are ignored.
    sr : int
    max_lag : int
        Largest lag searched, either way.
    min_ncc : float
        Lowest normalised correlation accepted.
    offset : int
        The frame of the whole answer that ``returned`` starts at, when it is a part of it
        (silence elsewhere).

    Raises
    ------
    AlignmentError
        When there is no context to align on, the correlation is below ``min_ncc``, or the
        left and right contexts disagree on the lag by more than one sample.
    """
    if original.ndim != 2 or returned.ndim != 2 or original.shape[1] != returned.shape[1]:
        raise AudioParameterError(f"returned: shape {returned.shape} does not match original {original.shape}")
    guard = round(GUARD_S * sr)
    reach = round(MAX_CONTEXT_S * sr)
    n = len(original)
    spans = [(max(0, start - guard - reach), max(0, start - guard)), (min(n, end + guard), min(n, end + guard + reach))]
    left, right = (_side_correlation(original, returned, lo, hi, max_lag, offset) for lo, hi in spans)
    sides = [s for s in (left, right) if s is not None]
    if not sides:
        raise AlignmentError(
            f"context = {start / sr:.3f}..{end / sr:.3f} s: less than {GUARD_S} s of context"
            " outside the range to align on"
        )
    ncc_all = np.sum([s[0] for s in sides], axis=0) / np.sum([s[1] for s in sides], axis=0)
    best = int(np.argmax(ncc_all))
    lag = best - max_lag
    ncc = float(ncc_all[best])
    lags = [int(np.argmax(s[0] / s[1])) - max_lag if s is not None else None for s in (left, right)]
    if ncc < min_ncc:
        raise AlignmentError(
            f"returned audio: correlation {ncc:.2f} with the original context is below {min_ncc:.2f};"
            " the engine did not reproduce the context, refusing to splice"
        )
    if lags[0] is not None and lags[1] is not None and abs(lags[0] - lags[1]) > 1:
        raise AlignmentError(
            f"returned audio: left context lags {lags[0]} samples, right {lags[1]};"
            " the engine changed the timing (resampled at a wrong rate?), refusing to splice"
        )
    gain = _fit_gain(original, returned, lag - offset, spans)
    return Alignment(lag=lag, ncc=ncc, gain=gain, lag_left=lags[0], lag_right=lags[1])


def _fit_gain(
    original: NDArray[np.floating], returned: NDArray[np.floating], lag: int, spans: list[tuple[int, int]]
) -> float:
    num = 0.0
    den = 0.0
    for lo, hi in spans:
        lo2, hi2 = max(lo, -lag), min(hi, len(returned) - lag)
        if hi2 <= lo2:
            continue
        o = original[lo2:hi2].astype(np.float64)
        r = returned[lo2 + lag : hi2 + lag].astype(np.float64)
        num += float(np.sum(o * r))
        den += float(np.sum(r * r))
    if den <= 0.0 or num <= 0.0:
        return 1.0
    limit = 10.0 ** (MAX_GAIN_DB / 20.0)
    return float(np.clip(num / den, 1.0 / limit, limit))


def apply_alignment(returned: NDArray[np.floating], alignment: Alignment, frames: int,
                    offset: int = 0) -> NDArray[np.float32]:
    """``returned`` (frame ``offset`` of the answer onwards) shifted by the lag, scaled by the gain,
    cut or zero-padded to ``frames``."""
    out = np.zeros((frames, returned.shape[1]), dtype=np.float32)
    lag = alignment.lag - offset
    lo, hi = max(0, -lag), min(frames, len(returned) - lag)
    if hi > lo:
        np.multiply(returned[lo + lag : hi + lag], np.float32(alignment.gain), out=out[lo:hi])
    return out


def _read_span(frames: int, returned_sr: int, *, sr: int, start: int, end: int,
               needed: tuple[int, int]) -> tuple[int, int]:
    """The frames of a returned answer ``frames`` long that :func:`fit_returned` reads with these
    arguments: the rest need not be decoded."""
    reach = round((GUARD_S + MAX_CONTEXT_S) * sr) + MAX_LAG
    return _input_span(frames, returned_sr, sr, lo=min(start - reach, needed[0]), hi=max(end + reach, needed[1]))


def fit_returned(
    original: NDArray[np.floating],
    returned: NDArray[np.floating] | EncodedAudio,
    returned_sr: int,
    *,
    sr: int,
    start: int,
    end: int,
    needed: tuple[int, int] | None = None,
) -> tuple[NDArray[np.float32], Alignment]:
    """Bring an engine's rendering onto the original: resample, map channels, align, gain.

    With ``needed``, only the frames the caller reads (a splice reads the range) and the
    context the lag is searched on are resampled, and of an answer still encoded only the
    frames those come from are decoded. The rest of the fitted audio is silence.
    Returns the fitted audio [shape=original.shape] and the :class:`Alignment` used.
    """
    channels = original.shape[1]
    if needed is None:
        audio, at = _at_rate(returned[0 : len(returned)], returned_sr, sr, channels), 0
    else:
        span = _read_span(len(returned), returned_sr, sr=sr, start=start, end=end, needed=needed)
        audio, at = _resampled_part(returned, returned_sr, sr, span=span, channels=channels)
    alignment = align(original, audio, start=start, end=end, sr=sr, offset=at)
    return apply_alignment(audio, alignment, len(original), offset=at), alignment


def _at_rate(x: NDArray[np.floating], sr_in: int, sr: int, channels: int) -> NDArray[np.float32]:
    """``x`` resampled to ``sr`` and mapped to ``channels`` channels."""
    return map_channels(resample(np.asarray(x, dtype=np.float32), sr_in, sr), channels)


def _input_span(frames: int, returned_sr: int, sr: int, *, lo: int, hi: int) -> tuple[int, int]:
    """The input frames to resample for output frames ``[lo, hi)``, cut on the rates' common grid so
    the part lands on whole output frames, with :data:`FILTER_MARGIN_S` more each side for the
    resampler to settle; all of them when that is most of the answer anyway."""
    step_in = returned_sr // gcd(sr, returned_sr)
    margin = round(FILTER_MARGIN_S * returned_sr)
    a = max(0, (lo * returned_sr // sr - margin) // step_in * step_in)
    b = min(frames, hi * returned_sr // sr + margin)
    return (0, frames) if b - a >= 0.8 * frames else (a, b)


def _resampled_part(returned: NDArray[np.floating] | EncodedAudio, returned_sr: int, sr: int, *,
                    span: tuple[int, int], channels: int) -> tuple[NDArray[np.float32], int]:
    """The frames ``span`` of ``returned`` (see :func:`_input_span`) at ``sr`` with ``channels``
    channels, and the frame of the whole answer at ``sr`` they start at."""
    a, b = span
    total = round(len(returned) * sr / returned_sr)
    step = gcd(sr, returned_sr)
    at = a // (returned_sr // step) * (sr // step)
    return _at_rate(returned[a:b], returned_sr, sr, channels)[: max(0, total - at)], at


def place_returned(
    returned: NDArray[np.floating], returned_sr: int, *, sr: int, frames: int, channels: int, needed: int
) -> NDArray[np.float32]:
    """New audio that starts at frame 0 of the excerpt: resampled, channel-mapped, cut to ``frames``.

    Used where there is no context to align on (text-to-audio, audio-to-audio).

    Raises
    ------
    AlignmentError
        When the audio is shorter than ``needed`` frames, the part it must cover.
    """
    audio = _at_rate(returned, returned_sr, sr, channels)
    if len(audio) < needed:
        raise AlignmentError(
            f"returned audio: {len(audio) / sr:.3f} s long, shorter than the {needed / sr:.3f} s it must fill"
        )
    out = np.zeros((frames, channels), dtype=np.float32)
    n = min(frames, len(audio))
    out[:n] = audio[:n]
    return out
