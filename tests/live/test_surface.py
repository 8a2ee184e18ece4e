"""End to end: the remote script in-process on the fake Live, a real daemon process, real UDP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest
from InpaintBridge import create_instance
from InpaintBridge.surface import InpaintBridge

from bridge.control.osc import decode_packet, encode_message

from ..daemon_helpers import OscClient
from .conftest import RATE, LiveSet, frames
from .fake_live import Clip, Track

pytestmark = pytest.mark.xdist_group("live-daemon")  # one daemon for the module, on one worker


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Daemon:
    port: int
    live_port: int


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    """``inpaint-bridge serve`` as a process, media root over every test's temporary folder."""
    home = tmp_path_factory.mktemp("daemon-home")
    port, live_port = free_port(), free_port()
    env = {**os.environ, "INPAINT_BRIDGE_HOME": str(home), "INPAINT_BRIDGE_LIVE_PORT": str(live_port)}
    proc = subprocess.Popen([sys.executable, "-m", "bridge", "serve", "--osc-port", str(port), "--media-root",
                             str(tmp_path_factory.getbasetemp())], stderr=subprocess.DEVNULL, env=env)
    client = OscClient(("127.0.0.1", port))
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                client.ping(0.3)
                break
            except AssertionError:
                assert time.monotonic() < deadline and proc.poll() is None, "the daemon did not come up"
        yield Daemon(port, live_port)
    finally:
        client.close()
        proc.terminate()
        proc.wait(30)


class Script:
    """The remote script as Live runs it: created with c_instance, ticked, sent OSC."""

    def __init__(self, live: LiveSet, listen: int, daemon: int, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("INPAINT_BRIDGE_LIVE_PORT", str(listen))
        monkeypatch.setenv("INPAINT_BRIDGE_OSC_PORT", str(daemon))
        self.live = live
        self.surface: InpaintBridge = create_instance(cast(Any, live.host))
        self.listen = listen
        self.peer = OscClient(("127.0.0.1", listen))

    def send(self, address: str, *args: object) -> None:
        self.peer.send(address, *args)

    def tick(self) -> None:
        self.surface.update_display()

    def tick_until(self, done: Callable[[], object], timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            assert time.monotonic() < deadline, f"not within {timeout} s; shown: {self.live.shown[-5:]}"
            self.tick()
            time.sleep(0.02)

    def answer(self, address: str, timeout: float = 10.0) -> list[Any]:
        """The arguments of the script's next answer to the test's socket, ticking meanwhile."""
        deadline = time.monotonic() + timeout
        while True:
            self.tick()
            try:
                return self.peer.wait_for(lambda m: m[0] == address, 0.02)[1]
            except AssertionError:
                assert time.monotonic() < deadline, f"no {address} within {timeout} s"

    def shown(self, words: str) -> bool:
        return any(words in message for message in self.live.shown)

    def close(self) -> None:
        self.surface.disconnect()
        self.peer.close()


@pytest.fixture
def script(daemon: Daemon, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Script]]:
    made: list[Script] = []

    def make(live: LiveSet, daemon_port: int | None = None) -> Script:
        made.append(Script(live, daemon.live_port, daemon_port or daemon.port, monkeypatch))
        return made[-1]

    yield make
    for s in made:
        s.close()


def drums(make_set: Callable[..., LiveSet], source: Path, version: tuple[int, int, int] = (12, 2, 0),
          **clip: Any) -> tuple[LiveSet, Track]:
    """A saved set; track 'Drums' with one clip at beat 8 (4 s) from 1 s of the file, the loop
    brace over beats 12 to 14: seconds 3 to 4 of the file."""
    project = source.parent.parent / "Set Project"
    project.mkdir(exist_ok=True)
    live = make_set(version, file_path=str(project / "Set.als"))
    track = live.song.add_track("Drums")
    track.add(str(source), 8.0, **({"warping": False, "start_marker": 1.0, "end_marker": 9.0} | clip))
    live.song.view.selected_track = track
    live.song.loop_start, live.song.loop_length = 12.0, 2.0
    return live, track


def session_loop(make_set: Callable[..., LiveSet], source: Path) -> tuple[LiveSet, Track]:
    """Session view in front; track 'Loops' with a clip in slot 1, selected, looping beats 2 to 6: seconds
    1 to 3 of the file."""
    live = make_set()
    track = live.song.add_track("Loops")
    slot = track.clip_slots[0]
    live.song.view.detail_clip = slot.put(Clip(live.world, str(source), arrangement=False, parent=slot,
                                               markers=[(0.0, 0.0), (24.0, 12.0 * RATE)], looping=True,
                                               loop=(2.0, 6.0)))
    live.world.focused_view = "Session"
    return live, track


def check_take(clip: Clip, source: Path) -> dict[str, Any]:
    """The take's file is the source's own samples outside the range; its manifest says so."""
    path = Path(clip.file_path)
    manifest: dict[str, Any] = json.loads(path.with_name(path.name + ".json").read_text())
    patch, orig = frames(path), frames(source)
    lo = round(manifest["take"]["take_start"] * RATE)
    a, b = manifest["range"]["start_frame"] - lo, manifest["range"]["end_frame"] - lo
    assert np.array_equal(patch[:a], orig[lo : lo + a]) and np.array_equal(patch[b:], orig[lo + b : lo + len(patch)])
    assert not np.array_equal(patch[a:b], orig[lo + a : lo + b])
    assert clip.name == f"{manifest['prompt'] or manifest['operation']} #{manifest['seed']}"
    assert not clip.warping and clip.start_marker == 0.0
    return manifest


def lane_clips(track: Track) -> list[Clip]:
    return [clip for lane in track.take_lanes for clip in lane.arrangement_clips]


def test_loop_brace_to_a_take_lane_at_the_right_beat(make_set: Callable[..., LiveSet], source: Path,
                                                     script: Callable[..., Script]) -> None:
    live, track = drums(make_set, source)
    s = script(live)
    s.send("/live/inpaint", "")
    s.tick_until(lambda: lane_clips(track))
    assert s.peer.reply("/live/sent")[1] == ["inpaint", str(source), 3.0, 4.0]
    (clip,) = lane_clips(track)
    manifest = check_take(clip, source)
    assert (manifest["range"]["start"], manifest["range"]["end"], manifest["take"]["take_start"]) == (3.0, 4.0, 2.5)
    # the take's first sample is 2.5 s of the file, which the original clip plays at beat 8 + 1.5 * 2 = 11
    assert clip.start_time == pytest.approx(11.0) and track.take_lanes[0].name == clip.name
    assert Path(clip.file_path).parent == source.parent.parent / "Set Project" / "Samples" / "Processed" / \
        "Inpaint Bridge"
    assert live.world.undo_steps == [["Track.create_take_lane", "TakeLane.name", "TakeLane.create_audio_clip",
                                      "Clip.warping", "Clip.name", "Clip.gain"]]
    assert s.shown("sent") and s.shown(f"take '{clip.name}' is on a new take lane of 'Drums'")
    assert len(track.arrangement_clips) == 1


def test_live_12_0_5_puts_the_take_on_a_new_track_below(make_set: Callable[..., LiveSet], source: Path,
                                                        script: Callable[..., Script]) -> None:
    live, track = drums(make_set, source, (12, 0, 5))
    live.song.add_track("Bass")
    s = script(live)
    s.send("/live/inpaint", "")
    s.tick_until(lambda: len(live.song.tracks) == 3)
    names = [t.name for t in live.song.tracks]
    new = live.song.tracks[1]
    assert names[0] == "Drums" and names[2] == "Bass" and new.name.startswith("inpaint #")
    (clip,) = new.arrangement_clips
    check_take(clip, source)
    assert clip.start_time == pytest.approx(11.0) and len(live.world.undo_steps) == 1


def test_live_11_0_names_the_file_and_changes_nothing(make_set: Callable[..., LiveSet], source: Path,
                                                      script: Callable[..., Script]) -> None:
    live, track = drums(make_set, source, (11, 0, 0))
    s = script(live)
    s.send("/live/inpaint", "")
    s.tick_until(lambda: s.shown("cannot add clips from a script"))
    assert s.shown("the file is " + str(source.parent.parent / "Set Project" / "Samples" / "Processed"))
    assert len(live.song.tracks) == 1 and len(track.arrangement_clips) == 1 and live.world.undo_steps == []


def test_warped_one_to_one_clip_lands_in_line(make_set: Callable[..., LiveSet], source: Path,
                                              script: Callable[..., Script]) -> None:
    live, track = drums(make_set, source, warping=True, markers=[(0.0, 0.0), (24.0, 12.0 * RATE)],
                        start_marker=2.0, end_marker=18.0)
    s = script(live)
    s.send("/live/inpaint", "")
    s.tick_until(lambda: lane_clips(track))
    (clip,) = lane_clips(track)
    check_take(clip, source)
    assert clip.start_time == pytest.approx(11.0)


def test_warp_that_is_not_one_to_one_is_refused_where_it_was_asked(make_set: Callable[..., LiveSet],
                                                                   source: Path,
                                                                   script: Callable[..., Script]) -> None:
    live, track = drums(make_set, source, warping=True, markers=[(0.0, 0.0), (24.0, 10.0 * RATE)],
                        start_marker=2.0, end_marker=18.0)
    s = script(live)
    s.send("/live/inpaint", "")
    s.tick_until(lambda: s.shown("consolidate or freeze and flatten the clip first"))
    address, (what, message) = s.peer.reply("/live/error")
    assert what == "/live/inpaint" and "not warped 1:1" in message
    assert track.take_lanes == [] and live.world.undo_steps == []


def test_session_clip_take_goes_into_the_next_slot_and_launches(make_set: Callable[..., LiveSet], source: Path,
                                                                script: Callable[..., Script]) -> None:
    live, track = session_loop(make_set, source)
    s = script(live)
    s.send("/live/inpaint", "", "launch", 1)
    s.tick_until(lambda: track.clip_slots[1].has_clip)
    new_slot = track.clip_slots[1]
    clip = new_slot.clip
    assert clip is not None and new_slot.fired and not clip.warping
    path = Path(clip.file_path)
    manifest = json.loads(path.with_name(path.name + ".json").read_text())
    assert (manifest["range"]["start"], manifest["range"]["end"], manifest["take"]["take_start"]) == (1.0, 3.0, 0.5)
    assert (clip.start_marker, clip.end_marker) == pytest.approx((0.5, 2.5))
    assert s.shown("is in slot 2 of 'Loops', launching") and len(live.world.undo_steps) == 1


def test_a_bank_held_in_the_daemon_lands_slot_by_slot_as_pads_play_it(make_set: Callable[..., LiveSet], source: Path,
                                                                     daemon: Daemon,
                                                                     script: Callable[..., Script]) -> None:
    live, track = session_loop(make_set, source)
    s = script(live)
    client = OscClient(("127.0.0.1", daemon.port))
    try:
        client.send("/bridge/subscribe")
        client.reply("/bridge/status")
        s.send("/live/inpaint", "", "variations", 2, "hold", 1, "launch", 1)
        ready: set[str] = set()
        deadline = time.monotonic() + 60
        while len(ready) < 2:  # both takes wait in the bank; nothing is placed until a pad plays one
            assert time.monotonic() < deadline, "the bank did not fill"
            s.tick()
            try:
                ready.add(client.wait_for(lambda m: m[0] == "/bridge/progress" and m[1][1] == "ready", 0.05)[1][0])
            except AssertionError:
                continue
        assert not track.clip_slots[1].has_clip
        client.send("/bridge/select", 2)
        s.tick_until(lambda: track.clip_slots[1].has_clip)
        new_slot = track.clip_slots[1]
        assert new_slot.fired and s.shown("launching") and not track.clip_slots[2].has_clip
    finally:
        client.close()


def test_variations_and_regenerate_each_land_once(make_set: Callable[..., LiveSet], source: Path,
                                                  script: Callable[..., Script]) -> None:
    live, track = drums(make_set, source)
    s = script(live)
    real = s.surface._socket
    assert real is not None
    s.surface._socket = cast(Any, Duplicating(real))  # every datagram arrives twice
    s.surface.receive_midi((0x99, 36, 100))  # a pad Live forwards (note 36 on channel 10)
    s.tick_until(lambda: len(lane_clips(track)) == 1)
    s.surface._socket = real
    s.send("/live/inpaint", "", "variations", 2)
    s.tick_until(lambda: len(lane_clips(track)) == 3)
    s.send("/live/regenerate")
    s.tick_until(lambda: len(lane_clips(track)) == 4)
    clips = lane_clips(track)
    seeds = [check_take(clip, source)["seed"] for clip in clips]
    # local takes the best donor (seed 0) unless a seed is set; variations and regenerate count on from it
    assert sorted(seeds) == [0, 0, 1, 2] and all(c.start_time == pytest.approx(11.0) for c in clips)
    assert len(live.world.undo_steps) == 4


def test_a_pad_on_the_daemon_makes_the_script_capture(make_set: Callable[..., LiveSet], source: Path,
                                                      daemon: Daemon, script: Callable[..., Script]) -> None:
    live, track = drums(make_set, source)
    s = script(live)
    client = OscClient(("127.0.0.1", daemon.port))
    try:
        client.send("/bridge/live", "inpaint", "room tone")
        assert client.reply("/bridge/status")[1] == ["live", "inpaint", "sent to port", daemon.live_port]
    finally:
        client.close()
    s.tick_until(lambda: lane_clips(track))
    assert lane_clips(track)[0].name.startswith("room tone #")


def test_no_daemon_shows_a_message_within_5_s_and_changes_nothing(make_set: Callable[..., LiveSet],
                                                                  source: Path,
                                                                  script: Callable[..., Script]) -> None:
    live, track = drums(make_set, source)
    s = script(live, daemon_port=free_port())
    t0 = time.monotonic()
    s.send("/live/inpaint", "")
    s.tick_until(lambda: s.shown("does not answer"), timeout=10)
    assert time.monotonic() - t0 < 5.0
    assert s.shown("start it with 'inpaint-bridge serve'") and track.take_lanes == [] and not live.world.undo_steps


def test_ticks_that_stall_for_3_s_lose_nothing(make_set: Callable[..., LiveSet], source: Path,
                                               script: Callable[..., Script]) -> None:
    live, track = drums(make_set, source)
    s = script(live)
    s.surface.receive_midi((0x90, 36, 90))  # sent at once; then Live's menu is open: no ticks
    folder = source.parent.parent / "Set Project" / "Samples" / "Processed" / "Inpaint Bridge"
    stalled = time.monotonic()
    while not list(folder.glob("*.json")) or time.monotonic() - stalled < 3.0:
        time.sleep(0.05)
    s.tick_until(lambda: lane_clips(track))
    assert not s.shown("does not answer") and len(lane_clips(track)) == 1


def test_bad_requests_are_answered_where_they_came_from(make_set: Callable[..., LiveSet], source: Path,
                                                        script: Callable[..., Script]) -> None:
    live, track = drums(make_set, source)
    s = script(live)
    s.send("/live/inpaint", "", "launch", 7)
    s.send("/live/inpaint", 3)
    s.send("/live/nope")
    s.send("/live/ping")
    s.peer.send_raw(b"/live/inpaint\x00\x00\x00,s\x00\x00abc")  # a string without its NUL
    s.send("/live/inpaint", "", "seed", -1)  # the daemon refuses this one
    s.tick_until(lambda: s.shown("inpaint-bridge refused /bridge/inpaint"))
    assert s.peer.reply("/live/error")[1] == ["/live/inpaint", "/live/inpaint: launch = 7: must be 0 or 1"]
    assert s.peer.reply("/live/error")[1] == ["/live/inpaint", "/live/inpaint: prompt = 3: must be a string"]
    assert s.peer.reply("/live/error")[1][0] == "/live/nope"
    assert s.peer.reply("/live/pong")[1] == ["0.2.0", "12.2.0"]
    assert s.peer.reply("/live/error")[1][0] == "(datagram)"
    assert s.shown("seed = -1") and track.take_lanes == []


def test_report_says_what_this_live_does(make_set: Callable[..., LiveSet], source: Path,
                                         script: Callable[..., Script]) -> None:
    live, track = drums(make_set, source, (12, 0, 5))
    live.song.view.detail_clip = track.arrangement_clips[0]
    s = script(live)
    s.send("/live/report")
    report = json.loads(s.answer("/live/report")[0])
    assert report["live"] == "12.0.5" and report["features"] == {
        "Track.create_take_lane": False, "Track.create_audio_clip": True, "ClipSlot.create_audio_clip": True}
    assert report["arrangement"] == {"source": str(source), "start": 3.0, "end": 4.0}
    assert report["detail_clip"]["seconds_to_sample_time(1.0)"] == RATE
    assert report["detail_clip"]["beat_to_sample_time(1.0)"].startswith("error: RuntimeError")


def test_pads_are_forwarded_on_every_channel(make_set: Callable[..., LiveSet],
                                             script: Callable[..., Script]) -> None:
    live = make_set()
    s = script(live)
    s.surface.build_midi_map(3)
    assert sorted(live.world.forwarded) == sorted((c, n) for c in range(16) for n in (36, 37, 38))


class Duplicating:
    """The script's socket, with every datagram delivered twice."""

    def __init__(self, real: socket.socket) -> None:
        self.real = real
        self.again: list[tuple[bytes, Any]] = []

    def recvfrom(self, size: int) -> tuple[bytes, Any]:
        if self.again:
            return self.again.pop()
        got = self.real.recvfrom(size)
        if not any(a.startswith("/live/") for a, _ in decode_packet(got[0])):
            self.again.append(got)
        return got

    def sendto(self, data: bytes, to: Any) -> int:
        return self.real.sendto(data, to)

    def close(self) -> None:
        self.real.close()



def test_the_status_bar_carries_a_paid_jobs_estimated_cost(make_set: Callable[..., LiveSet], source: Path,
                                                           script: Callable[..., Script]) -> None:
    live, _ = drums(make_set, source)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as quiet:  # a daemon stand-in that stays silent
        quiet.bind(("127.0.0.1", 0))
        s = script(live, daemon_port=quiet.getsockname()[1])
        s.send("/live/inpaint", "rain", "engine", "fal")
        s.answer("/live/sent")
        script_at = ("127.0.0.1", s.listen)
        quiet.sendto(encode_message("/bridge/accepted", ["j1", 0.0331]), script_at)  # a paid request's answer
        s.tick_until(lambda: s.shown("queued 0%, about $0.0331 at the service"))
        quiet.sendto(encode_message("/bridge/accepted", ["j2", -1.0]), script_at)
        s.tick_until(lambda: s.shown("at a price the service does not publish"))


def test_a_take_whose_model_regenerated_less_than_the_range_says_so(make_set: Callable[..., LiveSet],
                                                                    source: Path, tmp_path: Path,
                                                                    script: Callable[..., Script]) -> None:
    live, track = drums(make_set, source)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as quiet:  # the daemon, played by the test
        quiet.bind(("127.0.0.1", 0))
        s = script(live, daemon_port=quiet.getsockname()[1])
        s.send("/live/inpaint", "rain", "engine", "fal")
        s.answer("/live/sent")
        take = tmp_path / "take.wav"
        take.write_bytes(source.read_bytes())
        note = "the model regenerated 3.000-3.900 s of the 3.000-4.000 s asked for (fal-ai/... masks whole seconds)"
        manifest = tmp_path / "take.wav.json"
        manifest.write_text(json.dumps({"source": str(source), "range": {"start": 3.0, "end": 4.0},
                                        "take": {"take_start": 0.0}, "prompt": "rain", "notes": [note]}))
        quiet.sendto(encode_message("/bridge/done", ["j1", str(take), 0.0, 12.0, 5, str(manifest)]),
                     ("127.0.0.1", s.listen))
        s.tick_until(lambda: lane_clips(track))
        assert s.shown(note)
