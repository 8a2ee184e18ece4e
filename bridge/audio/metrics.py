"""Objective scores for filled and spliced audio (audio-core.md §5).

* :func:`gap_snr`: SNR over the gap samples only, against the truth.
* :func:`lsd`: log-spectral distance with a −60 dB floor.
* :func:`click_z`: AR-residual click score at a seam; unedited music scores about 3.
* :func:`flux_ratio`: spectral flux at a seam against its surroundings; catches fills
  that decay or change character, which the click score misses.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.signal import lfilter, stft

from bridge.errors import AudioParameterError

__all__ = ["click_z", "flux_ratio", "gap_snr", "lsd", "rms_db"]

Audio = NDArray[np.floating]


def _mono(x: Audio) -> NDArray[np.float64]:
    arr = np.asarray(x, dtype=np.float64)
    return arr if arr.ndim == 1 else arr.mean(axis=1)


def gap_snr(truth: Audio, estimate: Audio) -> float:
    """``20·log10(‖truth‖ / ‖truth − estimate‖)`` in dB; ``inf`` for an exact match."""
    t = np.asarray(truth, dtype=np.float64).ravel()
    d = t - np.asarray(estimate, dtype=np.float64).ravel()
    err = float(np.linalg.norm(d))
    if err == 0.0:
        return float("inf")
    return float(20.0 * np.log10(max(float(np.linalg.norm(t)), 1e-300) / err))


def rms_db(x: Audio) -> float:
    """RMS level in dBFS; ``-inf`` for silence."""
    r = float(np.sqrt(np.mean(np.asarray(x, dtype=np.float64) ** 2)))
    return float(20.0 * np.log10(r)) if r > 0.0 else float("-inf")


def lsd(truth: Audio, estimate: Audio, *, n_fft: int = 2048, hop: int = 512) -> float:
    """Log-spectral distance in dB, power floored at −60 dB below the truth's peak bin."""
    t, e = _mono(truth), _mono(estimate)
    if len(t) != len(e):
        raise AudioParameterError(f"estimate: length {len(e)} differs from truth {len(t)}")
    nper = min(n_fft, len(t))
    _, _, pt = stft(t, nperseg=nper, noverlap=nper - min(hop, nper // 2), boundary=None)
    _, _, pe = stft(e, nperseg=nper, noverlap=nper - min(hop, nper // 2), boundary=None)
    power_t, power_e = np.abs(pt) ** 2, np.abs(pe) ** 2
    floor = max(float(power_t.max()) * 1e-6, 1e-30)
    diff = 10.0 * np.log10(np.maximum(power_t, floor) / np.maximum(power_e, floor))
    return float(np.mean(np.sqrt(np.mean(diff**2, axis=0))))


def click_z(x: Audio, seam: int, sr: int, *, order: int = 32) -> float:
    """AR-residual click score at ``seam`` (a frame index).

    An AR(``order``) model is fitted by least squares on ±200 ms around the seam,
    excluding ±4 ms; the score is the largest residual within ±1 ms of the seam over
    1.4826 × the median absolute residual of the window.
    """
    m = _mono(x)
    half, guard, near = round(0.2 * sr), round(0.004 * sr), max(1, round(0.001 * sr))
    lo, hi = max(0, seam - half), min(len(m), seam + half)
    w = m[lo:hi]
    s = seam - lo
    rows = np.arange(order, len(w))
    keep = rows[(rows < s - guard) | (rows - order >= s + guard)]
    if len(keep) <= order:
        raise AudioParameterError(f"seam = {seam}: too close to the ends for a click score")
    lags = np.stack([w[keep - k] for k in range(1, order + 1)], axis=1)
    coef, *_ = np.linalg.lstsq(lags, w[keep], rcond=None)
    resid = lfilter(np.concatenate([[1.0], -coef]), [1.0], w)[order:]
    mad = float(np.median(np.abs(resid - np.median(resid))))
    peak = float(np.max(np.abs(resid[max(0, s - near - order) : s + near + 1 - order])))
    if mad <= 0.0:
        return 0.0 if peak == 0.0 else float("inf")
    return peak / (1.4826 * mad)


def flux_ratio(x: Audio, seam: int, sr: int, *, n_fft: int = 1024, hop: int = 256) -> float:
    """Positive spectral flux at ``seam`` over its 99th percentile within ±1 s (excluding ±8 frames)."""
    m = _mono(x)
    span = round(1.0 * sr)
    lo, hi = max(0, seam - span), min(len(m), seam + span)
    w = m[lo:hi]
    count = (len(w) - n_fft) // hop + 1
    if count < 24:
        raise AudioParameterError(f"seam = {seam}: too close to the ends for a flux score")
    idx = np.arange(count)[:, None] * hop + np.arange(n_fft)[None, :]
    mag = np.abs(np.fft.rfft(w[idx] * np.hanning(n_fft), axis=1))
    logmag = np.log10(mag + 1e-5 * max(float(mag.max()), 1e-12))
    flux = np.maximum(np.diff(logmag, axis=0), 0.0).sum(axis=1)
    centres = (np.arange(1, count) * hop + n_fft // 2) + lo
    at = int(np.argmin(np.abs(centres - seam)))
    near = flux[max(0, at - 2) : at + 3]
    far = np.concatenate([flux[: max(0, at - 8)], flux[at + 9 :]])
    ref = float(np.percentile(far, 99)) if len(far) else 0.0
    if ref <= 0.0:
        return 0.0 if float(near.max()) == 0.0 else float("inf")
    return float(near.max()) / ref
