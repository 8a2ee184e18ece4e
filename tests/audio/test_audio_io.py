from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from bridge.audio.io import from_float, link_new, probe, read_frames, to_float
from bridge.errors import SourceError

FORMATS = [
    ("WAV", "PCM_16", "wav"),
    ("WAV", "PCM_24", "wav"),
    ("WAV", "FLOAT", "wav"),
    ("FLAC", "PCM_24", "flac"),
    ("AIFF", "PCM_16", "aiff"),
    ("OGG", "VORBIS", "ogg"),
    ("MP3", "MPEG_LAYER_III", "mp3"),
]


@pytest.mark.parametrize("fmt,subtype,ext", FORMATS)
def test_native_samples_round_trip_exactly(tmp_path: Path, fmt: str, subtype: str, ext: str) -> None:
    x = (np.random.default_rng(0).standard_normal((24000, 2)) * 0.25).clip(-1, 1)
    path = tmp_path / f"s.{ext}"
    sf.write(path, x, 48000, format=fmt, subtype=subtype)
    info = probe(path)
    native = read_frames(info, 1000, 9000, native=True)
    as_float = read_frames(info, 1000, 9000)
    assert native.shape == (8000, 2)
    assert np.array_equal(to_float(native), as_float)
    assert np.array_equal(from_float(as_float, native.dtype, subtype="FLOAT" if info.lossy else subtype), native)


@pytest.mark.parametrize(
    "content,match",
    [(None, "no such file"), (b"", "empty"), (b"not audio at all" * 10, "not a readable audio file")],
)
def test_probe_refuses_what_is_not_audio(tmp_path: Path, content: bytes | None, match: str) -> None:
    path = tmp_path / "x.wav"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(SourceError, match=match):
        probe(path)


def test_link_new_never_replaces(tmp_path: Path) -> None:
    wanted = tmp_path / "take.wav"
    wanted.write_bytes(b"mine")
    tmp = tmp_path / "tmp.wav"
    tmp.write_bytes(b"new")
    got = link_new(tmp, wanted)
    assert got == tmp_path / "take-2.wav"
    assert wanted.read_bytes() == b"mine" and got.read_bytes() == b"new"
    assert not tmp.exists()


def test_sources_that_cannot_be_read_are_named_without_being_opened(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Permission checks are the OS's, and root passes them all: the OS's answers are stood in for here."""
    song = tmp_path / "song.wav"
    sf.write(song, np.zeros((4800, 2), dtype=np.float32), 48000)
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    with pytest.raises(SourceError, match=r"song.wav': not readable \(permission denied\)"):
        probe(song)
    monkeypatch.undo()

    def stat_denied(path: object, *args: object, **kwargs: object) -> os.stat_result:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "stat", stat_denied)
    with pytest.raises(SourceError, match="cannot be reached"):
        probe(song)
