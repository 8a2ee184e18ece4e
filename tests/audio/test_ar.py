from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import lfilter

from bridge.audio.ar import burg, extrapolate, fill_two_sided


def burg_reference(x: np.ndarray, order: int) -> np.ndarray:
    """Textbook Burg, one series, recomputing every error energy."""
    a = np.zeros(order + 1)
    a[0] = 1.0
    f, b = x[1:].copy(), x[:-1].copy()
    for i in range(order):
        k = -2.0 * (b @ f) / (f @ f + b @ b)
        a[1 : i + 2] += k * a[i::-1]
        f, b = f + k * b, b + k * f
        f, b = f[1:], b[:-1]
    return a


@pytest.mark.parametrize("order", [1, 2, 16, 300])
def test_burg_matches_textbook_per_row(order: int) -> None:
    rng = np.random.default_rng(order)
    x = np.cumsum(rng.standard_normal((3, 2048)), axis=1) * 0.01 + np.sin(np.arange(2048) * 0.07)
    models = burg(x, order)
    for row, model in zip(x, models, strict=True):
        assert np.allclose(model.a, burg_reference(row, order), atol=1e-8)


def test_burg_silence_gives_zero_predictor() -> None:
    models = burg(np.zeros((2, 500)), 32)
    assert all(m.order == 0 and m.power == 0.0 for m in models)


def test_ar_process_is_recovered_and_filled() -> None:
    rng = np.random.default_rng(0)
    a_true = np.array([1.0, -1.9, 0.97])
    x = lfilter([1.0], a_true, rng.standard_normal(20000))
    model = burg(x[None, :8000], 2)[0]
    assert np.allclose(model.a, a_true, atol=0.02)
    gap = (10000, 10010)
    seg = x[gap[0] - 50 : gap[1] + 50]
    filled = fill_two_sided(seg, (50, 60), model, model)
    truth = x[gap[0] : gap[1]]
    zero_fill_error = np.linalg.norm(truth)
    assert np.linalg.norm(truth - filled) < 0.3 * zero_fill_error


def test_extrapolate_continues_a_sine() -> None:
    t = np.arange(4000)
    x = np.sin(0.05 * t)
    model = burg(x[None, :3000], 4)[0]
    cont = extrapolate(x[:3000], model, 100)
    assert np.allclose(cont, x[3000:3100], atol=2e-3)
