"""The daemon's part of ``inpaint-bridge bench``: control latency, bursts, and job throughput.

The daemon and the fake services run as their own processes (``serve`` and
``fake-server``), as they would beside a DAW; this process is the OSC client.

* ``/bridge/ping`` round trips every 2 ms: idle, and while 4 hosted jobs (10 s range,
  10 s context, the fake answering at once) fit, splice and write.
* A burst of 5000 pings sent back to back: how many pongs come back.
* 100 ``local`` jobs (50 ms gaps) queued at once: jobs per second, and ping round trips
  meanwhile.
* MIDI note to job accepted, through a private JACK server (``jackd -d dummy``) when
  ``jackd`` is installed: a pad press from this process to ``/bridge/accepted`` at a subscriber,
  while 4 ``local`` jobs (2 s gaps, 60 s of context) run; and pings between the presses.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import soundfile as sf

from bridge.cli.bench import jack
from bridge.cli.bench.audio import write_source
from bridge.control.osc import decode_packet, encode_message
from bridge.files import write_text

__all__ = ["run_daemon_bench"]

PING_EVERY_S = 0.002
BUSY_JOBS = 4
JACK_PERIOD = 128
"""Frames per JACK cycle at 48 kHz (2.7 ms), a performer's setting: MIDI crosses JACK once a cycle."""
MIDI_LIMIT_S = 900.0
"""The longest the MIDI measurements' process may take before it is ended."""


def _free_port(kind: int = socket.SOCK_DGRAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Client:
    def __init__(self, port: int) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
        self.sock.bind(("127.0.0.1", 0))
        self.target = ("127.0.0.1", port)
        self.events: list[tuple[str, list[object]]] = []

    def send(self, address: str, *args: object) -> None:
        self.sock.sendto(encode_message(address, args), self.target)

    def receive(self, timeout: float) -> list[tuple[str, list[object]]]:
        self.sock.settimeout(timeout)
        try:
            data, _ = self.sock.recvfrom(65536)
        except TimeoutError:
            return []
        return [(a, list(p)) for a, p in decode_packet(data)]

    def drain(self) -> None:
        """Read whatever is waiting, so that what comes next is timed from its own arrival."""
        while self.receive(0.0001):
            pass

    def ping(self, token: int, timeout: float = 2.0) -> float | None:
        t0 = time.perf_counter()
        self.send("/bridge/ping", token)
        deadline = t0 + timeout
        while time.perf_counter() < deadline:
            for address, params in self.receive(max(0.001, deadline - time.perf_counter())):
                if address == "/bridge/pong" and token in params:
                    return time.perf_counter() - t0
                self.events.append((address, params))
        return None

    def pings(self, count: int) -> list[float]:
        """``count`` pings 2 ms apart; the round trips of those answered."""
        rtts = []
        for token in range(1, count + 1):
            rtt = self.ping(token)
            if rtt is not None:
                rtts.append(rtt)
            time.sleep(PING_EVERY_S)
        return rtts

    def pings_until(self, done: int, *, limit_s: float) -> list[float]:
        """Ping every 2 ms until ``done`` jobs have ended (or ``limit_s``); the round trips."""
        rtts: list[float] = []
        start = time.monotonic()
        token = 0
        while self.ended() < done and time.monotonic() - start < limit_s:
            token += 1
            rtt = self.ping(token)
            if rtt is not None:
                rtts.append(rtt)
            time.sleep(PING_EVERY_S)
        return rtts

    def ended(self) -> int:
        return sum(1 for a, _ in self.events if a in ("/bridge/done", "/bridge/error"))


@contextmanager
def _processes(home: Path, media: Path, *, extra: tuple[str, ...] = (), fake: bool = True) -> Iterator[int]:
    fake_port = _free_port(socket.SOCK_STREAM)
    osc_port = _free_port()
    env = {**os.environ, "INPAINT_BRIDGE_HOME": str(home)}
    procs: list[subprocess.Popen[str]] = []
    fake_env: dict[str, str] = {}
    if fake:
        server = subprocess.Popen([sys.executable, "-m", "bridge", "fake-server", "--port", str(fake_port)],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
        procs.append(server)
        assert server.stdout is not None
        lines = [server.stdout.readline() for _ in range(3)]
        fake_env = dict(item.split("=", 1) for line in lines[1:] for item in line.split()[1:])
    daemon = subprocess.Popen([sys.executable, "-m", "bridge", "serve", "--osc-port", str(osc_port), "--media-root",
                               str(media), *extra], stderr=subprocess.DEVNULL, text=True, env={**env, **fake_env})
    procs.insert(0, daemon)
    try:
        client = _Client(osc_port)
        for _ in range(200):
            if client.ping(0, timeout=0.1) is not None:
                break
        yield osc_port
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()


def _percentiles(rtts: list[float]) -> dict[str, float]:
    if not rtts:
        return {"p50_ms": float("nan"), "p99_ms": float("nan"), "count": 0}
    ordered = sorted(rtts)
    return {"p50_ms": statistics.median(ordered) * 1e3,
            "p99_ms": ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))] * 1e3, "count": len(ordered)}


def _midi_latency(home: Path, media: Path, source: Path, presses: int) -> dict[str, object]:
    """The MIDI measurements, in a process of their own: python-rtmidi's JACK clients can crash a
    process as they are freed, so the child writes its result before anything is torn down, and
    its process group (with the daemon and the JACK server it started) is ended afterwards."""
    said = home.with_name(home.name + "-midi.json")
    code = "import sys; from bridge.cli.bench.daemon import _midi_child; _midi_child(*sys.argv[1:])"
    with tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen([sys.executable, "-c", code, str(home), str(media), str(source), str(presses),
                                  str(said)], stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
        try:
            child.wait(timeout=MIDI_LIMIT_S)
        except subprocess.TimeoutExpired:
            pass
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGTERM)
            child.wait()
        if said.exists():
            return dict(json.loads(said.read_text()))
        err.seek(0)
        return {"available": False,
                "reason": f"the MIDI measurement gave no result (exit {child.returncode}): {err.read().strip()[-300:]}"}


def _midi_child(home: str, media: str, source: str, presses: str, result_path: str) -> None:
    """Entry point of the child that measures MIDI: the result is written as soon as it is known."""

    def told(result: dict[str, object]) -> dict[str, object]:
        write_text(Path(result_path), json.dumps(result))
        return result

    _measure_midi(Path(home), Path(media), Path(source), int(presses), told)


def _measure_midi(home: Path, media: Path, source: Path, presses: int,
                  told: Callable[[dict[str, object]], dict[str, object]]) -> dict[str, object]:
    if not jack.available():
        return told({"available": False, "reason": "jackd is not installed (Debian package jackd2)"})
    server = "inpaint-bridge-bench"  # one fixed name: never a user's server, and no registry entries pile up
    with jack.private_server(server, period=JACK_PERIOD) as problem:
        if problem is not None:
            return told({"available": False, "reason": problem})
        import rtmidi

        with _processes(home, media, extra=("--midi", "--midi-api", "jack"), fake=False) as port:
            client = _Client(port)
            client.send("/bridge/subscribe")
            client.send("/bridge/arm", str(source), 30.0, 30.05)
            client.send("/bridge/set", "keep", 1)
            out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, "bench")
            target = None
            for _ in range(50):
                names = out.get_ports()
                target = next((i for i, n in enumerate(names) if "Inpaint Bridge" in n and "LEDs" not in n), None)
                if target is not None:
                    break
                time.sleep(0.1)
            if target is None:
                return told({"available": False, "reason": "the daemon's MIDI port did not appear"})
            out.open_port(target)
            if not jack.connected(server, "bench", "Inpaint Bridge"):
                return told({"available": False, "reason": "the MIDI connection did not appear in jack_lsp"})
            # the floor: the same press through JACK to an input of this process, in the same cycle
            arrivals: list[float] = []
            floor_in = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, "bench-floor")
            floor_in.set_callback(lambda message, _: arrivals.append(time.perf_counter())
                                  if message[0][0] == 0x90 else None)
            floor_in.open_virtual_port("floor")
            if not jack.connect(server, "bench:", "bench-floor:floor"):
                return told({"available": False, "reason": "the floor's MIDI connection did not appear in jack_lsp"})
            busy = _Busy(port, source)
            rtts: list[float] = []
            floors: list[float] = []
            pings: list[float] = []
            for i in range(presses + 5):  # the first few warm up the connection and are not counted
                busy.keep_running()
                client.drain()
                arrivals.clear()
                t0 = time.perf_counter()
                out.send_message([0x90, 36, 100])
                out.send_message([0x80, 36, 0])
                deadline = t0 + 2.0
                while time.perf_counter() < deadline:
                    got = client.receive(max(0.001, deadline - time.perf_counter()))
                    if any(a == "/bridge/accepted" for a, _ in got):
                        if i >= 5:
                            rtts.append(time.perf_counter() - t0)
                            if arrivals:
                                floors.append(arrivals[0] - t0)
                        break
                busy.keep_running()
                client.drain()
                rtt = client.ping(1_000_000 + i)
                if rtt is not None and i >= 5:
                    pings.append(rtt)
                time.sleep(0.02)
            busy.jobs = 0
            performance = _performance(client, out, port, source, presses=max(10, presses // 2),
                                       deliveries=max(5, presses // 5))
            result = told({"available": True, "presses": presses, **_percentiles(rtts), "floor": _percentiles(floors),
                           "jack_period": JACK_PERIOD, "busy_jobs": BUSY_JOBS, "busy_done": busy.done,
                           "ping": _percentiles(pings), "target_p99_ms": 10.0, "target_ping_p99_ms": 5.0,
                           "performance": performance})
            out.close_port()  # the floor's input stays open until here: a port closing changes JACK's graph
            floor_in.close_port()
            return result


BPM = 120.0
TICK_S = 60.0 / (BPM * 24)


def _performance(client: _Client, out: Any, port: int, source: Path, *, presses: int,
                 deliveries: int) -> dict[str, object]:
    """Pad to ready for a 1-bar range (2 s at 120 bpm) on ``local`` while 2 jobs run; then MIDI clock at
    120 bpm from this process and beat-quantized deliveries, each against the time its boundary's tick
    was sent."""
    client.send("/bridge/arm", str(source), 30.0, 32.0)
    busy = _Busy(port, source, jobs=2)
    ready: list[float] = []
    for _ in range(presses):
        busy.keep_running()
        client.drain()
        t0 = time.perf_counter()
        out.send_message([0x90, 36, 100])
        out.send_message([0x80, 36, 0])
        job = _await_job(client, busy, t0)
        if job is not None:
            ready.append(job[0] - t0)
    busy.jobs = 0
    ticks: list[float] = []
    stop = threading.Event()

    def clock() -> None:  # MIDI clock at 120 bpm on a fixed schedule, each tick's send time kept
        out.send_message([0xFA])
        start = time.perf_counter()
        while not stop.is_set():
            due = start + TICK_S * (len(ticks) + 1)
            time.sleep(max(0.0, due - time.perf_counter()))
            out.send_message([0xF8])
            ticks.append(time.perf_counter())

    thread = threading.Thread(target=clock, name="bench-clock", daemon=True)
    thread.start()
    lateness: list[float] = []
    try:
        while len(ticks) < 48:  # the daemon has the tempo after a few ticks
            time.sleep(0.01)
        client.send("/bridge/set", "quantize", "beat")
        for _ in range(deliveries):
            client.drain()
            client.send("/bridge/inpaint", str(source), 30.0, 30.05, "", "keep", 1)
            job = _await_job(client, busy, time.perf_counter())
            if job is not None and job[1] > 0:
                tick = round(job[1] * 24)  # the boundary's tick, counted from the start message
                if 0 < tick <= len(ticks):
                    lateness.append(job[0] - ticks[tick - 1])
    finally:
        stop.set()
        thread.join(5)
        out.send_message([0xFC])
        client.send("/bridge/set", "quantize", "off")
    within = sum(1 for late in lateness if abs(late) <= TICK_S)
    return {"presses": presses, "busy_jobs": 2, "pad_to_ready": _percentiles(ready), "deliveries": len(lateness),
            "within_tick": within, "tick_ms": TICK_S * 1e3,
            "lateness": _percentiles([abs(late) for late in lateness])}


def _await_job(client: _Client, busy: _Busy, sent: float) -> tuple[float, float] | None:
    """The arrival time and boundary beat of the ``/bridge/done`` of the job a request sent at ``sent``
    starts (keeping the busy jobs going meanwhile); ``None`` when it was not accepted within 2 s (a MIDI
    message the transport lost), failed, or did not finish within a minute."""
    job: str | None = None
    while time.perf_counter() < sent + (2.0 if job is None else 60.0):
        busy.keep_running()
        for address, params in client.receive(0.005):
            if address == "/bridge/accepted" and job is None:
                job = str(params[0])
            elif params and params[0] == job and address == "/bridge/done":
                beat = params[6] if len(params) > 6 else None
                return time.perf_counter(), float(beat) if isinstance(beat, int | float) else -1.0
            elif params and params[0] == job and address == "/bridge/error":
                return None
    return None

class _Busy:
    """Keeps ``jobs`` local jobs (2 s gaps, 60 s of context each side) running, from a client of its own."""

    def __init__(self, port: int, source: Path, jobs: int = BUSY_JOBS) -> None:
        self.jobs = jobs
        self.client = _Client(port)
        self.source = source
        self.duration = float(sf.info(str(source)).duration)
        self.running = 0
        self.done = 0
        self._sent = 0

    def keep_running(self) -> None:
        while got := self.client.receive(0.0005):
            for address, _ in got:
                if address in ("/bridge/done", "/bridge/error"):
                    self.running -= 1
                    self.done += 1
        while self.running < self.jobs:
            at = self.duration / 3 + (self.duration / 3 - 2.0) * (self._sent % 8) / 8
            self.client.send("/bridge/inpaint", str(self.source), at, at + 2.0, "", "keep", 1, "context", 60.0)
            self.running += 1
            self._sent += 1


def run_daemon_bench(*, quick: bool = False) -> dict[str, object]:

    with tempfile.TemporaryDirectory(prefix="inpaint-bench-daemon-") as tmp:
        root = Path(tmp)
        media = root / "media"
        media.mkdir()
        source = write_source(media / "song.wav", 1.0 if quick else 3.0)
        with _processes(root / "home", media) as port:
            client = _Client(port)
            idle = client.pings(200 if quick else 1000)

            for i in range(4):
                client.send("/bridge/inpaint", str(source), 10.0 + 12 * i, 20.0 + 12 * i, "bench", "engine", "fal",
                            "context", 10.0, "keep", 1)
            busy = client.pings_until(4, limit_s=120)
            hosted_ok = sum(1 for a, _ in client.events if a == "/bridge/done")
            errors = [str(p[1]) for a, p in client.events if a == "/bridge/error" and len(p) > 1]

            burst = 1000 if quick else 5000
            for i in range(burst):
                client.send("/bridge/ping", 10_000_000 + i)
            pongs: set[int] = set()
            deadline = time.monotonic() + 10
            while len(pongs) < burst and time.monotonic() < deadline:
                for address, params in client.receive(0.5):
                    if address == "/bridge/pong" and len(params) > 1 and isinstance(params[1], int):
                        pongs.add(params[1])

            client.events.clear()
            jobs = 20 if quick else 100
            t0 = time.monotonic()
            for i in range(jobs):
                at = 2.0 + i * 1.5
                client.send("/bridge/inpaint", str(source), at, at + 0.05, "", "keep", 1)
            during = client.pings_until(jobs, limit_s=600)
            while client.ended() < jobs and time.monotonic() - t0 < 600:
                for address, params in client.receive(1.0):
                    client.events.append((address, params))
            elapsed = time.monotonic() - t0
            done = sum(1 for a, _ in client.events if a == "/bridge/done")
        midi = _midi_latency(root / "home-midi", media, source, 20 if quick else 100)
    return {
        "midi_to_accepted": midi,
        "idle": _percentiles(idle),
        "busy_4_hosted_jobs": {**_percentiles(busy), "jobs_done": hosted_ok, "target_p99_ms": 5.0,
                               "errors": errors[:2]},
        "burst": {"sent": burst, "answered": len(pongs)},
        "queue": {"jobs": jobs, "done": done, "seconds": elapsed, "jobs_per_s": done / elapsed if elapsed else 0.0,
                  **{f"ping_{k}": v for k, v in _percentiles(during).items()}},
    }


def print_daemon_report(report: dict[str, object]) -> None:
    idle, busy, burst, queue = (report[k] for k in ("idle", "busy_4_hosted_jobs", "burst", "queue"))
    assert isinstance(idle, dict) and isinstance(busy, dict) and isinstance(burst, dict) and isinstance(queue, dict)
    print(f"OSC ping round trip, idle: p50 {idle['p50_ms']:.2f} ms, p99 {idle['p99_ms']:.2f} ms"
          f" ({idle['count']} pings)")
    print(f"OSC ping round trip while 4 hosted jobs fit and splice: p50 {busy['p50_ms']:.2f} ms,"
          f" p99 {busy['p99_ms']:.2f} ms (target p99 < {busy['target_p99_ms']:g}; {busy['jobs_done']}/4 jobs done)"
          + "".join(f"\n  job error: {e}" for e in busy["errors"]))
    print(f"burst of {burst['sent']} pings back to back: {burst['answered']} answered")
    midi = report["midi_to_accepted"]
    assert isinstance(midi, dict)
    if midi.get("available"):
        ping = midi["ping"]
        assert isinstance(ping, dict)
        floor = midi["floor"]
        assert isinstance(floor, dict)
        print(f"MIDI note (JACK) to /bridge/accepted while {midi['busy_jobs']} local jobs run (2 s gaps, 60 s context):"
              f" p50 {midi['p50_ms']:.2f} ms, p99 {midi['p99_ms']:.2f} ms (target p99 < {midi['target_p99_ms']:g};"
              f" {midi['count']}/{midi['presses']} presses, {midi['busy_done']} jobs done meanwhile)")
        print(f"  floor, the same note through JACK ({midi['jack_period']} frames at 48 kHz) to an input of the bench:"
              f" p50 {floor['p50_ms']:.2f} ms, p99 {floor['p99_ms']:.2f} ms")
        print(f"  OSC ping meanwhile: p50 {ping['p50_ms']:.2f} ms, p99 {ping['p99_ms']:.2f} ms"
              f" (target p99 < {midi['target_ping_p99_ms']:g})")
        perf = midi["performance"]
        assert isinstance(perf, dict) and isinstance(perf["pad_to_ready"], dict) and isinstance(perf["lateness"], dict)
        ready, late = perf["pad_to_ready"], perf["lateness"]
        print(f"pad to ready, 1-bar range at {BPM:g} bpm on local with {perf['busy_jobs']} jobs running:"
              f" p50 {ready['p50_ms']:.0f} ms, p99 {ready['p99_ms']:.0f} ms"
              f" ({ready['count']}/{perf['presses']} presses)")
        share = perf["within_tick"] / perf["deliveries"] if perf["deliveries"] else float("nan")
        print(f"quantized deliveries (beat, MIDI clock at {BPM:g} bpm) within one clock tick ({perf['tick_ms']:.1f} ms)"
              f" of their boundary: {perf['within_tick']}/{perf['deliveries']} ({share:.0%}); off the boundary by"
              f" p50 {late['p50_ms']:.1f} ms, p99 {late['p99_ms']:.1f} ms")
    else:
        print(f"MIDI note to /bridge/accepted: not measured ({midi['reason']})")
    print(f"{queue['jobs']} local jobs (50 ms gaps) queued at once: {queue['done']} done in {queue['seconds']:.1f} s,"
          f" {queue['jobs_per_s']:.1f} jobs/s; ping meanwhile p50 {queue['ping_p50_ms']:.2f} ms,"
          f" p99 {queue['ping_p99_ms']:.2f} ms")
