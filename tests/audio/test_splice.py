from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.audio.splice import correlation, crossfade_gains, splice
from bridge.errors import AudioParameterError


@given(length=st.integers(1, 4000), rho=st.floats(0.0, 1.0))
def test_crossfade_keeps_power_constant(length: int, rho: float) -> None:
    g_in, g_out = crossfade_gains(length, rho)
    power = g_in**2 + g_out**2 + 2 * rho * g_in * g_out
    assert np.allclose(power, 1.0, atol=1e-9)
    assert len(g_in) == len(g_out) == length


def test_crossfade_ends() -> None:
    g_in, g_out = crossfade_gains(1000, 1.0)
    assert np.allclose(g_in + g_out, 1.0)  # equal gain for identical material
    g_in, g_out = crossfade_gains(1000, 0.0)
    assert np.allclose(g_in**2 + g_out**2, 1.0)  # equal power for unrelated material
    assert g_in[0] < 0.01 and g_in[-1] > 0.99


@settings(max_examples=60)
@given(
    frames=st.integers(200, 3000),
    channels=st.integers(1, 3),
    a=st.floats(0.0, 0.45),
    b=st.floats(0.55, 1.0),
    fade_frac=st.floats(0.0, 0.5),
    seed=st.integers(0, 1000),
)
def test_splice_is_bit_exact_outside_and_keeps_length(
    frames: int, channels: int, a: float, b: float, fade_frac: float, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    original = rng.standard_normal((frames, channels)).astype(np.float32)
    patch = rng.standard_normal((frames, channels)).astype(np.float32)
    start, end = int(a * frames), int(b * frames)
    fade = int(fade_frac * (end - start) // 2 * 2) // 2
    out, rhos = splice(original, patch, start=start, end=end, fade=fade)
    assert out.shape == original.shape
    assert np.array_equal(out[:start], original[:start])
    assert np.array_equal(out[end:], original[end:])
    assert np.array_equal(out[start + fade : end - fade], patch[start + fade : end - fade])
    assert all(0.0 <= r <= 1.0 for r in rhos)


def test_splice_of_identical_signals_is_seamless() -> None:
    x = np.sin(np.arange(48000) * 0.01)[:, None].astype(np.float32)
    out, rhos = splice(x, x.copy(), start=1000, end=40000, fade=960)
    assert rhos[0] > 0.999
    assert np.allclose(out, x, atol=1e-6)


@pytest.mark.parametrize(
    "start,end,fade,ctx",
    [
        (100, 900, 20, nullcontext()),
        (100, 900, 400, nullcontext()),
        (100, 900, 401, pytest.raises(AudioParameterError)),
        (100, 900, -1, pytest.raises(AudioParameterError)),
        (900, 100, 0, pytest.raises(AudioParameterError)),
        (0, 1001, 0, pytest.raises(AudioParameterError)),
    ],
)
def test_splice_arguments(start: int, end: int, fade: int, ctx: AbstractContextManager[object]) -> None:
    x = np.zeros((1000, 2), dtype=np.float32)
    with ctx:
        splice(x, x, start=start, end=end, fade=fade)


def test_splice_refuses_nan_patch() -> None:
    x = np.zeros((100, 1), dtype=np.float32)
    bad = x.copy()
    bad[50] = np.nan
    with pytest.raises(AudioParameterError, match="NaN"):
        splice(x, bad, start=10, end=90, fade=5)


def test_correlation_of_silence_is_zero() -> None:
    assert correlation(np.zeros(10), np.ones(10)) == 0.0
