"""The fake Live behaves as Live documents: versions remove calls, and it raises where Live raises."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import RATE, LiveSet
from .fake_live import Clip, NotModelled


@pytest.mark.parametrize(("version", "lanes", "track_clip", "slot_clip", "rate"), [
    ((11, 0, 0), False, False, False, False),
    ((11, 1, 0), False, False, False, True),
    ((11, 3, 25), False, True, True, True),
    ((12, 0, 2), False, False, False, True),
    ((12, 0, 5), False, True, True, True),
    ((12, 2, 0), True, True, True, True),
])
def test_versions_have_what_live_documents(make_set: Callable[..., LiveSet], source: Path,
                                           version: tuple[int, int, int], lanes: bool, track_clip: bool,
                                           slot_clip: bool, rate: bool) -> None:
    live = make_set(version)
    track = live.song.add_track("Audio")
    clip = track.add(str(source), 0.0)
    assert hasattr(track, "create_take_lane") is lanes and hasattr(track, "take_lanes") is lanes
    assert hasattr(track, "create_audio_clip") is track_clip
    assert hasattr(track.clip_slots[0], "create_audio_clip") is slot_clip
    assert hasattr(clip, "sample_rate") is rate


def test_track_create_audio_clip_returns_the_clip_from_12_2(make_set: Callable[..., LiveSet], source: Path) -> None:
    for version, returned in (((12, 0, 5), False), ((12, 2, 0), True)):
        live = make_set(version)
        track = live.song.add_track("Audio")
        live.song.begin_undo_step()
        clip = track.create_audio_clip(str(source), 4.0)
        live.song.end_undo_step()
        assert (clip is not None) is returned and len(track.arrangement_clips) == 1


def test_it_raises_where_live_raises(make_set: Callable[..., LiveSet], source: Path, tmp_path: Path) -> None:
    live = make_set()
    track = live.song.add_track("Audio")
    warped = track.add(str(source), 0.0)
    unwarped = track.add(str(source), 40.0, warping=False)
    with pytest.raises(RuntimeError, match="not warped"):
        unwarped.beat_to_sample_time(1.0)
    with pytest.raises(RuntimeError, match="is warped"):
        warped.seconds_to_sample_time(1.0)
    live.song.begin_undo_step()
    slot = track.clip_slots[0]
    slot.create_audio_clip(str(source))
    with pytest.raises(RuntimeError, match="not empty"):
        slot.create_audio_clip(str(source))
    not_audio = tmp_path / "notes.txt"
    not_audio.write_text("not audio")
    with pytest.raises(RuntimeError, match="valid audio file"):
        track.clip_slots[1].create_audio_clip(str(not_audio))
    with pytest.raises(RuntimeError, match="outside"):
        track.create_audio_clip(str(source), -1.0)
    with pytest.raises(RuntimeError, match="behind the end marker"):
        unwarped.start_marker = unwarped.end_marker + 1.0
    track.is_frozen = True
    with pytest.raises(RuntimeError, match="frozen"):
        track.clip_slots[2].create_audio_clip(str(source))
    keys = live.song.add_track("Keys", midi=True)
    with pytest.raises(RuntimeError, match="not an audio track"):
        keys.clip_slots[0].create_audio_clip(str(source))
    live.song.end_undo_step()


def test_markers_are_beats_when_warped_and_seconds_when_not(make_set: Callable[..., LiveSet], source: Path) -> None:
    live = make_set()
    track = live.song.add_track("Audio")
    live.song.begin_undo_step()
    clip = track.clip_slots[0].create_audio_clip(str(source))
    assert clip.warping and clip.end_marker == pytest.approx(24.0)  # 12 s at 120 bpm, auto-warped
    clip.warping = False
    live.song.end_undo_step()
    assert clip.end_marker == pytest.approx(12.0) and clip.seconds_to_sample_time(1.0) == RATE


def test_changes_outside_an_undo_step_and_unmodelled_calls_are_caught(make_set: Callable[..., LiveSet],
                                                                      source: Path) -> None:
    live = make_set()
    track = live.song.add_track("Audio")
    track.name = "Renamed"
    with pytest.raises(NotModelled):
        track.delete_clip  # noqa: B018 - the access itself is the test
    assert live.world.problems == ["Track.name changed outside an undo step",
                                   "the fake does not model Track.delete_clip"]
    live.world.problems.clear()
    assert isinstance(track.add(str(source), 0.0), Clip)
