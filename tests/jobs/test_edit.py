"""Planning an edit against its engine and model, before anything is read or sent."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from bridge.audio.io import AudioInfo
from bridge.config import load_settings
from bridge.engines.base import Engine
from bridge.engines.fal import FalEngine
from bridge.engines.wavespeed import WaveSpeedEngine
from bridge.errors import BadValue
from bridge.jobs.edit import plan_edit
from bridge.model import EditRequest, Operation

LONG = AudioInfo(Path("long.wav"), 44100, 300 * 44100, 2, "WAV", "PCM_16")


@pytest.mark.parametrize("make,model,operation,ok,too_long,limit", [
    (lambda: WaveSpeedEngine(key="k"), None, Operation.TRANSFORM, 110.0, 125.0,
     "stability-ai/stable-audio-3/audio-to-audio takes at most 120 s"),
    (lambda: FalEngine(key="a:b"), "fal-ai/stable-audio-25/inpaint", Operation.INPAINT, 180.0, 195.0,
     "fal-ai/stable-audio-25/inpaint takes at most 190 s"),
])
def test_the_models_own_limit_rules_not_the_engines(make: Callable[[], Engine], model: str | None,
                                                     operation: Operation, ok: float, too_long: float,
                                                     limit: str) -> None:
    settings = load_settings()
    engine = make()
    request = EditRequest(Path("long.wav"), 10.0, 10.0 + ok, operation, "x", engine=engine.capabilities.name,
                          model=model)
    plan_edit(request, LONG, engine, settings)
    with pytest.raises(BadValue, match=limit):
        plan_edit(EditRequest(Path("long.wav"), 10.0, 10.0 + too_long, operation, "x",
                              engine=engine.capabilities.name, model=model), LONG, engine, settings)
    asyncio.run(engine.aclose())
