"""A real daemon on loopback for tests, and a small OSC client over a real UDP socket."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import soundfile as sf

from bridge.config import Settings, load_settings
from bridge.control.osc import decode_packet, encode_message
from bridge.daemon import Daemon, ServeOptions
from bridge.engines.base import Engine

Message = tuple[str, list[Any]]


class OscClient:
    """A UDP socket that sends OSC to the daemon and collects every reply."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.inbox: list[Message] = []

    def close(self) -> None:
        self.sock.close()

    def send(self, address: str, *args: object) -> None:
        self.sock.sendto(encode_message(address, args), self.target)

    def send_raw(self, data: bytes) -> None:
        self.sock.sendto(data, self.target)

    def _pull(self, timeout: float) -> bool:
        self.sock.settimeout(max(timeout, 0.001))
        try:
            data, _ = self.sock.recvfrom(65536)
        except (TimeoutError, BlockingIOError):
            return False
        self.inbox.extend((a, list(p)) for a, p in decode_packet(data))
        return True

    def wait_for(self, match: Callable[[Message], bool], timeout: float = 10.0) -> Message:
        """The first collected message that matches (it is removed from the inbox)."""
        deadline = time.monotonic() + timeout
        while True:
            for i, message in enumerate(self.inbox):
                if match(message):
                    return self.inbox.pop(i)
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no matching reply within {timeout} s; got {self.inbox[-10:]}")
            self._pull(left)

    def reply(self, address: str, timeout: float = 10.0) -> Message:
        return self.wait_for(lambda m: m[0] == address, timeout)

    def job_end(self, job: str, timeout: float = 60.0) -> Message:
        return self.wait_for(lambda m: bool(m[1]) and m[1][0] == job and (
            m[0] in ("/bridge/done", "/bridge/error") or (m[0] == "/bridge/progress" and m[1][1] == "cancelled")),
            timeout)

    def ping(self, timeout: float = 1.0) -> float:
        """Round trip of one /bridge/ping, in seconds."""
        token = f"p{time.monotonic_ns()}"
        t0 = time.perf_counter()
        self.send("/bridge/ping", token)
        self.wait_for(lambda m: m[0] == "/bridge/pong" and token in m[1], timeout)
        return time.perf_counter() - t0


@contextmanager
def running_daemon(settings: Settings | None = None, *, media: list[Path] | None = None,
                   engines: Mapping[str, Engine] | None = None, **options: Any) -> Iterator[Daemon]:
    """A daemon serving on 127.0.0.1 (a free port) in a thread with its own event loop."""
    settings = settings or load_settings()
    opts = ServeOptions(port=0, media_roots=tuple(media or []), **options)
    daemon = Daemon(settings, opts, engines=engines)
    ready = threading.Event()
    errors: list[BaseException] = []
    loop_box: list[asyncio.AbstractEventLoop] = []

    async def main() -> None:
        loop_box.append(asyncio.get_running_loop())
        try:
            await daemon.startup()
        except BaseException as exc:
            errors.append(exc)
            ready.set()
            raise
        ready.set()
        await daemon.should_exit.wait()
        await daemon.shutdown()

    thread = threading.Thread(target=lambda: asyncio.run(main()), daemon=True)
    thread.start()
    ready.wait(10)
    if errors:
        raise errors[0]
    try:
        yield daemon
    finally:
        loop_box[0].call_soon_threadsafe(daemon.should_exit.set)
        thread.join(30)
        assert not thread.is_alive(), "daemon did not shut down"


class DaemonProcess:
    """``inpaint-bridge serve`` as its own process on a free port, its log in a file; every wait is bounded."""

    def __init__(self, media: Path, *extra: str, env: Mapping[str, str] | None = None, log: Path,
                 wait: bool = True) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self.log = log
        self._log_file = log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bridge", "serve", "--osc-port", str(self.port), "--media-root", str(media),
             *extra], stdout=subprocess.DEVNULL, stderr=self._log_file, text=True, env={**os.environ, **(env or {})})
        self.client = OscClient(("127.0.0.1", self.port))
        if wait:
            self.wait_ready()

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.client.ping(0.3)
                return
            except AssertionError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"daemon did not come up: {self.stderr()}") from None

    def stderr(self) -> str:
        self._log_file.flush()
        return self.log.read_text()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        """Stop it; a daemon that does not exit in time is killed and the test fails (never hangs)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            raise AssertionError(f"the daemon did not exit within {timeout} s of signal {sig}") from None
        finally:
            self.client.close()
            self._log_file.close()
        return code


@contextmanager
def daemon_process(media: Path, *extra: str, env: Mapping[str, str] | None = None,
                   log: Path) -> Iterator[DaemonProcess]:
    daemon = DaemonProcess(media, *extra, env=env, log=log)
    try:
        yield daemon
    finally:
        if daemon.proc.poll() is None:
            daemon.stop()


def media_folder(tmp_path: Path, *, sr: int, seconds: float, seed: int, subtype: str) -> Path:
    """A media root holding ``song.wav``: a stereo loop of ``seconds`` at ``sr``."""
    from bridge.audio.signals import loop

    folder = tmp_path / "media"
    folder.mkdir()
    sf.write(folder / "song.wav", loop(sr, seconds, channels=2, seed=seed), sr, subtype=subtype)
    return folder
