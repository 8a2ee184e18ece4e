"""Presets: the shipped library, validation, user overrides, and each preset tried once."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest
import soundfile as sf

from bridge.audio.signals import loop
from bridge.config import ServiceSettings, load_settings
from bridge.control.compose import compose
from bridge.engines.registry import make_engine
from bridge.errors import BadValue, PresetError
from bridge.fakes.fal import TEST_KEY as FAL_KEY
from bridge.fakes.fal import FakeFal
from bridge.fakes.wavespeed import TEST_KEY as WS_KEY
from bridge.fakes.wavespeed import FakeWaveSpeed
from bridge.jobs.edit import run_edit
from bridge.jobs.presets import load_presets, shipped_folder
from bridge.model import Operation

SHIPPED = load_presets(Path("/nonexistent"))


def test_the_library_has_a_dozen_presets_for_every_engine() -> None:
    assert len(SHIPPED) >= 12
    assert {p.options.get("engine") for p in SHIPPED.values()} == {"local", "fal", "wavespeed"}
    assert {p.operation for p in SHIPPED.values()} == set(Operation)
    assert all(p.description for p in SHIPPED.values())


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_each_shipped_preset_makes_a_take(tmp_path: Path, name: str) -> None:
    source = tmp_path / "song.wav"
    sf.write(source, loop(44100, 30.0, channels=2, seed=4), 44100, subtype="PCM_16")
    preset = SHIPPED[name]
    operation = preset.operation or Operation.INPAINT
    with FakeFal(queue_polls=0, progress_polls=0) as fal, FakeWaveSpeed(created_polls=0, processing_polls=0) as ws:
        settings = dataclasses.replace(
            load_settings(), fal=ServiceSettings(url=fal.queue_url, rest_url=fal.rest_url, key=FAL_KEY),
            wavespeed=ServiceSettings(url=ws.url, key=WS_KEY))
        composed = compose(operation, source=source, start=12.0, end=14.0 if operation is Operation.INPAINT else 15.0,
                           prompt="", given={"preset": name}, settings=settings, presets=SHIPPED)
        engine = make_engine(composed.request.engine, settings)

        async def go() -> Path:
            try:
                return (await run_edit(composed.request, engine, settings)).path
            finally:
                await engine.aclose()

        take = asyncio.run(go())
        assert take.is_file()
        assert fal.submits() + ws.submits() == (0 if composed.request.engine == "local" else 1)


def test_user_presets_override_shipped_ones(tmp_path: Path) -> None:
    (tmp_path / "presets").mkdir()
    (tmp_path / "presets" / "mine.toml").write_text('[room-tone]\nengine = "local"\nfade_ms = 5\n\n[my-thing]\n'
                                                    'description = "x"\nprompt = "y"\nparams = { sync_mode = true }\n')
    presets = load_presets(tmp_path)
    assert presets["room-tone"].options["fade_ms"] == 5.0 and presets["room-tone"].source.parent == tmp_path / "presets"
    assert presets["my-thing"].params == {"sync_mode": True}
    assert presets["fill-dropout"].source.parent == shipped_folder()


@pytest.mark.parametrize("text,words", [
    ('[a]\nsteps = "many"\n', "[a] steps = 'many': must be a finite number"),
    ("[a]\nfade_ms = 99999\n", "[a] fade_ms = 99999: must be a number in range 0..2000"),
    ("[a]\ncolour = 1\n", "[a] colour = 1: unknown key"),
    ('[a]\noperation = "dance"\n', "[a] operation = 'dance': must be one of inpaint, transform, generate"),
    ("[a]\nvariations = 0\n", "[a] variations = 0"),
    ("a = 1\n", "a = 1: each preset is a [table]"),
    ('["Bad Name"]\n', "a preset name uses"),
    ("[a\n", "not valid TOML"),
])
def test_bad_presets_name_file_key_and_value(tmp_path: Path, text: str, words: str) -> None:
    (tmp_path / "presets").mkdir()
    (tmp_path / "presets" / "broken.toml").write_text(text)
    with pytest.raises(PresetError) as caught:
        load_presets(tmp_path)
    assert "broken.toml" in str(caught.value) and words in str(caught.value)


def test_request_options_win_over_preset_and_operation_must_match(tmp_path: Path) -> None:
    settings = load_settings()
    composed = compose(Operation.INPAINT, source=tmp_path / "x.wav", start=1, end=2, prompt="",
                       given={"preset": "drum-fill", "steps": 10, "variations": 1}, settings=settings, presets=SHIPPED)
    assert composed.request.engine == "fal" and composed.request.params["steps"] == 10
    assert composed.variations == 1 and "drum fill" in composed.request.prompt
    with pytest.raises(BadValue, match="is a generate preset"):
        compose(Operation.INPAINT, source=tmp_path / "x.wav", start=1, end=2, prompt="", given={"preset": "riser"},
                settings=settings, presets=SHIPPED)
