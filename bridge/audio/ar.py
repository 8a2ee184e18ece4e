"""Autoregressive models: Burg estimation, extrapolation and two-sided least-squares fills.

Arrays here are one-dimensional per series (the caller loops or batches over channels);
coefficients follow the ``a[0] = 1`` convention, so the prediction error of a series ``x``
is ``e[n] = sum(a[k] * x[n - k])``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.linalg import solve_toeplitz
from scipy.signal import lfilter, lfiltic

__all__ = ["ArModel", "burg", "extrapolate", "fill_two_sided"]

Float64 = NDArray[np.float64]

_TINY = 1e-20


class ArModel:
    """An AR model: coefficients ``a`` (``a[0] == 1``) and its prediction-error power."""

    __slots__ = ("a", "power")

    def __init__(self, a: Float64, power: float) -> None:
        self.a = a
        self.power = power

    @property
    def order(self) -> int:
        return len(self.a) - 1


def burg(series: NDArray[np.floating], order: int) -> list[ArModel]:
    """Fit AR models by Burg's method, one per row, all rows at once.

    Parameters
    ----------
    series : np.ndarray [shape=(rows, n)]
        Real-valued series; every row is fitted on its own.
    order : int
        Model order; clamped to ``n - 1``.

    Returns
    -------
    list of ArModel
        One model per row. A row without energy (digital silence) gets the
        zero predictor ``a = [1]`` with zero error power.
    """
    x = np.ascontiguousarray(series, dtype=np.float64)  # rows in memory order: vecdot runs 2x faster
    rows, n = x.shape
    p = max(0, min(order, n - 1))
    a = np.zeros((rows, p + 1))
    a[:, 0] = 1.0
    # forward and backward errors, updated in place: the forward ones alternate between two buffers
    # and start one column later each order, the backward ones end one column earlier
    fwd, spare, bwd = x[:, 1:].copy(), np.empty((rows, n - 1)), x[:, :-1].copy()
    den = np.vecdot(fwd, fwd) + np.vecdot(bwd, bwd)
    silent = den <= _TINY
    den[silent] = 1.0
    for i in range(p):
        m = n - 1 - i
        f, b, new_f = fwd[:, i : i + m], bwd[:, :m], spare[:, i : i + m]
        k = -2.0 * np.vecdot(b, f) / den
        kc = k[:, None]
        a[:, 1 : i + 2] += kc * a[:, i::-1]
        np.multiply(b, kc, out=new_f)
        new_f += f  # f + k·b
        f *= kc
        b += f  # b + k·f
        den = (1.0 - k**2) * den - new_f[:, 0] ** 2 - b[:, -1] ** 2
        np.maximum(den, _TINY, out=den)
        fwd, spare = spare, fwd
    power = den / max(2 * (n - 1 - p), 1)
    return [
        ArModel(np.ones(1), 0.0) if silent[row] else ArModel(a[row].copy(), float(power[row]))
        for row in range(rows)
    ]


def extrapolate(history: NDArray[np.floating], model: ArModel, count: int) -> Float64:
    """Continue ``history`` by ``count`` samples with the model driven by zero input.

    Parameters
    ----------
    history : np.ndarray [shape=(n,)]
        The samples just before the extrapolation, oldest first; the last
        ``model.order`` of them set the predictor's state.
    model : ArModel
    count : int

    Returns
    -------
    np.ndarray [shape=(count,)]
    """
    p = model.order
    if p == 0 or count <= 0:
        return np.zeros(max(count, 0))
    past = np.zeros(p)
    tail = np.asarray(history[-p:], dtype=np.float64)[::-1]  # only the state: never the whole history
    past[: len(tail)] = tail
    zi = lfiltic([1.0], model.a, past)
    out, _ = lfilter([1.0], model.a, np.zeros(count), zi=zi)
    return np.asarray(out, dtype=np.float64)


def fill_two_sided(
    segment: Float64, gap: tuple[int, int], forward: ArModel, backward: ArModel
) -> Float64:
    """Least-squares fill of ``segment[gap[0]:gap[1]]`` from two AR models (Etter 1996).

    The missing samples minimise the forward prediction error of ``forward`` plus the
    backward prediction error of ``backward`` over every error sample that involves
    them, each weighted by the inverse of its model's error power. That is one
    symmetric Toeplitz system, solved by Levinson recursion.

    Parameters
    ----------
    segment : np.ndarray [shape=(n,)]
        Samples around the gap, with at least ``max(forward.order, backward.order)``
        known samples on each side of it. Values inside the gap are ignored.
    gap : (int, int)
        Start and end (exclusive) of the missing block inside ``segment``.
    forward, backward : ArModel
        Models of the context before and after the gap.

    Returns
    -------
    np.ndarray [shape=(gap[1] - gap[0],)]
    """
    s, e = gap
    m = e - s
    z = np.array(segment, dtype=np.float64)
    z[s:e] = 0.0
    w_fwd, w_bwd = _model_weights(forward, backward)
    col_f, rhs_f = _normal_terms(z, s, e, forward)
    col_b, rhs_b = _normal_terms(z[::-1], len(z) - e, len(z) - s, backward)
    column = w_fwd * col_f + w_bwd * col_b
    rhs = w_fwd * rhs_f + w_bwd * rhs_b[::-1]
    if column[0] <= 0.0:
        return np.zeros(m)
    column[0] *= 1.0 + 1e-9
    return np.asarray(solve_toeplitz(column, rhs), dtype=np.float64)


def _normal_terms(z: Float64, s: int, e: int, model: ArModel) -> tuple[Float64, Float64]:
    """Normal-equation terms of the forward prediction error over the rows touching ``z[s:e]``.

    With ``z[s:e]`` zeroed, the error rows ``n`` in ``[s, e + p)`` are
    ``err[n] = sum_k a_k z[n - k]``; the gradient for unknown ``j`` is
    ``sum_k a_k err[s + j + k]``, and the Hessian is the Toeplitz matrix of the
    autocorrelation of ``a``.
    """
    m = e - s
    a = model.a
    p = model.order
    full = np.correlate(a, a, mode="full")[p:]
    column = np.zeros(m)
    column[: min(m, p + 1)] = full[: min(m, p + 1)]
    err = np.convolve(z[s - p : e + p], a)[p : m + 2 * p]
    rhs = -np.correlate(err, a, mode="valid")
    return column, rhs


def _model_weights(forward: ArModel, backward: ArModel) -> tuple[float, float]:
    """Inverse-error-power weights, normalised to sum to one; silent models get none."""
    inverse = [1.0 / m.power if m.power > 0.0 else 0.0 for m in (forward, backward)]
    total = sum(inverse)
    if total == 0.0:
        return (0.0, 0.0)
    return (inverse[0] / total, inverse[1] / total)
