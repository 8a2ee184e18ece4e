from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import bridge
from bridge.audio.fill import FillInfo, fill_range
from bridge.audio.metrics import click_z, flux_ratio, gap_snr, lsd, rms_db
from bridge.audio.signals import loop, speech_like, texture, tone
from bridge.errors import AudioParameterError

# Mean gap SNR (dB) at 10/20/30/40/50 ms: at least 1 dB above both published methods.
EBU_BARS = {"10": 19.8, "20": 15.8, "30": 11.1, "40": 7.2, "50": 4.6}


def filled(x: np.ndarray, sr: int, s: int, e: int) -> tuple[np.ndarray, FillInfo]:
    body, info = fill_range(x, sr, s, e)
    assert body.shape == x[s:e].shape
    out = x.copy()
    out[s:e] = body
    return out, info


def test_ebu_benchmark_beats_published_methods(ebu_dir: Path) -> None:
    gaps = json.loads((ebu_dir / "gaps.json").read_text())["gaps"]
    means = {}
    for length in EBU_BARS:
        scores = []
        for name, by_length in gaps.items():
            x, sr = sf.read(ebu_dir / name)
            holed = x.copy()
            for s, e in by_length[length]:
                holed[s:e] = 0.0
            for s, e in by_length[length]:
                scores.append(gap_snr(x[s:e], bridge.fill(holed, sr, s, e)[s:e]))
        means[length] = float(np.mean(scores))
    print("EBU mean gap SNR (dB):", {k: round(v, 2) for k, v in means.items()})
    for length, bar in EBU_BARS.items():
        assert means[length] >= bar, f"{length} ms: {means[length]:.2f} dB < {bar} dB"


@pytest.mark.parametrize("gap_s", [0.1, 0.25, 0.5, 1.0])
def test_ebu_long_gaps_have_clean_seams(ebu_dir: Path, gap_s: float) -> None:
    """audio-core.md §7 test 5: 10 files x 3 positions; seam scores against the bars."""
    clicks, fluxes, level_errors, over = [], [], [], []
    for path in sorted(ebu_dir.glob("*.wav")):
        x, sr = sf.read(path)
        for pos in (0.3, 0.5, 0.7):
            s = round(pos * len(x) - gap_s * sr / 2)
            e = s + round(gap_s * sr)
            holed = x.copy()
            holed[s:e] = 0.0
            out, _ = filled(holed, sr, s, e)
            level_errors.append(abs(rms_db(out[s:e]) - rms_db(x[s:e])))
            for seam in (s, e):
                z, flux = click_z(out, seam, sr), flux_ratio(out, seam, sr)
                clicks.append(z)
                fluxes.append(flux)
                if z > max(10.0, 2 * click_z(x, seam, sr)) or flux > 2.5:
                    over.append((path.name, pos, seam, round(z, 1), round(flux, 2)))
    assert np.median(clicks) <= 4.0 and np.percentile(clicks, 90) <= 8.0
    assert np.median(fluxes) <= 1.3 and np.percentile(fluxes, 90) <= 2.5
    assert np.median(level_errors) <= 3.0
    # a seam may exceed the per-case bar only at a struck note right at the seam (glockenspiel)
    assert len(over) <= 1, over


@pytest.mark.parametrize("gap_ms,bar", [(20, 40.0), (50, 30.0), (100, 15.0)])
def test_short_gaps_on_tone(gap_ms: int, bar: float) -> None:
    x = tone(44100).astype(np.float64)
    s = 2 * 44100
    e = s + round(gap_ms * 44.1)
    holed = x.copy()
    holed[s:e] = 0
    out = bridge.fill(holed, 44100, s, e)
    assert gap_snr(x[s:e], out[s:e]) >= bar
    assert max(click_z(out, s, 44100), click_z(out, e, 44100)) <= 5.0


@pytest.mark.parametrize("gap_s", [0.25, 1.0, 2.0])
def test_long_gaps_on_loop_recover_the_truth(gap_s: float) -> None:
    sr = 44100
    x = loop(sr, 20.0).astype(np.float64)
    s = round(9.3 * sr)
    e = s + round(gap_s * sr)
    holed = x.copy()
    holed[s:e] = 0
    out, info = filled(holed, sr, s, e)
    assert info.method == "exemplar"
    assert gap_snr(x[s:e], out[s:e]) >= 20.0
    assert lsd(x[s - sr : e + sr], out[s - sr : e + sr]) <= 1.0
    for seam in (s, e):
        assert click_z(out, seam, sr) <= 4.0
        assert flux_ratio(out, seam, sr) <= 1.0


@pytest.mark.parametrize("material", ["speech", "texture"])
@pytest.mark.parametrize("gap_s", [0.25, 0.5, 1.0])
def test_long_gaps_on_non_repeating_material_have_clean_seams(material: str, gap_s: float) -> None:
    sr = 44100
    x = (speech_like(sr, 8.0) if material == "speech" else texture(sr, 8.0)).astype(np.float64)
    s = round(3.6 * sr)
    e = s + round(gap_s * sr)
    holed = x.copy()
    holed[s:e] = 0
    out, _ = filled(holed, sr, s, e)
    for seam in (s, e):
        assert click_z(out, seam, sr) <= max(10.0, 2 * click_z(x, seam, sr))
        assert flux_ratio(out, seam, sr) <= 2.5
    # no decay: the last quarter of the fill is about as loud as the context around it,
    # or as the truth there when the material itself falls quiet (a pause in speech)
    q = (e - s) // 4
    context = np.concatenate([x[s - sr // 2 : s], x[e : e + sr // 2]])
    assert rms_db(out[e - q : e]) >= min(rms_db(context), rms_db(x[e - q : e])) - 10.0


def test_fill_leaves_everything_outside_untouched_and_keeps_shape() -> None:
    x = loop(48000, 6.0).astype(np.float32)
    out = bridge.fill(x, 48000, 100000, 130000)
    assert out.shape == x.shape and out.dtype == x.dtype
    assert np.array_equal(out[:100000], x[:100000])
    assert np.array_equal(out[130000:], x[130000:])
    mono = bridge.fill(x[:, 0], 48000, 100000, 100500)
    assert mono.shape == (len(x),)


def test_seed_picks_other_donors_for_long_gaps() -> None:
    x = loop(44100, 20.0).astype(np.float64)
    s, e = 9 * 44100, 10 * 44100
    _, first = fill_range(x, 44100, s, e, seed=0)
    _, second = fill_range(x, 44100, s, e, seed=1)
    assert first.variations > 1
    assert first.donor_offset_s != second.donor_offset_s


def test_silence_fills_with_silence() -> None:
    x = np.zeros((44100 * 4, 2))
    for s, e in [(44100, 45000), (44100, 88200)]:
        assert not np.any(bridge.fill(x, 44100, s, e))


@pytest.mark.parametrize(
    "start,end",
    [(-1, 10), (10, 10), (50, 20), (0, 44100 * 2)],
)
def test_fill_refuses_bad_ranges(start: int, end: int) -> None:
    with pytest.raises(AudioParameterError):
        bridge.fill(np.zeros(44100 * 2), 44100, start, end)


def test_fill_refuses_nan_and_int_input() -> None:
    x = np.zeros(44100)
    x[10] = np.nan
    with pytest.raises(AudioParameterError, match="NaN"):
        bridge.fill(x, 44100, 1000, 1100)
    with pytest.raises(AudioParameterError, match="float"):
        bridge.fill(np.zeros(44100, dtype=np.int16), 44100, 1000, 1100)
