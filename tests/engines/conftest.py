from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from bridge.audio.signals import loop
from bridge.config import load_settings
from bridge.engines.base import Engine, Progress
from bridge.engines.fal import FalEngine
from bridge.engines.wavespeed import WaveSpeedEngine
from bridge.fakes.fal import TEST_KEY as FAL_KEY
from bridge.fakes.fal import FakeFal
from bridge.fakes.model import tone_hz
from bridge.fakes.wavespeed import TEST_KEY as WAVESPEED_KEY
from bridge.fakes.wavespeed import FakeWaveSpeed
from bridge.jobs.edit import run_edit
from bridge.model import EditRequest, Operation, TakeInfo


@pytest.fixture
def fal() -> Iterator[FakeFal]:
    with FakeFal(queue_polls=1, progress_polls=1) as fake:
        yield fake


@pytest.fixture
def wavespeed() -> Iterator[FakeWaveSpeed]:
    with FakeWaveSpeed(created_polls=1, processing_polls=1) as fake:
        yield fake


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """30 s of 44.1 kHz 24-bit stereo music, so model-rate lags read directly."""
    path = tmp_path / "song.wav"
    sf.write(path, loop(44100, 30.0, channels=2, seed=5), 44100, subtype="PCM_24")
    return path


def fal_engine(fake: FakeFal, **kwargs: Any) -> FalEngine:
    return FalEngine(key=kwargs.pop("key", FAL_KEY), queue_url=fake.queue_url, rest_url=fake.rest_url, **kwargs)


def wavespeed_engine(fake: FakeWaveSpeed, **kwargs: Any) -> WaveSpeedEngine:
    return WaveSpeedEngine(key=kwargs.pop("key", WAVESPEED_KEY), base_url=fake.url, **kwargs)


def edit(
    engine: Engine, source: Path, start: float, end: float, *, operation: Operation = Operation.INPAINT,
    progress: list[Progress] | None = None, resume_id: str | None = None, deadline_s: float | None = None,
    on_progress: Callable[[Progress], None] | None = None, **fields: Any,
) -> TakeInfo:
    """One edit through ``engine``, as a patch take, run to completion."""
    settings = load_settings()
    if deadline_s is not None:
        settings = dataclasses.replace(settings, deadline_s=deadline_s)
    req = EditRequest(source=source, start=start, end=end, operation=operation, prompt=fields.pop("prompt", "rain"),
                      engine=engine.capabilities.name, patch=True, seed=fields.pop("seed", 3), **fields)

    async def go() -> TakeInfo:
        try:
            hook = progress.append if progress is not None else on_progress
            return await run_edit(req, engine, settings, on_progress=hook, resume_id=resume_id)
        finally:
            await engine.aclose()

    return asyncio.run(go())


def manifest(take: TakeInfo) -> dict[str, Any]:
    return dict(json.loads(take.manifest_path.read_text()))


def check_take(take: TakeInfo, source: Path, start: float, end: float) -> np.ndarray:
    """Assert the patch is the source outside ``[start, end)``; return the patch's range, as float."""
    orig, sr = sf.read(source, dtype="int32", always_2d=True)
    patch, psr = sf.read(take.path, dtype="int32", always_2d=True)
    assert psr == sr and sf.info(take.path).subtype == sf.info(source).subtype
    lo = round(take.take_start * sr)
    a, b = round(start * sr) - lo, round(end * sr) - lo
    expected = orig[lo : lo + len(patch)]
    assert np.array_equal(patch[:a], expected[:a]) and np.array_equal(patch[b:], expected[b:])
    inside: np.ndarray = patch[a:b].astype(np.float64) / 2**31
    return inside


def dominant_hz(x: np.ndarray, sr: int) -> float:
    mono = x.mean(axis=1) if x.ndim == 2 else x
    spectrum = np.abs(np.fft.rfft(mono * np.hanning(len(mono))))
    return float(np.fft.rfftfreq(len(mono), 1 / sr)[int(np.argmax(spectrum))])


def assert_tone(x: np.ndarray, sr: int, seed: int) -> None:
    """The fake model's fill tone for ``seed`` dominates ``x``."""
    assert abs(dominant_hz(x, sr) - tone_hz(seed)) < 3.0


class Crash(Exception):
    """Stands in for the process dying right after the service's request id was stored."""


def store_then_die(stored: list[str]) -> Callable[[Progress], None]:
    """An ``on_progress`` that keeps the request id of the ``submitted`` step, then crashes."""

    def hook(progress: Progress) -> None:
        if progress.state == "submitted" and progress.request_id:
            stored.append(progress.request_id)
            raise Crash

    return hook
