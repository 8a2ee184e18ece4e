"""A fake of Ableton Live for the remote script: the ``Live`` module and ``c_instance``.

Written from Live's documented object model (the LOM reference, and the docstrings of the
ableton-live-stubs for Live 12.3) and the version notes in ../shared/reference/ableton-live.md:

- a version switch removes what that Live lacks: ``Clip.sample_rate`` before 11.1,
  ``Track.create_audio_clip`` and ``ClipSlot.create_audio_clip`` before 11.3.25 and in
  12.0.0 to 12.0.4, take lanes before 12.2; ``Track.create_audio_clip`` returns None before 12.2;
- it raises where Live raises: ``beat_to_sample_time`` on an unwarped clip,
  ``seconds_to_sample_time`` on a warped one, clips created on a full slot, a MIDI track or a
  frozen track or from a file that is not audio, a start marker set behind the end marker,
  looping switched on for an unwarped clip;
- markers are beats on warped clips and seconds on unwarped ones; file lengths come from
  the files; new clips arrive warped (Live's "Auto-Warp Long Samples"), markers at the file's
  ends;
- every LOM call must come from the thread that made the set, and every change must fall
  inside an undo step; a name the fake does not model raises :class:`NotModelled`, which is
  also recorded, so a test fails even where the script catches everything.
"""

from __future__ import annotations

import threading
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import soundfile as sf

Version = tuple[int, int, int]
MAX_POSITION = 1576800.0


class NotModelled(Exception):
    """The script used something this fake does not model: extend the fake from Live's documentation."""


@dataclass
class World:
    """One running Live: its version, the set, what the script showed and what changed."""

    version: Version
    thread: int = field(default_factory=threading.get_ident)
    undo_depth: int = 0
    undo_steps: list[list[str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    forwarded: list[tuple[int, int]] = field(default_factory=list)
    focused_view: str = "Arranger"
    song: Song | None = None

    def changed(self, what: str) -> None:
        if self.undo_depth == 0:
            self.problems.append(f"{what} changed outside an undo step")
        else:
            self.undo_steps[-1].append(what)

    def has(self, since: Version, absent: tuple[Version, Version] | None = None) -> bool:
        if self.version < since:
            return False
        return absent is None or not absent[0] <= self.version <= absent[1]


class since:
    """A method (or, with ``prop``, a property) that exists only from a Live version on: ``hasattr``
    is False before it (and in the ``absent`` range)."""

    def __init__(self, version: Version, absent: tuple[Version, Version] | None = None, *, prop: bool = False) -> None:
        self.version, self.absent, self.prop = version, absent, prop
        self.func: Any = None
        self.name = ""

    def __call__(self, func: Any) -> since:
        self.func = func
        return self

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Lom | None, owner: type) -> Any:
        if obj is None:
            return self
        if not obj._world.has(self.version, self.absent):
            raise AttributeError(f"{owner.__name__!r} object has no attribute {self.name!r} in Live "
                                 f"{'.'.join(map(str, obj._world.version))}")
        return self.func(obj) if self.prop else self.func.__get__(obj, owner)


class Lom:
    """Base of the fake LOM objects: main-thread checks and loud failures for unmodelled names."""

    _world: World

    def __getattribute__(self, name: str) -> Any:
        if not name.startswith("_"):
            world = object.__getattribute__(self, "_world")
            if threading.get_ident() != world.thread:
                world.problems.append(f"{type(self).__name__}.{name} used off Live's main thread")
                raise RuntimeError("Live's API may only be used from the main thread")
        return object.__getattribute__(self, name)

    def __getattr__(self, name: str) -> Any:
        for klass in type(self).__mro__:
            if isinstance(klass.__dict__.get(name), since):
                raise AttributeError(name)
        message = f"the fake does not model {type(self).__name__}.{name}"
        object.__getattribute__(self, "_world").problems.append(message)
        raise NotModelled(message)

    def __eq__(self, other: object) -> bool:
        return self is other

    def __hash__(self) -> int:
        return id(self)


def _settable(name: str, check: Callable[[Any, Any], None] | None = None) -> property:
    """A property whose writes count as changes to the set."""
    attr = "_" + name

    def get(self: Lom) -> Any:
        return getattr(self, attr)

    def put(self: Lom, value: Any) -> None:
        if check is not None:
            check(self, value)
        self._world.changed(f"{type(self).__name__}.{name}")
        object.__setattr__(self, attr, value)

    return property(get, put)


class Parameter(Lom):
    def __init__(self, world: World) -> None:
        self._world = world
        self.automation_state = 0


class Mixer(Lom):
    def __init__(self, world: World) -> None:
        self._world = world
        self.song_tempo = Parameter(world)


@dataclass(frozen=True)
class WarpMarker:
    beat_time: float
    sample_time: float


class Clip(Lom):
    """An audio clip over a file; warped clips map beats to samples through their warp markers."""

    def __init__(self, world: World, path: str, *, arrangement: bool, start_time: float = 0.0,
                 warping: bool = True, markers: list[tuple[float, float]] | None = None,
                 start_marker: float | None = None, end_marker: float | None = None,
                 looping: bool = False, loop: tuple[float, float] | None = None, length: float | None = None,
                 pitch: tuple[int, float] = (0, 0.0), gain: float = 0.4, name: str = "", midi: bool = False,
                 parent: Any = None) -> None:
        self._world = world
        try:
            info = sf.info(path)
        except Exception as exc:
            raise RuntimeError(f"the path doesn't point to a valid audio file: {path}") from exc
        self._frames, self._rate = int(info.frames), float(info.samplerate)
        self._path = path
        self._arrangement = arrangement
        self._midi = midi
        self._parent = parent
        self._warping = warping
        bps = world_song(world).tempo / 60.0
        default = [(0.0, 0.0), (self._frames / self._rate * bps, float(self._frames))]
        self._markers = [WarpMarker(b, s) for b, s in (markers or default)]
        file_end = self._frames / self._rate if not warping else self.sample_to_beat_time(float(self._frames))
        self._start_marker = 0.0 if start_marker is None else start_marker
        self._end_marker = file_end if end_marker is None else end_marker
        self._loop_start, self._loop_end = loop or (self._start_marker, self._end_marker)
        if looping and not warping:
            raise ValueError("fake set-up: only warped clips loop in Live")
        self._looping = looping
        self._start_time = start_time
        self._length = length
        self._pitch_coarse, self._pitch_fine = pitch
        self._gain = gain
        self._name = name or path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        self.fired = False

    name = _settable("name")
    gain = _settable("gain")

    @property
    def file_path(self) -> str:
        return self._path

    @property
    def is_audio_clip(self) -> bool:
        return not self._midi

    @property
    def is_arrangement_clip(self) -> bool:
        return self._arrangement

    @property
    def canonical_parent(self) -> Any:
        return self._parent

    @property
    def pitch_coarse(self) -> int:
        return self._pitch_coarse

    @property
    def pitch_fine(self) -> float:
        return self._pitch_fine

    @since((11, 1, 0), prop=True)
    def sample_rate(self) -> float:
        return self._rate

    @property
    def sample_length(self) -> int:
        return self._frames

    @property
    def warp_markers(self) -> list[WarpMarker]:
        return list(self._markers)

    @property
    def warping(self) -> bool:
        return self._warping

    @warping.setter
    def warping(self, value: bool) -> None:
        self._world.changed("Clip.warping")
        if value == self._warping:
            return
        if value:
            raise NotModelled("the fake does not model warping an unwarped clip")
        # markers turn from beats into seconds of the file; the clip plays at the file's rate
        self._start_marker = self.beat_to_sample_time(self._start_marker) / self._rate
        self._end_marker = self.beat_to_sample_time(self._end_marker) / self._rate
        self._warping, self._looping, self._length = False, False, None

    @property
    def looping(self) -> bool:
        return self._looping

    @property
    def start_marker(self) -> float:
        return self._start_marker

    @start_marker.setter
    def start_marker(self, value: float) -> None:
        if value >= self._end_marker:
            raise RuntimeError("Invalid start marker position: cannot be set behind the end marker")
        self._world.changed("Clip.start_marker")
        self._start_marker = value

    @property
    def end_marker(self) -> float:
        return self._end_marker

    @end_marker.setter
    def end_marker(self, value: float) -> None:
        if value <= self._start_marker:
            raise RuntimeError("Invalid end marker position: cannot be set before the start marker")
        self._world.changed("Clip.end_marker")
        self._end_marker = value

    @property
    def loop_start(self) -> float:
        return self._loop_start

    @property
    def loop_end(self) -> float:
        return self._loop_end

    @property
    def length(self) -> float:
        return self._end_marker - self._start_marker

    @property
    def start_time(self) -> float:
        return self._start_time

    @property
    def end_time(self) -> float:
        if self._length is not None:
            return self._start_time + self._length
        span = self._end_marker - self._start_marker
        return self._start_time + (span if self._warping else span * world_song(self._world).tempo / 60.0)

    def beat_to_sample_time(self, beat_time: float) -> float:
        if not self._warping:
            raise RuntimeError("Clip.beat_to_sample_time: the sample is not warped")
        return _interpolate([(m.beat_time, m.sample_time) for m in self._markers], beat_time,
                            self._rate / (world_song(self._world).tempo / 60.0))

    def sample_to_beat_time(self, sample_time: float) -> float:
        if not self._warping:
            raise RuntimeError("Clip.sample_to_beat_time: the sample is not warped")
        return _interpolate([(m.sample_time, m.beat_time) for m in self._markers], sample_time,
                            (world_song(self._world).tempo / 60.0) / self._rate)

    def seconds_to_sample_time(self, seconds: float) -> float:
        if self._warping:
            raise RuntimeError("Clip.seconds_to_sample_time: the sample is warped")
        return seconds * self._rate


def _interpolate(points: list[tuple[float, float]], x: float, slope: float) -> float:
    """Piecewise linear through ``points``; past the ends, the nearest segment (``slope`` for one point)."""
    points = sorted(points)
    if len(points) == 1:
        return points[0][1] + (x - points[0][0]) * slope
    i = 0
    while i + 2 < len(points) and x > points[i + 1][0]:
        i += 1
    (x0, y0), (x1, y1) = points[i], points[i + 1]
    return y0 + (x - x0) * (y1 - y0) / (x1 - x0)


class ClipSlot(Lom):
    def __init__(self, world: World, track: Track) -> None:
        self._world = world
        self._track = track
        self._clip: Clip | None = None
        self.fired = False

    @property
    def canonical_parent(self) -> Track:
        return self._track

    @property
    def has_clip(self) -> bool:
        return self._clip is not None

    @property
    def clip(self) -> Clip | None:
        return self._clip

    def put(self, clip: Clip) -> Clip:
        """Set-up only: a clip the set already has."""
        self._clip = clip
        return clip

    @since((11, 3, 25), absent=((12, 0, 0), (12, 0, 4)))
    def create_audio_clip(self, file_path: str) -> Clip:
        if self._clip is not None:
            raise RuntimeError("ClipSlot.create_audio_clip: the slot is not empty")
        self._track._check_audio("ClipSlot.create_audio_clip")
        clip = Clip(self._world, file_path, arrangement=False, parent=self)
        self._world.changed("ClipSlot.create_audio_clip")
        self._clip = clip
        return clip

    def fire(self) -> None:
        self._world.changed("ClipSlot.fire")
        self.fired = True


class TakeLane(Lom):
    def __init__(self, world: World, track: Track) -> None:
        self._world = world
        self._track = track
        self._clips: list[Clip] = []
        self._name = ""

    name = _settable("name")

    @property
    def canonical_parent(self) -> Track:
        return self._track

    @property
    def arrangement_clips(self) -> list[Clip]:
        return list(self._clips)

    def create_audio_clip(self, file_path: str, start_time: float) -> Clip:
        self._track._check_audio("TakeLane.create_audio_clip")
        clip = _arrangement_clip(self._world, self._clips, file_path, start_time, self._track)
        self._world.changed("TakeLane.create_audio_clip")
        return clip


def _arrangement_clip(world: World, lane: list[Clip], path: str, position: float, track: Track) -> Clip:
    if not 0.0 <= position <= MAX_POSITION:
        raise RuntimeError(f"create_audio_clip: time {position} is outside [0., {MAX_POSITION}]")
    clip = Clip(world, path, arrangement=True, start_time=position, parent=track)
    if any(c.start_time < clip.end_time and c.end_time > clip.start_time for c in lane):
        raise NotModelled("the fake does not model a new clip over existing clips of a lane")
    lane.append(clip)
    return clip


class Track(Lom):
    def __init__(self, world: World, name: str, *, midi: bool = False, frozen: bool = False, slots: int = 8) -> None:
        self._world = world
        self._name = name
        self._midi = midi
        self.is_frozen = frozen
        self._clips: list[Clip] = []
        self._slots = [ClipSlot(world, self) for _ in range(slots)]
        self._lanes: list[TakeLane] = []
        self.mixer_device = Mixer(world)

    name = _settable("name")

    @property
    def has_midi_input(self) -> bool:
        return self._midi

    @property
    def has_audio_input(self) -> bool:
        return not self._midi

    @property
    def arrangement_clips(self) -> list[Clip]:
        return list(self._clips)

    @property
    def clip_slots(self) -> list[ClipSlot]:
        return list(self._slots)

    def add(self, path: str, start_time: float, **kwargs: Any) -> Clip:
        """Set-up only: an arrangement clip the set already has."""
        clip = Clip(self._world, path, arrangement=True, start_time=start_time, parent=self, midi=self._midi,
                    **kwargs)
        self._clips.append(clip)
        return clip

    def _check_audio(self, call: str) -> None:
        if self._midi:
            raise RuntimeError(f"{call}: not an audio track")
        if self.is_frozen:
            raise RuntimeError(f"{call}: the track is frozen")

    @since((11, 3, 25), absent=((12, 0, 0), (12, 0, 4)))
    def create_audio_clip(self, file_path: str, position: float) -> Clip | None:
        self._check_audio("Track.create_audio_clip")
        clip = _arrangement_clip(self._world, self._clips, file_path, position, self)
        self._world.changed("Track.create_audio_clip")
        return clip if self._world.has((12, 2, 0)) else None

    @since((12, 2, 0), prop=True)
    def take_lanes(self) -> list[TakeLane]:
        return list(self._lanes)

    @since((12, 2, 0))
    def create_take_lane(self) -> TakeLane:
        lane = TakeLane(self._world, self)
        self._world.changed("Track.create_take_lane")
        self._lanes.append(lane)
        return lane


class SongView(Lom):
    def __init__(self, world: World, track: Track) -> None:
        self._world = world
        self.selected_track = track
        self.detail_clip: Clip | None = None


class Song(Lom):
    def __init__(self, world: World, tempo: float = 120.0, file_path: str = "") -> None:
        self._world = world
        world.song = self
        self.tempo = tempo
        self.file_path = file_path
        self.loop_start = 0.0
        self.loop_length = 16.0
        self.master_track = Track(world, "Main", slots=0)
        self._tracks: list[Track] = []
        self._scenes = 8
        self.view = SongView(world, self.master_track)

    @property
    def tracks(self) -> list[Track]:
        return list(self._tracks)

    def add_track(self, name: str, **kwargs: Any) -> Track:
        """Set-up only."""
        track = Track(self._world, name, slots=self._scenes, **kwargs)
        self._tracks.append(track)
        return track

    def begin_undo_step(self) -> None:
        if self._world.undo_depth == 0:
            self._world.undo_steps.append([])
        self._world.undo_depth += 1

    def end_undo_step(self) -> None:
        if self._world.undo_depth == 0:
            self._world.problems.append("end_undo_step without begin_undo_step")
            return
        self._world.undo_depth -= 1

    def create_audio_track(self, index: int | None = None) -> Track:
        if index is None or not -1 <= index <= len(self._tracks):
            raise RuntimeError(f"create_audio_track: invalid index {index}")
        track = Track(self._world, f"{len(self._tracks) + 1}-Audio", slots=self._scenes)
        self._world.changed("Song.create_audio_track")
        self._tracks.insert(len(self._tracks) if index == -1 else index, track)
        return track

    def create_scene(self, index: int) -> None:
        if index != -1:
            raise NotModelled("the fake models create_scene(-1) only")
        self._world.changed("Song.create_scene")
        self._scenes += 1
        for track in self._tracks:
            track._slots.append(ClipSlot(self._world, track))


def world_song(world: World) -> Song:
    assert world.song is not None, "make the Song before its clips"
    return world.song


class Host:
    """``c_instance``: the song, the status bar and the log."""

    def __init__(self, song: Song) -> None:
        self._song = song
        self.messages: list[str] = []
        self.log: list[str] = []

    def song(self) -> Song:
        return self._song

    def show_message(self, message: str) -> None:
        if not isinstance(message, str):
            raise TypeError("show_message takes a string")
        self.messages.append(message)

    def log_message(self, message: str) -> None:
        self.log.append(message)

    def handle(self) -> int:
        return 7


def live_module() -> tuple[types.ModuleType, Callable[[World], None]]:
    """The ``Live`` module the script imports, and a function that points it at a world."""
    current: list[World] = []

    class ApplicationView:
        @property
        def focused_document_view(self) -> str:
            return current[0].focused_view

    class Application:
        view = ApplicationView()

        def get_major_version(self) -> int:
            return current[0].version[0]

        def get_minor_version(self) -> int:
            return current[0].version[1]

        def get_bugfix_version(self) -> int:
            return current[0].version[2]

    def forward_midi_note(script: int, midi_map: int, channel: int, note: int, consume: bool = True) -> bool:
        if script != 7 or not 0 <= channel <= 15 or not 0 <= note <= 127:
            raise RuntimeError("forward_midi_note: bad handle, channel or note")
        current[0].forwarded.append((channel, note))
        return True

    live = types.ModuleType("Live")
    application = types.ModuleType("Live.Application")
    application.get_application = Application  # type: ignore[attr-defined]
    midi_map = types.ModuleType("Live.MidiMap")
    midi_map.MapMode = types.SimpleNamespace(absolute=0)  # type: ignore[attr-defined]
    midi_map.forward_midi_note = forward_midi_note  # type: ignore[attr-defined]
    live.Application = application  # type: ignore[attr-defined]
    live.MidiMap = midi_map  # type: ignore[attr-defined]

    def use(world: World) -> None:
        current[:] = [world]

    return live, use
