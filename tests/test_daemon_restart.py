"""kill -9 with a hosted job in flight, then a restart: nothing lost, nothing submitted twice."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import soundfile as sf

from bridge.audio.signals import loop
from bridge.fakes.fal import TEST_KEY, FakeFal

from .daemon_helpers import OscClient


def start_daemon(port: int, media: Path, fake: FakeFal) -> subprocess.Popen[str]:
    env = {**os.environ, "FAL_KEY": TEST_KEY, "INPAINT_BRIDGE_FAL_URL": fake.queue_url,
           "INPAINT_BRIDGE_FAL_REST_URL": fake.rest_url}
    return subprocess.Popen([sys.executable, "-m", "bridge", "serve", "--osc-port", str(port), "--media-root",
                             str(media)], stderr=subprocess.DEVNULL, text=True, env=env)


def children(pid: int) -> list[int]:
    """Direct child processes (Linux /proc), e.g. the daemon's fill workers."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def wait_ready(client: OscClient, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            client.ping(0.3)
            return
        except AssertionError:
            assert time.monotonic() < deadline and proc.poll() is None, "daemon did not come up"


def test_kill_9_then_restart_resumes_by_request_id(tmp_path: Path) -> None:
    media = tmp_path / "media"
    media.mkdir()
    sf.write(media / "song.wav", loop(44100, 20.0, channels=2), 44100, subtype="PCM_16")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with FakeFal(queue_polls=1_000_000, progress_polls=0) as fake:
        proc = start_daemon(port, media, fake)
        client = OscClient(("127.0.0.1", port))
        listener = OscClient(("127.0.0.1", port))
        try:
            wait_ready(client, proc)
            client.send("/bridge/inpaint", str(media / "song.wav"), 8.0, 9.0, "rain", "engine", "fal")
            job = client.reply("/bridge/accepted")[1][0]
            client.wait_for(lambda m: m[0] == "/bridge/progress" and m[1][1] == "submitted", 30)
            listener.send("/bridge/subscribe")
            listener.reply("/bridge/status")
            client.send("/bridge/inpaint", str(media / "song.wav"), 2.0, 2.1, "")  # a local job finishes first
            done = client.reply("/bridge/accepted")[1][0]
            assert client.job_end(done)[0] == "/bridge/done"

            workers = children(proc.pid)
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            assert fake.submits() == 1 and fake.cancels == []
            deadline = time.monotonic() + 10  # the fill workers follow their daemon out
            while any(Path(f"/proc/{pid}").exists() for pid in workers) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert not any(Path(f"/proc/{pid}").exists() for pid in workers), "fill workers outlived the daemon"
            fake.queue_polls = 0  # the service finishes the job while the daemon is down

            proc = start_daemon(port, media, fake)
            wait_ready(client, proc)
            address, args = listener.job_end(job, timeout=60)  # delivered to the subscriber after the restart
            assert address == "/bridge/done", args
            assert client.job_end(job)[0] == "/bridge/done"  # and to whoever asked for it
            assert fake.submits() == 1 and Path(args[1]).is_file()

            listed = subprocess.run([sys.executable, "-m", "bridge", "jobs"], capture_output=True, text=True,
                                    env=os.environ.copy(), timeout=60)
            assert listed.returncode == 0
            assert f"{job}" in listed.stdout and f"{done}" in listed.stdout and listed.stdout.count("done") >= 2
        finally:
            client.close()
            listener.close()
            proc.send_signal(signal.SIGTERM)
            proc.wait(20)
