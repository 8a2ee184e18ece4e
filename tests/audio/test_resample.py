from __future__ import annotations

import numpy as np
import pytest
import soxr

from bridge.audio.resample import resample
from bridge.audio.signals import loop


@pytest.mark.parametrize("channels,seconds", [(2, 3.0), (6, 1.5), (1, 3.0), (2, 0.5)])
def test_channels_resampled_side_by_side_are_the_samples_of_one_call(channels: int, seconds: float) -> None:
    x = loop(48000, seconds, channels=channels, seed=3)
    one_call = soxr.resample(np.ascontiguousarray(x, dtype=np.float32), 48000, 44100, quality="HQ")
    out = resample(x, 48000, 44100)
    assert out.dtype == np.float32 and out.shape == (round(len(x) * 44100 / 48000), channels)
    assert np.array_equal(out, np.asarray(one_call, dtype=np.float32).reshape(-1, channels))


def test_a_strided_view_is_resampled_as_its_copy() -> None:
    x = loop(44100, 2.0, channels=4, seed=1)[:, ::2]
    assert np.array_equal(resample(x, 44100, 48000), resample(np.ascontiguousarray(x), 44100, 48000))
