"""Putting a finished take into the set without destroying anything.

- Live 12.2 and later: a new take lane on the track, named after the take, holding an
  unwarped clip of the take at the exact beat; the user comps with Live's take tools.
- Live 11.3.25 and 12.0.5 up to 12.2: a new audio track below the track, named the same.
- Older Live: nothing changes, and the message names the file.
- Session view: the next empty slot below the clip (a new scene when there is none), the
  clip trimmed to the range; ``launch`` fires it, so the launch quantization swaps it in.

Features are detected on the objects, never read off a version number. Each insert is one
undo step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, List, Optional

from .timeline import Capture

if TYPE_CHECKING:
    from Live.Clip import Clip
    from Live.Song import Song
    from Live.Track import Track

NOT_SUPPORTED = "this Live cannot add clips from a script (Live 11.3.25, or 12.0.5 and later, can)"


@dataclass(frozen=True)
class Take:
    """A finished patch: its file, where its first sample sits in the source, the range it renews."""

    path: str
    take_start: float
    range_start: float
    range_end: float
    name: str


class PlaceError(Exception):
    """The take could not be put into the set."""


def place(song: Song, capture: Capture, take: Take, launch: bool) -> str:
    """Put ``take`` where ``capture`` came from; the message for the status bar."""
    track = capture.track
    if capture.beat is None:
        supported = all(hasattr(s, "create_audio_clip") for s in track.clip_slots)
    else:
        supported = hasattr(track, "create_take_lane") or hasattr(track, "create_audio_clip")
    if not supported:
        raise PlaceError(NOT_SUPPORTED)
    song.begin_undo_step()
    try:
        if capture.beat is None:
            return _into_slot(song, capture, take, launch)
        return _into_arrangement(song, capture, take)
    finally:
        song.end_undo_step()


def _into_arrangement(song: Song, capture: Capture, take: Take) -> str:
    track = capture.track
    position = capture.position(take.take_start)
    lead = max(0.0, -position / capture.beats_per_second)
    position = max(0.0, position)
    if hasattr(track, "create_take_lane"):
        lane = track.create_take_lane()
        lane.name = take.name
        _finish(lane.create_audio_clip(take.path, position), take, capture.gain, lead)
        return "take '{}' is on a new take lane of '{}'".format(take.name, track.name)
    index = [i for i, t in enumerate(song.tracks) if t == track]
    new = song.create_audio_track(index[0] + 1 if index else -1)
    new.name = take.name
    clip: Optional[Clip] = new.create_audio_clip(take.path, position)
    if clip is None:  # before Live 12.2 the call returns nothing: find the clip it made
        clip = _clip_at(new, position)
    _finish(clip, take, capture.gain, lead)
    return "take '{}' is on a new track '{}' below '{}'".format(take.name, new.name, track.name)


def _into_slot(song: Song, capture: Capture, take: Take, launch: bool) -> str:
    track = capture.track
    below = capture.slot + 1 if capture.slot is not None else 0
    free = [i for i, s in enumerate(track.clip_slots) if i >= below and not s.has_clip]
    if free:
        index = free[0]
    else:
        song.create_scene(-1)
        index = len(track.clip_slots) - 1
    slot = track.clip_slots[index]
    clip = slot.create_audio_clip(take.path)
    lead = take.range_start - take.take_start
    _finish(clip, take, capture.gain, lead)
    clip.end_marker = lead + (take.range_end - take.range_start)
    if launch:
        slot.fire()
    return "take '{}' is in slot {} of '{}'{}".format(take.name, index + 1, track.name,
                                                       ", launching" if launch else "")


def _clip_at(track: Track, position: float) -> Clip:
    clips: List[Clip] = list(track.arrangement_clips)
    for clip in clips:
        if abs(clip.start_time - position) < 1e-3:
            return clip
    raise PlaceError("Live made no clip on track '{}'".format(track.name))


def _finish(clip: Clip, take: Take, gain: float, lead: float) -> None:
    """Unwarped (the take plays at its own rate, sample for sample), named, at the clip's gain."""
    clip.warping = False
    if lead > 0:
        clip.start_marker = lead
    clip.name = take.name
    clip.gain = gain
