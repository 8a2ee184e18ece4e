"""Splicing new audio into the original: correlation-aware constant-power crossfades.

For two signals with correlation ``rho`` over the fade, the gains ``g_in`` (new) and
``g_out`` (old) keep the power constant when ``g_in² + g_out² + 2·rho·g_in·g_out = 1``.
Bristow-Johnson's solution takes the odd part ``o(t) = ½·sin(π(2t − 1)/2)`` and the even
part ``e(t) = √((1 − 2(1 − rho)·o²) / (2(1 + rho)))``, with ``g_in = e + o`` and
``g_out = e − o``: half-cosine equal gain at ``rho = 1`` (aligned, near-identical audio),
sine/cosine equal power at ``rho = 0`` (unrelated audio).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from bridge.errors import AudioParameterError

__all__ = ["correlation", "crossfade_gains", "sliding_energy", "splice"]


def correlation(a: NDArray[np.floating], b: NDArray[np.floating]) -> float:
    """Normalised correlation of two equally shaped signals, clamped to ``[0, 1]``.

    Silence on either side counts as unrelated (0), so the fade falls back to equal power.
    """
    a64 = np.asarray(a, dtype=np.float64).ravel()
    b64 = np.asarray(b, dtype=np.float64).ravel()
    denom = float(np.sqrt((a64 @ a64) * (b64 @ b64)))
    if denom <= 0.0:
        return 0.0
    return float(np.clip((a64 @ b64) / denom, 0.0, 1.0))


def sliding_energy(x: NDArray[np.floating], width: int) -> NDArray[np.float64]:
    """Energy of every ``width``-sample window of ``x`` [shape=(n,)]: ``n - width + 1`` values."""
    c = np.concatenate([[0.0], np.cumsum(np.asarray(x, dtype=np.float64) ** 2)])
    out: NDArray[np.float64] = np.maximum(c[width:] - c[:-width], 0.0)
    return out


def crossfade_gains(length: int, rho: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Fade-in and fade-out gains for a constant-power crossfade of ``length`` samples.

    Parameters
    ----------
    length : int
        Number of samples in the fade, ``>= 1``.
    rho : float
        Correlation of the two signals over the fade, clamped to ``[0, 1]``.

    Returns
    -------
    g_in, g_out : np.ndarray [shape=(length,)]
        ``g_in`` rises from about 0 to about 1, ``g_out`` mirrors it, and
        ``g_in² + g_out² + 2·rho·g_in·g_out == 1`` at every sample.
    """
    if length < 1:
        raise AudioParameterError(f"length = {length}: a fade needs at least 1 sample")
    rho = float(np.clip(rho, 0.0, 1.0))
    t = (np.arange(length) + 0.5) / length
    odd = 0.5 * np.sin(np.pi * (2.0 * t - 1.0) / 2.0)
    even = np.sqrt((1.0 - 2.0 * (1.0 - rho) * odd**2) / (2.0 * (1.0 + rho)))
    return even + odd, even - odd


def splice(
    original: NDArray[np.floating],
    patch: NDArray[np.floating],
    *,
    start: int,
    end: int,
    fade: int,
) -> tuple[NDArray[np.floating], tuple[float, float]]:
    """Crossfade ``patch`` into ``original`` inside ``[start, end)``.

    Parameters
    ----------
    original : np.ndarray [shape=(frames, channels)]
    patch : np.ndarray [shape=(frames, channels)]
        New audio, already aligned to ``original`` sample for sample.
    start, end : int
        The range to replace, end exclusive.
    fade : int
        Length of each transition zone, in samples; ``0`` cuts hard. The fades lie
        inside the range: ``[start, start + fade)`` and ``[end - fade, end)``.

    Returns
    -------
    out : np.ndarray [shape=(frames, channels)]
        ``original`` outside ``[start, end)`` exactly, ``patch`` in the middle.
    rhos : (float, float)
        The correlation measured over each transition zone.
    """
    if original.shape != patch.shape or original.ndim != 2:
        raise AudioParameterError(f"patch: shape {patch.shape} does not match original {original.shape}")
    if not 0 <= start < end <= len(original):
        raise AudioParameterError(f"start, end = {start}, {end}: need 0 <= start < end <= {len(original)}")
    if fade < 0 or 2 * fade > end - start:
        raise AudioParameterError(f"fade = {fade}: must be in range 0..{(end - start) // 2} for this range")
    region = patch[start:end]
    if not np.all(np.isfinite(region)):
        raise AudioParameterError("patch: holds NaN or infinite samples inside the range")
    out = original.copy()
    out[start:end] = region
    rhos = (1.0, 1.0)
    if fade:
        head = slice(start, start + fade)
        tail = slice(end - fade, end)
        rho_in = correlation(original[head], patch[head])
        rho_out = correlation(original[tail], patch[tail])
        g_in, g_out = crossfade_gains(fade, rho_in)
        out[head] = original[head] * g_out[:, None] + patch[head] * g_in[:, None]
        g_in, g_out = crossfade_gains(fade, rho_out)
        out[tail] = patch[tail] * g_out[:, None] + original[tail] * g_in[:, None]
        rhos = (rho_in, rho_out)
    return out, rhos
