from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import butter, sosfilt

from bridge.audio.align import align, fit_returned
from bridge.audio.io import EncodedAudio
from bridge.audio.metrics import gap_snr
from bridge.audio.resample import resample
from bridge.audio.signals import loop
from bridge.errors import AlignmentError

SR = 44100
MUSIC = loop(SR, 12.0, channels=2, seed=4)
START, END = round(5.0 * SR), round(7.0 * SR)


def render(x: np.ndarray, *, lag: int, gain_db: float, seed: int) -> np.ndarray:
    """A model-like return: delayed, rescaled, high band altered, new content in the range."""
    rng = np.random.default_rng(seed)
    sos = butter(4, 8000, btype="high", fs=SR, output="sos")
    high = sosfilt(sos, x, axis=0)
    y = x - high + 0.8 * high
    y[START + 2000 : END - 2000] = 0.1 * rng.standard_normal((END - START - 4000, x.shape[1]))
    y = y * 10 ** (gain_db / 20)
    out = np.zeros_like(y)
    if lag >= 0:
        out[lag:] = y[: len(y) - lag]
    else:
        out[:lag] = y[-lag:]
    return np.asarray(out, dtype=np.float32)


@settings(max_examples=25)
@given(
    lag=st.sampled_from([-300, 0, 576, 1105, 2112, 2257]),
    gain_db=st.floats(-3.0, 2.0),
    seed=st.integers(0, 100),
)
def test_alignment_recovers_codec_delays_and_gain(lag: int, gain_db: float, seed: int) -> None:
    returned = render(MUSIC, lag=lag, gain_db=gain_db, seed=seed)
    fitted, alignment = fit_returned(MUSIC, returned, SR, sr=SR, start=START, end=END)
    assert alignment.lag == lag
    assert alignment.ncc >= 0.9
    assert abs(alignment.gain_db + gain_db) <= 0.25  # the gain undoes the change
    assert gap_snr(MUSIC[8192 : START - SR], fitted[8192 : START - SR]) >= 15.0


@pytest.mark.parametrize("lag", [1105, 2112])
def test_alignment_survives_resampling(lag: int) -> None:
    """A 48 kHz source sent at 44.1 kHz: the model's delay comes back in 48 kHz samples."""
    source = resample(MUSIC, SR, 48000)
    returned = render(MUSIC, lag=lag, gain_db=-1.5, seed=1)
    scale = 48000 / SR
    fitted, alignment = fit_returned(
        source, returned, SR, sr=48000, start=round(START * scale), end=round(END * scale)
    )
    assert abs(alignment.lag - lag * scale) <= 1.0
    assert abs(alignment.gain_db - 1.5) <= 0.25
    assert gap_snr(source[9000:200000], fitted[9000:200000]) >= 15.0


def test_unrelated_audio_is_refused() -> None:
    noise = np.random.default_rng(0).standard_normal(MUSIC.shape).astype(np.float32)
    with pytest.raises(AlignmentError, match="correlation"):
        align(MUSIC, noise, start=START, end=END, sr=SR)


def test_left_right_disagreement_is_refused() -> None:
    returned = render(MUSIC, lag=0, gain_db=0.0, seed=0)
    shifted = returned.copy()
    shifted[END:] = np.roll(returned, 300, axis=0)[END:]
    with pytest.raises(AlignmentError, match="left context lags"):
        align(MUSIC, shifted, start=START, end=END, sr=SR, min_ncc=0.3)


@pytest.mark.parametrize("lag", [0, 1105])
def test_fitting_only_what_is_needed_gives_the_same_frames(lag: int) -> None:
    """A 30 s answer at 44.1 kHz fitted onto 48 kHz, resampling only the range and the context the lag
    is searched on: the range comes out as when the whole answer is resampled."""
    music = loop(SR, 30.0, channels=2, seed=5)
    source = resample(music, SR, 48000)
    start, end = 10 * SR, 12 * SR
    returned = render(music, lag=lag, gain_db=-1.0, seed=2)[: len(music)]
    s, e = round(start * 48000 / SR), round(end * 48000 / SR)
    whole, a1 = fit_returned(source, returned, SR, sr=48000, start=s, end=e)
    part, a2 = fit_returned(source, returned, SR, sr=48000, start=s, end=e, needed=(s, e))
    assert a1.lag == a2.lag and abs(a1.ncc - a2.ncc) < 1e-6 and abs(a1.gain - a2.gain) < 1e-6
    assert np.max(np.abs(whole[s:e] - part[s:e])) < 1e-5
    assert not np.any(part[: s // 2]) and not np.any(part[-(len(part) - e) // 2 :])  # the rest is not computed
    wav = io.BytesIO()
    sf.write(wav, returned, SR, format="WAV", subtype="FLOAT")
    encoded = EncodedAudio(wav.getvalue())  # decoded only where the fit reads it
    read, a3 = fit_returned(source, encoded, SR, sr=48000, start=s, end=e, needed=(s, e))
    assert a3 == a2 and np.array_equal(read, part)
