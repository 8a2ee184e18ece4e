"""Context fill: regenerate ``x[start:end]`` from the audio around it, with no model.

* Gaps up to :data:`SHORT_GAP_S` (100 ms): two-sided AR least squares (Etter 1996) with
  Burg models of the context on each side, per channel.
* Longer gaps: exemplar search. The passage whose surroundings best match the gap's
  surroundings (log band spectra, one second each side, at the same offset) is copied in,
  refined to the sample by waveform correlation at each seam, level-matched (within
  ±6 dB), and joined to the context by AR bridges with a correlation-aware crossfade.
  The search covers whatever ``x`` holds; callers bound it by the window they pass.

Samples outside ``[start, end)`` are returned untouched.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy import fft as sp_fft
from scipy.signal import correlate

from bridge.audio.ar import ArModel, burg, extrapolate, fill_two_sided
from bridge.audio.splice import correlation, crossfade_gains, sliding_energy
from bridge.errors import AudioParameterError

__all__ = ["SHORT_GAP_S", "FillInfo", "fill", "fill_range", "fill_reach"]

SHORT_GAP_S = 0.100
"""Gaps up to this length are filled by AR least squares, longer ones by exemplar search."""

AR_ORDER_44K = 768
AR_CONTEXT_44K = 3072
SEARCH_CONTEXT_S = 1.0
SEAM_WINDOW_S = 0.040
MAX_LEVEL_DB = 6.0
SEAM_LEVEL_DB = 6.0
"""Level difference at a seam that costs a donor as much as a fully uncorrelated seam."""
NEAR_BEST = 1.5
"""Donors scoring within this factor of the best are the variations a seed can pick."""

Signal = NDArray[np.float64]


@dataclass(frozen=True)
class FillInfo:
    """How a fill was made, for the take's manifest."""

    method: str
    donor_offset_s: float | None = None
    donor_offset_right_s: float | None = None
    match_score: float | None = None
    match_contrast: float | None = None
    level_db: float = 0.0
    variation: int = 0
    variations: int = 1
    notes: tuple[str, ...] = field(default_factory=tuple)


def fill(
    x: NDArray[np.floating], sr: int, start: int, end: int, *, seed: int = 0
) -> NDArray[np.floating]:
    """Fill ``x[start:end]`` from its surroundings.

    Parameters
    ----------
    x : np.ndarray [shape=(frames,) or (frames, channels)]
        Real floating-point audio.
    sr : int
        Sample rate in Hz.
    start, end : int
        The range to regenerate, in frames, end exclusive.
    seed : int
        Picks among near-equal donor passages for long gaps (0 = the best match).

    Returns
    -------
    np.ndarray
        Same shape and dtype as ``x``; ``[start, end)`` filled, every other sample untouched.
    """
    body, _ = fill_range(x, sr, start, end, seed=seed)
    out = np.array(x, copy=True)
    out[start:end] = body
    return out


def fill_range(
    x: NDArray[np.floating],
    sr: int,
    start: int,
    end: int,
    *,
    seed: int = 0,
    bridge: int | None = None,
) -> tuple[NDArray[np.floating], FillInfo]:
    """The new samples for ``x[start:end]`` (same shape and dtype) and how they were made.

    Arguments as for :func:`fill`; ``bridge`` is the length in frames of the AR bridges that
    join a long fill to its context (default 20 ms; at most a quarter of the gap is used).
    ``x`` itself is not modified or copied.
    """
    arr = np.asarray(x)
    _check_args(arr, sr, start, end, seed, bridge)
    if end - start <= round(SHORT_GAP_S * sr):
        # the AR fill reads only its own context: work on that neighbourhood alone
        lo, hi = fill_reach(len(arr), sr, start, end)
        near = arr[lo:hi].reshape(hi - lo, -1).astype(np.float64)
        _check_finite(near, start - lo, end - lo)
        body, info = _fill_short(near, sr, start - lo, end - lo)
    else:
        frames = arr.reshape(len(arr), -1)  # as given: only the parts used are made float64
        _check_finite(frames, start, end)
        bridge = round(0.020 * sr) if bridge is None else bridge
        body, info = _fill_long(frames, sr, start, end, seed=seed, bridge=bridge)
    return body.reshape(arr[start:end].shape).astype(arr.dtype, copy=False), info


def fill_reach(frames: int, sr: int, start: int, end: int) -> tuple[int, int]:
    """The frames ``[lo, hi)`` of a ``frames``-long signal that filling ``[start, end)`` reads.

    A short gap reads only its AR neighbourhood, a long one everything (the donor search),
    so a caller that ships the audio elsewhere (another process) can send just this part.
    """
    if end - start <= round(SHORT_GAP_S * sr):
        order, context = _ar_sizes(sr)
        return max(0, start - context - order), min(frames, end + context + order)
    return 0, frames


def _check_args(x: NDArray[np.generic], sr: int, start: int, end: int, seed: int, bridge: int | None) -> None:
    if x.ndim not in (1, 2) or not np.issubdtype(x.dtype, np.floating):
        raise AudioParameterError(
            f"x: expected float audio of shape (frames,) or (frames, channels), got {x.dtype} {x.shape}"
        )
    if sr <= 0:
        raise AudioParameterError(f"sr = {sr}: must be > 0")
    if not 0 <= start < end <= len(x):
        raise AudioParameterError(f"start, end = {start}, {end}: need 0 <= start < end <= {len(x)}")
    if start == 0 and end == len(x):
        raise AudioParameterError(f"start, end = {start}, {end}: the range covers all of x, nothing to fill from")
    if seed < 0:
        raise AudioParameterError(f"seed = {seed}: must be >= 0")
    if bridge is not None and bridge < 0:
        raise AudioParameterError(f"bridge = {bridge}: must be >= 0 frames")


def _check_finite(x: NDArray[np.floating], start: int, end: int) -> None:
    """Refuse NaN or infinite samples in the audio the fill reads (the range itself may hold any)."""
    if not (np.isfinite(x[:start]).all() and np.isfinite(x[end:]).all()):
        raise AudioParameterError("x: holds NaN or infinite samples outside the range")


def _ar_sizes(sr: int) -> tuple[int, int]:
    scale = sr / 44100.0
    return max(8, round(AR_ORDER_44K * scale)), max(32, round(AR_CONTEXT_44K * scale))


def _side_models(x: NDArray[np.floating], sr: int, start: int, end: int) -> tuple[list[ArModel], list[ArModel], int]:
    """Burg models of the context before and after the gap, per channel, and their order."""
    order, context = _ar_sizes(sr)
    left = x[max(0, start - context) : start].T
    right = x[end : end + context].T
    sides = [side for side in (left, right) if side.shape[1] > 1]
    order = min([order] + [side.shape[1] // 2 for side in sides])
    silent = [ArModel(np.ones(1), 0.0)] * x.shape[1]
    if len(sides) == 2 and left.shape == right.shape:
        fitted = burg(np.concatenate([left, right]), order)
        return fitted[: len(left)], fitted[len(left) :], order
    fwd = burg(left, order) if left.shape[1] > 1 else silent
    bwd = burg(right, order) if right.shape[1] > 1 else silent
    return fwd, bwd, order


def _fill_short(x: Signal, sr: int, start: int, end: int) -> tuple[Signal, FillInfo]:
    fwd, bwd, order = _side_models(x, sr, start, end)
    has_left = start >= order and fwd[0].order > 0
    has_right = len(x) - end >= order and bwd[0].order > 0
    gap = end - start
    out = np.zeros((gap, x.shape[1]))
    for c in range(x.shape[1]):
        if has_left and has_right:
            segment = x[start - order : end + order, c]
            out[:, c] = fill_two_sided(segment, (order, order + gap), fwd[c], bwd[c])
        elif has_left:
            out[:, c] = extrapolate(x[:start, c], fwd[c], gap)
        elif has_right:
            out[:, c] = extrapolate(x[end:, c][::-1], bwd[c], gap)[::-1]
    return out, FillInfo(method="ar-two-sided" if has_left and has_right else "ar-one-sided")


# ---------------------------------------------------------------- long gaps


@dataclass(frozen=True)
class _Features:
    bands: Signal  # (frames, bands) log band energies
    valid: NDArray[np.bool_]  # frame lies inside x and clear of the gap
    hop: int
    n_fft: int


MONO_BLOCK = 1 << 20
"""Frames per block of the float64 mono mix."""
FEATURE_BLOCK = 256
"""Frames per block of the band-energy features (a few MB of spectra at a time)."""


def _band_features(mono: Signal, sr: int, start: int, end: int) -> _Features:
    n_fft = int(2 ** round(np.log2(2048 * sr / 44100.0)))
    hop = n_fft // 2
    count = max(0, (len(mono) - n_fft) // hop + 1)
    if count == 0:
        return _Features(np.zeros((0, 1)), np.zeros(0, dtype=bool), hop, n_fft)
    window = np.hanning(n_fft)
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    edges = np.geomspace(40.0, min(16000.0, sr / 2), 65)
    which = np.clip(np.searchsorted(edges, freqs) - 1, -1, 63)
    selections = [(b, which == b) for b in range(64) if np.any(which == b)]
    bands = np.zeros((count, 64))
    # a block of frames at a time: the whole window's spectrogram would be several times the audio
    for first in range(0, count, FEATURE_BLOCK):
        rows = np.arange(first, min(count, first + FEATURE_BLOCK))
        idx = rows[:, None] * hop + np.arange(n_fft)[None, :]
        spectra = np.abs(np.fft.rfft(mono[idx] * window, axis=1)) ** 2
        for b, sel in selections:
            bands[rows, b] = spectra[:, sel].sum(axis=1)
    floor = max(float(bands.max()) * 1e-9, 1e-20)
    starts = np.arange(count) * hop
    valid = (starts + n_fft <= start) | (starts >= end)
    return _Features(np.log10(bands + floor), valid, hop, n_fft)


def _context_frames(feat: _Features, start: int, end: int, count: int) -> tuple[range, range]:
    last_left = (start - feat.n_fft) // feat.hop
    first_right = -(-end // feat.hop)
    total = len(feat.bands)
    left = range(max(0, last_left - count + 1), max(0, last_left + 1))
    right = range(min(first_right, total), min(first_right + count, total))
    return left, right


def _shift_scores(feat: _Features, template: range, shifts: NDArray[np.int64]) -> tuple[Signal, Signal]:
    """Weighted squared distance of the template frames to the frames ``shift`` later, per shift."""
    total = len(feat.bands)
    if len(template) == 0:
        return np.zeros(len(shifts)), np.zeros(len(shifts))
    t = feat.bands[template.start : template.stop]
    length = len(t)
    pad = total + length
    w = np.zeros(total + 2 * pad)
    f = np.zeros((total + 2 * pad, t.shape[1]))
    w[pad : pad + total] = feat.valid
    f[pad : pad + total] = feat.bands * feat.valid[:, None]
    f2 = (f**2).sum(axis=1)
    ones = np.ones(length)
    tt = (t**2).sum(axis=1)
    # slide the template over every position p of the padded axis
    cross = _band_correlation(f, t)
    energy = correlate(f2, ones, mode="valid", method="fft")
    tmass = correlate(w, tt, mode="valid", method="fft")
    count = correlate(w, ones, mode="valid", method="fft")
    pos = pad + template.start + shifts
    ssd = energy[pos] - 2.0 * cross[pos] + tmass[pos]
    return np.maximum(ssd, 0.0), np.rint(count[pos])


def _band_correlation(f: Signal, t: Signal) -> Signal:
    """``Σ_b Σ_k f[p + k, b] · t[k, b]`` for every ``p`` where ``t`` fits in ``f`` (valid correlation,
    summed over bands): the bands' spectra multiplied and summed one band at a time, one inverse FFT."""
    n = sp_fft.next_fast_len(len(f), real=True)
    acc = np.zeros(n // 2 + 1, dtype=np.complex128)
    for b in range(f.shape[1]):
        acc += sp_fft.rfft(f[:, b], n) * np.conj(sp_fft.rfft(t[:, b], n))
    return np.asarray(sp_fft.irfft(acc, n)[: len(f) - len(t) + 1], dtype=np.float64)


def _fill_long(x: NDArray[np.floating], sr: int, start: int, end: int, *, seed: int,
               bridge: int) -> tuple[Signal, FillInfo]:
    gap = end - start
    mono = _mono(x)
    feat = _band_features(mono, sr, start, end)
    ctx_frames = max(1, round(SEARCH_CONTEXT_S * sr / feat.hop))
    left, right = _context_frames(feat, start, end, ctx_frames)
    seam = round(SEAM_WINDOW_S * sr)
    reach = feat.hop // 2 + round(0.005 * sr)
    # donor bodies must lie inside x and clear of the gap, with room for the seam search
    lo, hi = -start + reach, len(x) - end - reach
    shifts = np.arange(-(len(feat.bands) + 1), len(feat.bands) + 2, dtype=np.int64)
    offsets = shifts * feat.hop
    body_ok = (offsets >= lo) & (offsets <= hi) & ((offsets >= gap + reach) | (offsets <= -gap - reach))
    ssd_l, n_l = _shift_scores(feat, left, shifts)
    ssd_r, n_r = _shift_scores(feat, right, shifts)
    counted = n_l + n_r
    if not np.any(body_ok):
        raise AudioParameterError(
            f"start, end = {start}, {end}: no passage of {gap / sr:.2f} s clear of the range to copy from;"
            " give the engine more context or a shorter range"
        )
    if np.any(body_ok & (counted > 0)):
        score = np.where(body_ok & (counted > 0), (ssd_l + ssd_r) / np.maximum(counted, 1), np.inf)
    else:
        score = np.where(body_ok, _body_distance(feat, left, right, shifts, gap), np.inf)
    ok = np.isfinite(score)
    candidates = _distinct_candidates(score, spacing=max(1, gap // feat.hop))
    best = float(score[candidates[0]])
    median = float(np.median(score[ok]))
    near = [c for c in candidates if score[c] <= best * NEAR_BEST + 1e-12][:8]
    seams = [_seam_offsets(mono, start, end, int(offsets[c]), reach, seam, (lo, hi)) for c in near]
    ranked = sorted(range(len(near)), key=lambda i: -seams[i][2])
    choice = ranked[seed % len(ranked)]
    off_l, off_r, _ = seams[choice]
    body = _join_copies(x, start, end, off_l, off_r)
    level_db = _level_match(x, start, end, (off_l + off_r) // 2, round(SEARCH_CONTEXT_S * sr))
    body *= 10.0 ** (level_db / 20.0)
    body = _bridge(x, sr, start, end, body, min(bridge, gap // 4))
    contrast = best / median if median > 0 else 1.0
    notes: tuple[str, ...] = ()
    if contrast > 0.8:
        notes = ("no passage resembles the surroundings closely; a generative engine may do better",)
    info = FillInfo(
        method="exemplar",
        donor_offset_s=off_l / sr,
        donor_offset_right_s=off_r / sr,
        match_score=best,
        match_contrast=contrast,
        level_db=level_db,
        variation=seed % len(ranked),
        variations=len(ranked),
        notes=notes,
    )
    return body, info


def _body_distance(feat: _Features, left: range, right: range, shifts: NDArray[np.int64], gap: int) -> Signal:
    """Distance of each donor body's mean spectrum to the mean spectrum of the gap's context."""
    frames = [*left, *right]
    target = feat.bands[frames].mean(axis=0) if frames else feat.bands.mean(axis=0)
    span = max(1, gap // feat.hop)
    first = (left.stop if len(left) else 0) + shifts
    csum = np.concatenate([np.zeros((1, feat.bands.shape[1])), np.cumsum(feat.bands, axis=0)])
    lo = np.clip(first, 0, len(feat.bands))
    hi = np.clip(first + span, 0, len(feat.bands))
    means = (csum[hi] - csum[lo]) / np.maximum(hi - lo, 1)[:, None]
    return np.where(hi > lo, ((means - target) ** 2).sum(axis=1), np.inf)


def _distinct_candidates(score: Signal, *, spacing: int) -> list[int]:
    """Indices of finite scores, best first, each at least ``spacing`` from any better one."""
    order = np.argsort(score)
    taken: list[int] = []
    for idx in order[: 4096]:
        if not np.isfinite(score[idx]):
            break
        if all(abs(int(idx) - t) >= spacing for t in taken):
            taken.append(int(idx))
            if len(taken) >= 16:
                break
    return taken


def _seam_offsets(
    mono: Signal, start: int, end: int, guess: int, reach: int, seam: int, bounds: tuple[int, int]
) -> tuple[int, int, float]:
    """Refined donor offsets at the left and right seams, and how well they match there.

    The match is the summed waveform correlation of the seam windows (the context next to
    each seam against the donor's own surroundings at the same place), less a penalty of
    one per :data:`SEAM_LEVEL_DB` of level difference between them: correlation alone
    cannot tell a quiet passage from a loud one of the same shape.
    """
    lo, hi = max(bounds[0], guess - reach), min(bounds[1], guess + reach)
    left = _refine(mono, start, -seam, guess, lo, hi, start, end) if start >= seam else (guess, 0.0)
    right = _refine(mono, end, seam, guess, lo, hi, start, end) if len(mono) - end >= seam else (guess, 0.0)
    mismatch = 0.0
    if start >= seam:
        mismatch += _level_gap(mono[start - seam : start], mono[start - seam + left[0] : start + left[0]])
    if len(mono) - end >= seam:
        mismatch += _level_gap(mono[end : end + seam], mono[end + right[0] : end + seam + right[0]])
    return left[0], right[0], left[1] + right[1] - mismatch / SEAM_LEVEL_DB


def _level_gap(a: Signal, b: Signal) -> float:
    """Level difference of two windows in dB (capped at 60)."""
    ea, eb = float(a @ a), float(b @ b)
    if ea <= 0.0 or eb <= 0.0:
        return 0.0 if ea == eb else 60.0
    return min(60.0, abs(10.0 * math.log10(ea / eb)))


def _refine(
    mono: Signal, at: int, width: int, guess: int, lo: int, hi: int, start: int, end: int
) -> tuple[int, float]:
    """Donor offset near ``guess`` whose waveform best matches the context at the seam ``at``.

    ``width`` < 0 compares the ``-width`` samples before the seam, > 0 those after it.
    """
    a, b = (at + width, at) if width < 0 else (at, at + width)
    template = mono[a:b]
    if not np.any(template):
        return guess, 0.0
    lo, hi = max(lo, -a), min(hi, len(mono) - b)
    if hi < lo:
        return guess, 0.0
    candidates = np.arange(lo, hi + 1)
    seg = mono[a + lo : b + hi]
    num = correlate(seg, template, mode="valid", method="fft")
    energy = sliding_energy(seg, len(template))
    ncc = num / np.sqrt(np.maximum(energy, 1e-20) * float(template @ template))
    # keep donor seams clear of the gap itself
    ncc[(a + candidates < end) & (b + candidates > start)] = -np.inf
    best = int(np.argmax(ncc))
    if not np.isfinite(ncc[best]):
        return guess, 0.0
    return int(candidates[best]), float(ncc[best])


def _mono(x: NDArray[np.floating]) -> Signal:
    """The channels' mean in float64, a block at a time (no float64 copy of the whole window)."""
    weights = np.full(x.shape[1], 1.0 / x.shape[1])
    out = np.empty(len(x))
    for i in range(0, len(x), MONO_BLOCK):
        out[i : i + MONO_BLOCK] = x[i : i + MONO_BLOCK].astype(np.float64) @ weights
    return out


def _join_copies(x: NDArray[np.floating], start: int, end: int, off_l: int, off_r: int) -> Signal:
    gap = end - start
    left = x[start + off_l : end + off_l].astype(np.float64)
    if off_l == off_r:
        return left
    right = x[start + off_r : end + off_r].astype(np.float64)
    fade = max(1, min(gap // 2, round(gap * 0.25)))
    mid = (gap - fade) // 2
    out = np.empty_like(left)
    out[:mid] = left[:mid]
    out[mid + fade :] = right[mid + fade :]
    a, b = left[mid : mid + fade], right[mid : mid + fade]
    g_in, g_out = crossfade_gains(fade, correlation(a, b))
    out[mid : mid + fade] = a * g_out[:, None] + b * g_in[:, None]
    return out


def _level_match(x: NDArray[np.floating], start: int, end: int, offset: int, context: int) -> float:
    def around(s: int, e: int) -> float:
        parts = [x[max(0, s - context) : max(0, s)], x[min(len(x), e) : min(len(x), e + context)]]
        count = sum(p.size for p in parts)
        if not count:
            return 0.0
        # the mean square in float64, a block at a time: no float64 copy of two minutes of context
        total = sum(float(np.sum(np.square(p[i : i + MONO_BLOCK], dtype=np.float64)))
                    for p in parts for i in range(0, len(p), MONO_BLOCK))
        return math.sqrt(total / count)

    here = around(start, end)
    there = around(start + offset, end + offset)
    if here <= 0.0 or there <= 0.0:
        return 0.0
    return float(np.clip(20.0 * np.log10(here / there), -MAX_LEVEL_DB, MAX_LEVEL_DB))


def _bridge(x: NDArray[np.floating], sr: int, start: int, end: int, body: Signal, length: int) -> Signal:
    """Fade from an AR continuation of each neighbouring context into the copied body."""
    if length <= 0:
        return body
    fwd, bwd, order = _side_models(x, sr, start, end)
    out = body.copy()
    for c in range(x.shape[1]):
        if start > 0 and fwd[c].order:
            lead = extrapolate(x[:start, c], fwd[c], length)
            seg = out[:length, c]
            g_in, g_out = crossfade_gains(length, correlation(lead, seg))
            out[:length, c] = lead * g_out + seg * g_in
        if end < len(x) and bwd[c].order:
            tail = extrapolate(x[end:, c][::-1], bwd[c], length)[::-1]
            seg = out[-length:, c]
            g_in, g_out = crossfade_gains(length, correlation(seg, tail))
            out[-length:, c] = seg * g_out + tail * g_in
    return out
