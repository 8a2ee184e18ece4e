"""The Live remote script runs here against the fake ``Live`` module (tests/live/fake_live.py)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from bridge.audio.signals import loop

from .fake_live import Host, Song, World, live_module

SCRIPTS = Path(__file__).resolve().parents[2] / "live_scripts"
LIVE, USE_WORLD = live_module()
sys.path.insert(0, str(SCRIPTS))
sys.modules.setdefault("Live", LIVE)
assert sys.modules["Live"] is LIVE, "another Live module was imported first"

RATE = 48000
SECONDS = 12.0


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A 12 s stereo 24-bit loop at 48 kHz in a folder of its own."""
    folder = tmp_path / "media"
    folder.mkdir()
    path = folder / "drums.wav"
    sf.write(path, loop(RATE, SECONDS, channels=2), RATE, subtype="PCM_24")
    return path


class LiveSet:
    """A Live of some version with one song, and the c_instance the script gets."""

    def __init__(self, version: tuple[int, int, int], tempo: float = 120.0, file_path: str = "") -> None:
        self.world = World(version)
        USE_WORLD(self.world)
        self.song = Song(self.world, tempo=tempo, file_path=file_path)
        self.host = Host(self.song)

    @property
    def shown(self) -> list[str]:
        return self.host.messages


@pytest.fixture
def make_set() -> Iterator[Callable[..., LiveSet]]:
    made: list[LiveSet] = []

    def make(version: tuple[int, int, int] = (12, 2, 0), **kwargs: Any) -> LiveSet:
        made.append(LiveSet(version, **kwargs))
        return made[-1]

    yield make
    for live_set in made:
        assert not live_set.world.problems, live_set.world.problems
        assert live_set.world.undo_depth == 0, "an undo step was left open"


def frames(path: Path) -> np.ndarray:
    data: np.ndarray = sf.read(path, dtype="int32", always_2d=True)[0]
    return data
