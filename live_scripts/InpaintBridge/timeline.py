"""Where the range is: from Live's set to seconds of the clip's source file.

Live shows scripts no time selection. In the Arrangement view the loop brace stands in
for it (Cmd/Ctrl+L loops the selection) over a clip of the selected track; in the Session
view it is the loop (or start and end markers) of the clip shown in the detail view.
Nothing here changes the set. Whatever cannot be mapped exactly is refused with a
message that says what to do instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, List, Optional, Tuple

if TYPE_CHECKING:
    from Live.Clip import Clip
    from Live.Song import Song
    from Live.Track import Track

EDGE_BEATS = 1e-6
WARP_TOLERANCE_S = 0.001
"""A warped clip counts as 1:1 when no point of the range is further than this from where
the song tempo puts it (the take is laid down unwarped beside it)."""


class Refused(Exception):
    """A range the script will not send, with what the user can do about it."""


@dataclass(frozen=True)
class Capture:
    """One range: the file and its seconds, and where in the set the take goes back."""

    source: str
    start: float
    end: float
    track: Track
    clip_name: str
    gain: float
    beats_per_second: float
    beat: Optional[float] = None
    """Arrangement: the beat where the range starts. None in the Session view."""
    slot: Optional[int] = None
    """Session view: the index of the clip's slot on its track."""

    def position(self, take_start: float) -> float:
        """The arrangement beat where a take starting at ``take_start`` (file seconds) lines up."""
        assert self.beat is not None
        return self.beat - (self.start - take_start) * self.beats_per_second


def capture(song: Song, session: bool) -> Capture:
    """The range the user marked, in the Session view's detail clip or under the loop brace."""
    bps = _tempo(song) / 60.0
    return _session(song, bps) if session else _arrangement(song, bps)


def _tempo(song: Song) -> float:
    if song.master_track.mixer_device.song_tempo.automation_state != 0:
        raise Refused("the song tempo is automated: inpaint-bridge maps beats to seconds at one tempo; "
                      "remove the tempo automation, or consolidate the range (Cmd/Ctrl+J) at a fixed tempo")
    return float(song.tempo)


def _arrangement(song: Song, bps: float) -> Capture:
    track = song.view.selected_track
    _check_track(track)
    lo, length = float(song.loop_start), float(song.loop_length)
    hi = lo + length
    if length <= EDGE_BEATS:
        raise Refused("the loop brace is empty: select a range on an audio clip and press Cmd/Ctrl+L")
    clips = [c for c in track.arrangement_clips if c.start_time < hi - EDGE_BEATS and c.end_time > lo + EDGE_BEATS]
    where = "beats {:g} to {:g} on track '{}'".format(lo, hi, track.name)
    if not clips:
        raise Refused("no clip under the loop brace ({}): set the loop brace over a clip "
                      "(select a range and press Cmd/Ctrl+L)".format(where))
    if len(clips) > 1:
        raise Refused("the range spans {} clips ({}): keep it inside one clip, or consolidate "
                      "them first (Cmd/Ctrl+J)".format(len(clips), where))
    clip = clips[0]
    if lo < clip.start_time - EDGE_BEATS or hi > clip.end_time + EDGE_BEATS:
        raise Refused("the range runs past the edge of clip '{}' ({}): keep it inside the clip".format(
            clip.name, where))
    _check_clip(clip)
    if clip.warping:
        first = _clip_beat(clip, lo)
        last = first + length
        if clip.looping and first < clip.loop_end - EDGE_BEATS and last > clip.loop_end + EDGE_BEATS:
            raise Refused("the range crosses the loop end of clip '{}': keep it inside one pass of the loop, "
                          "or consolidate the clip first (Cmd/Ctrl+J)".format(clip.name))
    else:
        first = clip.start_marker + (lo - clip.start_time) / bps
        last = first + length / bps
    start, end = _file_seconds(clip, first, last, bps)
    return Capture(clip.file_path, start, end, track, clip.name, clip.gain, bps, beat=lo)


def _session(song: Song, bps: float) -> Capture:
    clip = song.view.detail_clip
    if clip is None or clip.is_arrangement_clip:
        raise Refused("no Session clip selected: click an audio clip in the Session view "
                      "(its loop, or its start and end markers, mark the range)")
    slot = clip.canonical_parent
    track = slot.canonical_parent
    _check_track(track)
    _check_clip(clip)
    first, last = (clip.loop_start, clip.loop_end) if clip.looping else (clip.start_marker, clip.end_marker)
    if last - first <= EDGE_BEATS:
        raise Refused("clip '{}' marks an empty range: widen its loop or markers".format(clip.name))
    start, end = _file_seconds(clip, first, last, bps)
    index = [i for i, s in enumerate(track.clip_slots) if s == slot]
    return Capture(clip.file_path, start, end, track, clip.name, clip.gain, bps, slot=index[0] if index else None)


def _check_track(track: Track) -> None:
    if track.has_midi_input:
        raise Refused("track '{}' is a MIDI track: select an audio track".format(track.name))
    if track.is_frozen:
        raise Refused("track '{}' is frozen: unfreeze it first (Live cannot add clips to a frozen track)".format(
            track.name))


def _check_clip(clip: Clip) -> None:
    if not clip.is_audio_clip:
        raise Refused("clip '{}' is a MIDI clip: select an audio clip".format(clip.name))
    if not clip.file_path:
        raise Refused("clip '{}' has no file on disk: save the set first".format(clip.name))
    if clip.pitch_coarse or clip.pitch_fine:
        raise Refused("clip '{}' is transposed ({:+d} st, {:+g} ct): set Transpose and Detune to 0, "
                      "or consolidate the clip first (Cmd/Ctrl+J)".format(clip.name, clip.pitch_coarse,
                                                                          clip.pitch_fine))


def _clip_beat(clip: Clip, beat: float) -> float:
    """The warped clip's own beat that plays at arrangement ``beat`` (wrapped inside its loop)."""
    t = clip.start_marker + (beat - clip.start_time)
    if clip.looping and t >= clip.loop_end:
        span = clip.loop_end - clip.loop_start
        t = clip.loop_start + (t - clip.loop_end) % span
    return t


def _file_seconds(clip: Clip, first: float, last: float, bps: float) -> Tuple[float, float]:
    """File seconds of the clip positions ``first``..``last`` (beats when warped, seconds when not)."""
    if not clip.warping:  # positions are seconds of the file already; Live maps them to samples
        rate = clip.seconds_to_sample_time(1.0) - clip.seconds_to_sample_time(0.0)
        return clip.seconds_to_sample_time(first) / rate, clip.seconds_to_sample_time(last) / rate
    if not hasattr(clip, "sample_rate"):
        raise Refused("Live before 11.1 does not tell scripts a warped clip's sample rate: turn Warp off for "
                      "clip '{}', or update Live".format(clip.name))
    rate = float(clip.sample_rate)
    per_beat = rate / bps
    origin = clip.beat_to_sample_time(first)
    points: List[float] = [last] + [m.beat_time for m in clip.warp_markers if first < m.beat_time < last]
    worst = max(abs(clip.beat_to_sample_time(t) - origin - (t - first) * per_beat) for t in points)
    if worst > WARP_TOLERANCE_S * rate:
        raise Refused("clip '{}' is not warped 1:1 at the song tempo under the range (off by {:.0f} ms): "
                      "consolidate or freeze and flatten the clip first".format(clip.name, 1000.0 * worst / rate))
    return origin / rate, clip.beat_to_sample_time(last) / rate
