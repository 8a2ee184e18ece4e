"""From the set to seconds of the file: the loop brace, the Session clip, and every refusal."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest
from InpaintBridge.timeline import Capture, Refused, capture

from .conftest import RATE, LiveSet


def mark(live: LiveSet, session: bool = False) -> Capture:
    return capture(cast(Any, live.song), session)


def arrangement(make_set: Callable[..., LiveSet], source: Path, version: tuple[int, int, int] = (12, 2, 0),
                **clip: object) -> LiveSet:
    """Track 'Drums' with one clip at beat 8 (4 s), the loop brace over beats 12 to 14."""
    live = make_set(version)
    track = live.song.add_track("Drums")
    options: dict[str, object] = {"warping": False, "start_marker": 1.0, "end_marker": 9.0}
    options.update(clip)
    track.add(str(source), 8.0, **options)
    live.song.view.selected_track = track
    live.song.loop_start, live.song.loop_length = 12.0, 2.0
    return live


def test_unwarped_clip_maps_through_its_start_marker(make_set: Callable[..., LiveSet], source: Path) -> None:
    live = arrangement(make_set, source)
    marked = mark(live)
    assert marked.source == str(source) and (marked.start, marked.end) == pytest.approx((3.0, 4.0))
    assert marked.beat == 12.0 and marked.position(2.5) == pytest.approx(11.0)


def test_warped_one_to_one_clip_maps_through_its_warp_markers(make_set: Callable[..., LiveSet],
                                                              source: Path) -> None:
    live = arrangement(make_set, source, warping=True, markers=[(0.0, 0.0), (24.0, 12.0 * RATE)],
                       start_marker=2.0, end_marker=18.0)
    marked = mark(live)
    assert (marked.start, marked.end) == pytest.approx((3.0, 4.0))


@pytest.mark.parametrize("markers", [
    [(0.0, 0.0), (24.0, 10.0 * RATE)],  # the whole clip stretched
    [(0.0, 0.0), (6.5, 3.3 * RATE), (24.0, 12.0 * RATE)],  # one warp marker moved inside the range
])
def test_warp_that_is_not_one_to_one_is_refused(make_set: Callable[..., LiveSet], source: Path,
                                                markers: list[tuple[float, float]]) -> None:
    live = arrangement(make_set, source, warping=True, markers=markers, start_marker=2.0, end_marker=18.0)
    with pytest.raises(Refused, match="consolidate or freeze and flatten the clip first"):
        mark(live)


def test_looped_clip_wraps_inside_its_loop(make_set: Callable[..., LiveSet], source: Path) -> None:
    live = arrangement(make_set, source, warping=True, markers=[(0.0, 0.0), (24.0, 12.0 * RATE)],
                       start_marker=2.0, looping=True, loop=(2.0, 6.0), length=16.0)
    # the clip starts at beat 8 and plays its beats 2..6 over and over: beat 17 of the song is its
    # beat 2 + 9 = 11, which wraps to 2 + (11 - 6) % 4 = 3, i.e. 1.5 s of the file
    live.song.loop_start, live.song.loop_length = 17.0, 1.0
    marked = mark(live)
    assert (marked.start, marked.end) == pytest.approx((1.5, 2.0))
    live.song.loop_start, live.song.loop_length = 11.0, 2.0  # its beats 5..7 cross the loop end at 6
    with pytest.raises(Refused, match="crosses the loop end"):
        mark(live)


@pytest.mark.parametrize(("change", "message"), [
    (lambda live: setattr(live.song.master_track.mixer_device.song_tempo, "automation_state", 1),
     "tempo is automated"),
    (lambda live: setattr(live.song, "loop_length", 0.0), "loop brace is empty"),
    (lambda live: setattr(live.song, "loop_start", 40.0), "no clip under the loop brace"),
    (lambda live: setattr(live.song, "loop_start", 23.0), "runs past the edge"),
    (lambda live: live.song.view.selected_track.add(live.song.view.selected_track.arrangement_clips[0].file_path,
                                                    13.0, warping=False, end_marker=0.5),
     "spans 2 clips"),
    (lambda live: setattr(live.song.view.selected_track.arrangement_clips[0], "_pitch_coarse", -2),
     "is transposed"),
    (lambda live: setattr(live.song.view, "selected_track", live.song.add_track("Keys", midi=True)),
     "MIDI track"),
    (lambda live: setattr(live.song.view.selected_track, "is_frozen", True), "is frozen"),
])
def test_refusals_say_what_to_do(make_set: Callable[..., LiveSet], source: Path,
                                 change: Callable[[LiveSet], object], message: str) -> None:
    live = arrangement(make_set, source)
    change(live)
    with pytest.raises(Refused, match=message):
        mark(live)


def session_clip(make_set: Callable[..., LiveSet], source: Path, version: tuple[int, int, int] = (12, 2, 0),
                 **clip: Any) -> LiveSet:
    from .fake_live import Clip

    live = make_set(version)
    track = live.song.add_track("Loops")
    slot = track.clip_slots[0]
    live.song.view.detail_clip = slot.put(Clip(live.world, str(source), arrangement=False, parent=slot, **clip))
    live.world.focused_view = "Session"
    return live


def test_session_clip_gives_its_loop(make_set: Callable[..., LiveSet], source: Path) -> None:
    live = session_clip(make_set, source, markers=[(0.0, 0.0), (24.0, 12.0 * RATE)], looping=True,
                        loop=(2.0, 6.0))
    marked = mark(live, session=True)
    assert (marked.start, marked.end) == pytest.approx((1.0, 3.0)) and (marked.slot, marked.beat) == (0, None)


def test_unlooped_session_clip_gives_its_markers(make_set: Callable[..., LiveSet], source: Path) -> None:
    live = session_clip(make_set, source, warping=False, start_marker=1.0, end_marker=2.5)
    marked = mark(live, session=True)
    assert (marked.start, marked.end) == pytest.approx((1.0, 2.5))


def test_session_without_a_clip_is_refused(make_set: Callable[..., LiveSet]) -> None:
    live = make_set()
    live.song.add_track("Loops")
    with pytest.raises(Refused, match="no Session clip selected"):
        mark(live, session=True)


def test_live_11_0_maps_unwarped_clips_and_refuses_warped_ones(make_set: Callable[..., LiveSet],
                                                              source: Path) -> None:
    live = arrangement(make_set, source, version=(11, 0, 0))
    marked = mark(live)
    assert (marked.start, marked.end) == pytest.approx((3.0, 4.0))
    live = arrangement(make_set, source, version=(11, 0, 0), warping=True,
                       markers=[(0.0, 0.0), (24.0, 12.0 * RATE)], start_marker=2.0, end_marker=18.0)
    with pytest.raises(Refused, match="before 11.1"):
        mark(live)
