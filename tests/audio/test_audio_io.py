from __future__ import annotations

import gc
import io
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from bridge.audio.io import BLOCK_FRAMES, EncodedAudio, encode_wav, from_float, link_new, probe, read_frames, to_float
from bridge.audio.signals import loop
from bridge.errors import AudioParameterError, SourceError

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


def _answer(fmt: str, subtype: str, seconds: float = 8.0) -> tuple[bytes, np.ndarray]:
    buf = io.BytesIO()
    sf.write(buf, 0.8 * loop(44100, seconds, channels=2, seed=2), 44100, format=fmt, subtype=subtype)
    data = buf.getvalue()
    return data, sf.read(io.BytesIO(data), dtype="float32", always_2d=True)[0]


@pytest.mark.parametrize("fmt,subtype", [("FLAC", "PCM_16"), ("WAV", "PCM_16"), ("WAV", "FLOAT")])
def test_an_answer_is_decoded_where_it_is_read_with_the_samples_of_one_pass(fmt: str, subtype: str) -> None:
    data, whole = _answer(fmt, subtype)
    answer = EncodedAudio(data)
    assert (answer.sr, answer.channels, answer.frames) == (44100, 2, len(whole))
    assert np.array_equal(answer.decode(), whole)
    lo, hi = 100_003, 250_001
    assert np.array_equal(answer[lo:hi], whole[lo:hi]) and np.array_equal(answer[-5:], whole[-5:])
    assert answer[hi:lo].shape == (0, 2)


def test_an_answer_holds_its_file_only_while_it_is_used() -> None:
    data, whole = _answer("FLAC", "PCM_16", seconds=2.0)
    before = _open_files()
    answers = [EncodedAudio(data) for _ in range(20)]
    assert all(np.array_equal(a.decode(), whole) for a in answers)
    del answers
    gc.collect()
    assert _open_files() == before


def _open_files() -> int:
    """Descriptors this process holds, and answer files left in the temporary folder."""
    return len(os.listdir("/proc/self/fd")) + len(list(Path(tempfile.gettempdir()).glob("inpaint-answer-*")))


@pytest.mark.parametrize("fmt,subtype", [("OGG", "VORBIS"), ("MP3", "MPEG_LAYER_III")])
def test_a_lossy_answer_is_decoded_whole(fmt: str, subtype: str) -> None:
    data, whole = _answer(fmt, subtype, seconds=3.0)
    answer = EncodedAudio(data)
    assert answer.frames == len(whole) and np.array_equal(answer.decode(), whole)
    assert np.array_equal(answer[1000:2000], whole[1000:2000])


def test_an_answer_cut_short_or_not_audio_is_refused_in_words() -> None:
    data, _ = _answer("FLAC", "PCM_16")
    with pytest.raises(AudioParameterError, match=r"returned audio: ends before the 352800 frames .* \(cut short\)"):
        EncodedAudio(data[: len(data) * 9 // 10])
    with pytest.raises(AudioParameterError, match="returned audio: cannot be decoded"):
        EncodedAudio(b"<html>502 Bad Gateway</html>")
    empty = io.BytesIO()
    sf.write(empty, np.zeros((0, 2), np.float32), 44100, format="WAV", subtype="PCM_16")
    with pytest.raises(AudioParameterError, match="holds no frames"):
        EncodedAudio(empty.getvalue())


@pytest.mark.parametrize("frames,channels", [(0, 2), (1, 1), (BLOCK_FRAMES // 4 * 3 + 17, 2), (5000, 3)])
def test_the_request_wav_holds_each_sample_rounded_to_16_bits(frames: int, channels: int) -> None:
    x = (np.random.default_rng(frames).standard_normal((frames, channels)) * 0.6).astype(np.float32)
    x[: min(frames, 4)] = np.array([1.0, -1.0, 0.5 / 32768, 1.5 / 32768])[: min(frames, 4), None]
    data = encode_wav(x, 44100)
    back, sr = sf.read(io.BytesIO(data), dtype="int16", always_2d=True)
    assert sr == 44100 and back.shape == (frames, channels) and len(data) == 44 + frames * channels * 2
    assert np.array_equal(back, np.clip(np.rint(x * 32768.0), -32768, 32767).astype(np.int16))
