"""The control surface Live talks to: OSC in and out, the range, the take back in the set.

Live calls the methods of :class:`InpaintBridge` on its main thread. There are no threads
and nothing blocks: one non-blocking UDP socket on 127.0.0.1 is read from
``update_display`` (about every 100 ms, and not at all while a menu is open), so every
answer is matched by its content and every insert is done once, whenever it arrives.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
import traceback
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Dict, List, Optional, Sequence, Tuple

import Live

from . import settings as settings_file
from .osc import OscError, decode, encode
from .placement import PlaceError, Take, place
from .timeline import Capture, Refused, capture

if TYPE_CHECKING:
    from typing import Protocol

    from Live.Clip import Clip
    from Live.Song import Song

    class Host(Protocol):
        """What Live hands a control surface: ``c_instance``."""

        def song(self) -> Song: ...

        def show_message(self, message: str) -> None: ...

        def log_message(self, message: str) -> None: ...

        def handle(self) -> int: ...


VERSION = "0.2.0"
ANSWER_TIMEOUT_S = 3.0
"""A request the daemon has not answered in this long is reported (the daemon answers at once)."""
MAX_DATAGRAMS_PER_TICK = 64
REMEMBERED = 64
OPERATIONS = ("inpaint", "transform", "generate")
FINAL = ("cancelled", "failed", "done")
HOST = "127.0.0.1"

Sender = Tuple[str, int]


@dataclass(frozen=True)
class Sent:
    """A range sent to the daemon, waiting for its takes."""

    capture: Capture
    launch: bool


class InpaintBridge:
    """Live's control surface for inpaint-bridge (``create_instance`` returns one)."""

    def __init__(self, c_instance: Host) -> None:
        self._host = c_instance
        folder = os.path.dirname(os.path.abspath(__file__))
        self._settings, problems = settings_file.load(folder, os.environ)
        self._daemon: Sender = (HOST, self._settings.daemon_port)
        self._sent: List[Sent] = []
        self._waiting: List[float] = []
        self._jobs: Dict[str, Tuple[str, float]] = {}
        self._costs: Dict[str, float] = {}
        """The estimated cost of each of our jobs, from /bridge/accepted (0 local, -1 not published)."""
        self._placed: List[str] = []
        self._socket = self._open()
        if self._socket is not None:
            self._show("{} listening on {}:{}; the daemon is expected at {}:{}".format(
                VERSION, HOST, self._settings.listen_port, *self._daemon))
        for problem in problems:
            self._show(problem)
        self._to_daemon("/bridge/subscribe", [self._settings.listen_port])

    # ------------------------------------------------------------------ Live's callbacks

    def disconnect(self) -> None:
        if self._socket is not None:
            self._to_daemon("/bridge/unsubscribe", [self._settings.listen_port])
            self._socket.close()
            self._socket = None

    def update_display(self) -> None:
        self._guard("update_display", self._tick)

    def refresh_state(self) -> None:
        pass

    def connect_script_instances(self, instances: object) -> None:
        pass

    def can_lock_to_devices(self) -> bool:
        return False

    def suggest_input_port(self) -> str:
        return ""

    def suggest_output_port(self) -> str:
        return ""

    def suggest_map_mode(self, cc_no: int, channel: int) -> int:
        return int(Live.MidiMap.MapMode.absolute)

    def port_settings_changed(self) -> None:
        pass

    def build_midi_map(self, midi_map_handle: int) -> None:
        def forward() -> None:
            for note in self._settings.notes:
                for channel in range(16):
                    Live.MidiMap.forward_midi_note(self._host.handle(), midi_map_handle, channel, note)
        self._guard("build_midi_map", forward)

    def receive_midi(self, midi_bytes: Tuple[int, ...]) -> None:
        if len(midi_bytes) == 3 and midi_bytes[0] & 0xF0 == 0x90 and midi_bytes[2] > 0:
            action = self._settings.notes.get(midi_bytes[1])
            if action is not None:
                self._guard(action, self._action, action)

    # ------------------------------------------------------------------ the tick

    def _tick(self) -> None:
        self._drain()
        if self._waiting and time.monotonic() - self._waiting[0] > ANSWER_TIMEOUT_S:
            self._unreachable()

    def _drain(self) -> None:
        """Every datagram that arrived since the last tick (answers first, then the timeouts)."""
        for _ in range(MAX_DATAGRAMS_PER_TICK):
            if self._socket is None:
                return
            try:
                data, sender = self._socket.recvfrom(65536)
            except BlockingIOError:
                return
            except ConnectionError:  # Windows reports an unreachable daemon on the next read
                self._unreachable()
                continue
            if sender[0] != HOST:
                continue
            try:
                messages = decode(data)
            except OscError as exc:
                self._reply(sender, "/live/error", ["(datagram)", str(exc)])
                continue
            for address, args in messages:
                self._guard(address, self._handle, address, args, (str(sender[0]), int(sender[1])))

    def _handle(self, address: str, args: List[object], sender: Sender) -> None:
        if address.startswith("/bridge/"):
            if sender == self._daemon:
                self._waiting = []
                self._from_daemon(address, args)
            return
        operation = address[len("/live/"):] if address.startswith("/live/") else ""
        if operation in OPERATIONS:
            self._request(operation, args, sender)
        elif operation in ("regenerate", "cancel"):
            self._forward(operation, args, sender)
        elif operation == "ping":
            self._reply(sender, "/live/pong", [VERSION, _live_version()])
        elif operation == "report":
            self._reply(sender, "/live/report", [json.dumps(self._report(), sort_keys=True)])
        else:
            self._reply(sender, "/live/error", [address[:128], "unknown address; known: /live/inpaint, "
                                                "/live/transform, /live/generate, /live/regenerate, "
                                                "/live/cancel, /live/ping, /live/report"])

    # ------------------------------------------------------------------ requests

    def _action(self, action: str) -> None:
        if action in OPERATIONS:
            self._request(action, [], None)
        else:
            self._forward(action, [], None)

    def _request(self, operation: str, args: Sequence[object], sender: Optional[Sender]) -> None:
        address = "/live/" + operation
        try:
            prompt, options = _arguments(address, args)
            launch = _flag(address, "launch", options.pop("launch", False))
            view = options.pop("view", None)
            if view not in (None, "session", "arrangement"):
                raise Refused("{}: view = {!r}: must be session or arrangement".format(address, view))
            song = self._host.song()
            in_session = view == "session" or (view is None and _focused_view() == "Session")
            marked = capture(song, in_session)
        except Refused as exc:
            self._refuse(address, str(exc), sender)
            return
        options.setdefault("reply_port", self._settings.listen_port)
        folder = _take_folder(song)
        if folder is not None:
            options.setdefault("project", folder)
        pairs: List[object] = []
        for key, value in options.items():
            pairs.extend([key, value])
        if not self._to_daemon("/bridge/subscribe", [self._settings.listen_port]) or \
                not self._to_daemon("/bridge/" + operation, [marked.source, marked.start, marked.end, prompt] + pairs):
            return
        self._waiting.append(time.monotonic())
        self._sent = (self._sent + [Sent(marked, launch)])[-REMEMBERED:]
        self._show("{} of '{}' ({:.3f} to {:.3f} s of the file) sent".format(operation, marked.clip_name,
                                                                              marked.start, marked.end))
        if sender is not None and sender != self._daemon:
            self._reply(sender, "/live/sent", [operation, marked.source, marked.start, marked.end])

    def _forward(self, operation: str, args: Sequence[object], sender: Optional[Sender]) -> None:
        address = "/live/" + operation
        if len(args) > 1 or (args and not isinstance(args[0], str)):
            self._refuse(address, "{}: takes at most one argument, a job id".format(address), sender)
            return
        if self._to_daemon("/bridge/" + operation, list(args)):
            self._waiting.append(time.monotonic())
            self._show("{} sent".format(operation))

    def _refuse(self, address: str, message: str, sender: Optional[Sender]) -> None:
        self._show(message)
        if sender is not None and sender != self._daemon:
            self._reply(sender, "/live/error", [address, message])

    # ------------------------------------------------------------------ the daemon's answers

    def _from_daemon(self, address: str, args: List[object]) -> None:
        job = str(args[0]) if args else ""
        if address == "/bridge/accepted":
            if self._sent:  # the daemon tells subscribers of other surfaces' jobs too
                self._jobs[job] = ("queued", 0.0)
                cost = args[1] if len(args) > 1 and isinstance(args[1], (int, float)) else 0.0
                self._costs[job] = float(cost)
                self._show_jobs()
        elif address == "/bridge/progress" and len(args) >= 3:
            if job in self._jobs or self._sent:
                state, fraction = str(args[1]), float(args[2]) if isinstance(args[2], (int, float)) else 0.0
                self._jobs[job] = (state, fraction)
                self._show_jobs()
                if state in FINAL:
                    del self._jobs[job]
                    self._costs.pop(job, None)
        elif address == "/bridge/done" and len(args) >= 6:
            self._done(job, str(args[1]), args[4], str(args[5]))
        elif address == "/bridge/error" and len(args) >= 2:
            if job.startswith("/bridge/"):
                self._show("inpaint-bridge refused {}: {}".format(job, args[1]))
            elif self._jobs.pop(job, None) is not None:
                self._costs.pop(job, None)
                self._show("job {} failed: {}".format(job, args[1]))

    def _done(self, job: str, path: str, seed: object, manifest_path: str) -> None:
        if job in self._placed:
            return
        ours = self._jobs.pop(job, None) is not None
        self._costs.pop(job, None)
        try:
            with open(manifest_path, "rb") as handle:
                manifest = json.loads(handle.read(1 << 20).decode("utf-8"))
            span = manifest["range"]
            sent = self._match(str(manifest["source"]), float(span["start"]), float(span["end"]))
            take = Take(path, float(manifest["take"]["take_start"]), float(span["start"]), float(span["end"]),
                        "{} #{}".format(manifest.get("prompt") or manifest.get("operation") or "inpaint", seed))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            if ours:
                self._show("the take {} is ready, but its manifest cannot be read ({})".format(path, exc))
            return
        if sent is None:  # another surface's job, or one sent before the script started
            return
        self._placed = (self._placed + [job])[-REMEMBERED:]
        regenerated = [n for n in manifest.get("notes", []) if isinstance(n, str) and "regenerated" in n]
        try:
            self._show(" ".join([place(self._host.song(), sent.capture, take, sent.launch)] + regenerated[:1]))
        except (PlaceError, RuntimeError, ValueError) as exc:
            self._show("could not place take '{}': {}; the file is {}".format(take.name, exc, path))

    def _match(self, source: str, start: float, end: float) -> Optional[Sent]:
        wanted = _same_file(source)
        for sent in reversed(self._sent):
            marked = sent.capture
            if abs(marked.start - start) < 1e-6 and abs(marked.end - end) < 1e-6 and \
                    _same_file(marked.source) == wanted:
                return sent
        return None

    def _show_jobs(self) -> None:
        if not self._jobs:
            return
        job, (state, fraction) = list(self._jobs.items())[-1]
        text = "{} {:.0f}%".format(state, 100.0 * fraction)
        cost = self._costs.get(job, 0.0)
        if cost > 0:
            text += ", about ${:.4f} at the service".format(cost)
        elif cost < 0:
            text += ", at a price the service does not publish"
        if len(self._jobs) > 1:
            text = "{} jobs; the latest is {}".format(len(self._jobs), text)
        self._show(text)

    def _unreachable(self) -> None:
        self._waiting = []
        self._show("the inpaint-bridge daemon does not answer at {}:{}: start it with 'inpaint-bridge serve' "
                   "(nothing in the set was changed)".format(*self._daemon))

    # ------------------------------------------------------------------ plumbing

    def _open(self) -> Optional[socket.socket]:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setblocking(False)
        try:
            sock.bind((HOST, self._settings.listen_port))
        except OSError as exc:
            sock.close()
            self._show("cannot listen on {}:{} ({}): another program uses the port; set listen_port in "
                       "settings.json beside the script".format(HOST, self._settings.listen_port, exc))
            return None
        return sock

    def _to_daemon(self, address: str, args: List[object]) -> bool:
        if self._socket is None:
            self._show("not listening on port {}, so nothing was sent".format(self._settings.listen_port))
            return False
        try:
            self._socket.sendto(encode(address, args), self._daemon)
        except (OSError, OscError) as exc:
            self._show("cannot send {} to {}:{}: {}".format(address, self._daemon[0], self._daemon[1], exc))
            return False
        return True

    def _reply(self, sender: Sender, address: str, args: List[object]) -> None:
        if self._socket is not None and sender != self._daemon:
            try:
                self._socket.sendto(encode(address, args), sender)
            except OSError as exc:
                self._host.log_message("InpaintBridge: cannot answer {}: {}".format(sender, exc))

    def _show(self, text: str) -> None:
        self._host.show_message("Inpaint Bridge: " + text)
        self._host.log_message("InpaintBridge: " + text)

    def _guard(self, what: str, action: Callable[..., None], *args: object) -> None:
        """Run one callback; a failure is shown in plain words (and in Log.txt), never lost."""
        try:
            action(*args)
        except Exception as exc:
            self._host.log_message("InpaintBridge: {} failed:\n{}".format(what, traceback.format_exc()))
            self._show("{} failed: {} (details in Live's Log.txt)".format(what, exc))

    def _report(self) -> Dict[str, object]:
        """What this Live does with the calls the script relies on, for a bug report."""
        song = self._host.song()
        track = song.view.selected_track
        report: Dict[str, object] = {
            "script": VERSION, "live": _live_version(), "python": sys.version.split()[0],
            "view": _attempt(_focused_view), "tempo": _attempt(lambda: song.tempo),
            "tempo_automation": _attempt(lambda: int(song.master_track.mixer_device.song_tempo.automation_state)),
            "loop": _attempt(lambda: [song.loop_start, song.loop_length]),
            "features": {"Track.create_take_lane": hasattr(track, "create_take_lane"),
                         "Track.create_audio_clip": hasattr(track, "create_audio_clip"),
                         "ClipSlot.create_audio_clip": all(hasattr(s, "create_audio_clip") for s in track.clip_slots)},
        }
        clip = song.view.detail_clip
        if clip is not None:
            report["detail_clip"] = _clip_facts(clip)
        for view in ("arrangement", "session"):
            try:
                marked = capture(song, view == "session")
                report[view] = {"source": marked.source, "start": marked.start, "end": marked.end}
            except Refused as exc:
                report[view] = {"refused": str(exc)}
        return report


def _arguments(address: str, args: Sequence[object]) -> Tuple[str, Dict[str, object]]:
    """``[prompt] [key value ...]``: an odd count starts with the prompt."""
    rest = list(args)
    prompt = ""
    if len(rest) % 2:
        first = rest.pop(0)
        if not isinstance(first, str):
            raise Refused("{}: prompt = {!r}: must be a string".format(address, first))
        prompt = first
    options: Dict[str, object] = {}
    for key, value in zip(rest[::2], rest[1::2]):
        if not isinstance(key, str) or not key:
            raise Refused("{}: option key {!r}: must be a name such as variations or seed".format(address, key))
        if not isinstance(value, (str, int, float, bool)):
            raise Refused("{}: {} = {!r}: must be a number, string or boolean".format(address, key, value))
        options[key] = value
    return prompt, options


def _flag(address: str, name: str, value: object) -> bool:
    if value in (0, 1, "0", "1", True, False):
        return value in (1, "1", True)
    raise Refused("{}: {} = {!r}: must be 0 or 1".format(address, name, value))


def _take_folder(song: Song) -> Optional[str]:
    """Where the set keeps processed samples (None for an unsaved set: the daemon's takes folder)."""
    if not song.file_path:
        return None
    folder = os.path.join(os.path.dirname(song.file_path), "Samples", "Processed", "Inpaint Bridge")
    os.makedirs(folder, exist_ok=True)
    return folder


def _same_file(path: str) -> str:
    return os.path.normcase(os.path.realpath(path))


def _live_version() -> str:
    app = Live.Application.get_application()
    return "{}.{}.{}".format(app.get_major_version(), app.get_minor_version(), app.get_bugfix_version())


def _focused_view() -> str:
    return str(Live.Application.get_application().view.focused_document_view)


def _attempt(read: Callable[[], object]) -> object:
    try:
        return read()
    except Exception as exc:
        return "error: {}: {}".format(type(exc).__name__, exc)


def _clip_facts(clip: Clip) -> Dict[str, object]:
    names = ("name", "is_arrangement_clip", "is_audio_clip", "file_path", "warping", "looping", "start_time",
             "end_time", "start_marker", "end_marker", "loop_start", "loop_end", "length", "sample_rate",
             "sample_length", "pitch_coarse", "pitch_fine", "gain")

    def read(name: str) -> object:
        return _attempt(lambda: getattr(clip, name))

    facts: Dict[str, object] = {name: read(name) for name in names}
    facts["seconds_to_sample_time(1.0)"] = _attempt(lambda: clip.seconds_to_sample_time(1.0))
    facts["beat_to_sample_time(1.0)"] = _attempt(lambda: clip.beat_to_sample_time(1.0))
    facts["warp_markers"] = _attempt(lambda: [[m.beat_time, m.sample_time] for m in clip.warp_markers])
    return facts
