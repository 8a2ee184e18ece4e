"""The daemon under faults and hostile local input, each case against a real daemon process, every wait bounded."""

from __future__ import annotations

import http.server
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder

from bridge.control.osc import encode_message
from bridge.fakes.fal import TEST_KEY, FakeFal
from bridge.jobs.events import JobState
from bridge.jobs.journal import Journal

from .daemon_helpers import DaemonProcess, OscClient, daemon_process, media_folder

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="FIFOs and signals as on POSIX")


@pytest.fixture
def media(tmp_path: Path) -> Path:
    return media_folder(tmp_path, sr=44100, seconds=12.0, seed=4, subtype="PCM_16")


@pytest.fixture
def data(isolated_home: Path) -> Path:
    return isolated_home / "data"


def bundle(*messages: tuple[str, tuple[str | float, ...]]) -> bytes:
    builder = OscBundleBuilder(IMMEDIATELY)
    for address, args in messages:
        message = OscMessageBuilder(address)
        for arg in args:
            message.add_arg(arg)
        builder.add_content(message.build())
    return builder.build().dgram


def wait_until(condition: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def spool_result(data: Path, request_id: str, timeout: float = 20.0) -> dict[str, object]:
    path = data / "spool" / "results" / f"{request_id}.json"
    deadline = time.monotonic() + timeout
    while True:
        if path.exists():
            doc = json.loads(path.read_text())
            if doc["finished"]:
                return dict(doc)
        assert time.monotonic() < deadline, f"no finished result {request_id} in time"
        time.sleep(0.05)


# ------------------------------------------------------------------ hangs


def test_a_fifo_as_source_is_refused_unopened_and_nothing_wedges(media: Path, tmp_path: Path) -> None:
    fifo = media / "pipe.wav"
    os.mkfifo(fifo)
    with daemon_process(media, log=tmp_path / "log") as daemon:
        client = daemon.client
        client.send("/bridge/inpaint", str(fifo), 1.0, 1.2, "")
        job = client.reply("/bridge/accepted")[1][0]
        address, args = client.job_end(job, timeout=20)
        assert address == "/bridge/error" and "is not a regular file" in args[1], args
        client.send("/bridge/inpaint", str(media / "song.wav"), 1.0, 1.2, "")
        ok = client.reply("/bridge/accepted")[1][0]
        assert client.job_end(ok, timeout=30)[0] == "/bridge/done"
        assert daemon.stop(timeout=20) == 0


def test_a_fifo_in_the_spool_is_answered_and_later_requests_still_run(media: Path, data: Path, tmp_path: Path) -> None:
    requests = data / "spool" / "requests"
    requests.mkdir(parents=True)
    os.mkfifo(requests / "pipe.json")
    (requests / "after.json").write_text(json.dumps({"address": "/bridge/ping", "args": ["x"]}))
    with daemon_process(media, log=tmp_path / "log") as daemon:
        assert "not a regular file" in str(spool_result(data, "pipe")["error"])
        assert spool_result(data, "after")["replies"] == [["/bridge/pong", [daemon_version(daemon), "x"]]]
        assert daemon.stop(timeout=20) == 0


def daemon_version(daemon: DaemonProcess) -> str:
    daemon.client.send("/bridge/ping")
    return str(daemon.client.reply("/bridge/pong")[1][0])


def test_jobs_superseded_before_they_began_reach_a_final_state(media: Path, tmp_path: Path) -> None:
    song = str(media / "song.wav")
    with daemon_process(media, log=tmp_path / "log") as daemon:
        client = daemon.client
        # one datagram: the second request supersedes the first before its task has begun
        client.send_raw(bundle(("/bridge/inpaint", (song, 1.0, 1.2, "")), ("/bridge/inpaint", (song, 1.1, 1.3, ""))))
        first = client.reply("/bridge/accepted")[1][0]
        second = client.reply("/bridge/accepted")[1][0]
        address, args = client.job_end(first, timeout=20)
        assert (address, args[1]) == ("/bridge/progress", "cancelled")
        assert client.job_end(second, timeout=30)[0] == "/bridge/done"


# ------------------------------------------------------------------ loss


def test_each_spool_request_gets_its_own_result_however_bad_its_neighbours(media: Path, data: Path,
                                                                           tmp_path: Path) -> None:
    requests = data / "spool" / "requests"
    requests.mkdir(parents=True)
    (requests / "deep.json").write_text("[" * 30_000 + "]" * 30_000)
    (requests / "digits.json").write_text('{"address": "/bridge/ping", "args": [' + "9" * 5000 + "]}")
    (requests / "good.json").write_text(json.dumps({"address": "/bridge/ping", "args": ["ok"]}))
    with daemon_process(media, log=tmp_path / "log"):
        assert "not usable JSON" in str(spool_result(data, "deep")["error"])
        assert "not usable JSON" in str(spool_result(data, "digits")["error"])
        good = spool_result(data, "good")
        assert good["error"] is None and good["replies"][0][0] == "/bridge/pong"  # type: ignore[index]


def test_a_job_that_was_never_sent_runs_after_a_restart(media: Path, isolated_home: Path, tmp_path: Path) -> None:
    (isolated_home / "config").mkdir(exist_ok=True)
    (isolated_home / "config" / "config.toml").write_text("[fal]\nconcurrency = 1\n")
    song = str(media / "song.wav")
    with FakeFal(queue_polls=1_000_000, progress_polls=0) as fake:
        env = {"FAL_KEY": TEST_KEY, "INPAINT_BRIDGE_FAL_URL": fake.queue_url,
               "INPAINT_BRIDGE_FAL_REST_URL": fake.rest_url}
        daemon = DaemonProcess(media, env=env, log=tmp_path / "log1")
        client = daemon.client
        client.send("/bridge/inpaint", song, 2.0, 3.0, "rain", "engine", "fal")
        sent = client.reply("/bridge/accepted")[1][0]
        client.wait_for(lambda m: m[0] == "/bridge/progress" and m[1][:2] == [sent, "submitted"], 30)
        client.send("/bridge/inpaint", song, 6.0, 7.0, "rain", "engine", "fal")  # waits for the one slot
        waiting = client.reply("/bridge/accepted")[1][0]
        client.wait_for(lambda m: m[0] == "/bridge/progress" and m[1][:2] == [waiting, "rendering"], 30)
        daemon.stop(signal_kill(), timeout=10)
        assert fake.submits() == 1
        fake.queue_polls = 0
        again = DaemonProcess(media, env=env, log=tmp_path / "log2")
        try:
            again.client.send("/bridge/subscribe")
            again.client.reply("/bridge/status")
            for job in (sent, waiting):
                again.client.send("/bridge/status", job)  # it may have ended before the subscription
                address, args = again.client.job_end(job, timeout=60)
                assert address == "/bridge/done", (job, args)
            assert fake.submits() == 2  # the waiting job was sent once, after the restart
        finally:
            again.stop()


def signal_kill() -> int:
    import signal

    return signal.SIGKILL


def test_a_manifest_already_there_is_never_overwritten(media: Path, data: Path, tmp_path: Path) -> None:
    takes = data / "takes"
    takes.mkdir(parents=True)
    mine = takes / "song.patch-1.000-1.200s.wav.json"
    mine.write_text("my notes")
    with daemon_process(media, log=tmp_path / "log") as daemon:
        daemon.client.send("/bridge/inpaint", str(media / "song.wav"), 1.0, 1.2, "")
        job = daemon.client.reply("/bridge/accepted")[1][0]
        address, args = daemon.client.job_end(job, timeout=30)
    assert address == "/bridge/done" and Path(args[1]).name == "song.patch-1.000-1.200s-2.wav"
    assert Path(args[5]).name == "song.patch-1.000-1.200s-2.wav.json" and mine.read_text() == "my notes"


@pytest.mark.parametrize("damage", [b"", b"this is not a database" * 100])
def test_a_damaged_journal_is_moved_aside_and_the_daemon_serves(media: Path, data: Path, tmp_path: Path,
                                                                damage: bytes) -> None:
    data.mkdir(parents=True)
    (data / "jobs.sqlite").write_bytes(damage)
    listing = subprocess.run([sys.executable, "-m", "bridge", "jobs"], capture_output=True, text=True, timeout=60)
    assert listing.returncode == 2 and "damaged" in listing.stderr and "Traceback" not in listing.stderr
    with daemon_process(media, log=tmp_path / "log") as daemon:
        daemon.client.send("/bridge/ping")
        notice = daemon.client.reply("/bridge/status")[1]
        assert notice[0] == "notice" and "moved aside" in notice[1]
        daemon.client.reply("/bridge/pong")
        daemon.client.send("/bridge/jobs")
        assert daemon.client.reply("/bridge/jobs")[1] == [0]
        assert "journal was damaged" in daemon.stderr()
    assert list(data.glob("jobs.sqlite.damaged-*"))
    listing = subprocess.run([sys.executable, "-m", "bridge", "jobs"], capture_output=True, text=True, timeout=60)
    assert listing.returncode == 0 and "Traceback" not in listing.stderr


def test_unusable_unfinished_rows_are_failed_by_name_and_the_daemon_starts(media: Path, data: Path,
                                                                          tmp_path: Path) -> None:
    song = str(media / "song.wav")
    journal = Journal(data / "jobs.sqlite")
    rows = {"badjson": "{not json", "backwards": json.dumps({"source": song, "start": 3.0, "end": 2.0}),
            "dance": json.dumps({"source": song, "start": 1.0, "end": 2.0, "operation": "dance"})}
    for job_id in rows:
        journal.add(job_id=job_id, request={}, engine="local", prompt="", seed=0, group_id="g", reply=None)
    journal.close()
    with sqlite3.connect(data / "jobs.sqlite") as db:
        for job_id, request in rows.items():
            db.execute("UPDATE jobs SET request = ? WHERE id = ?", (request, job_id))
    with daemon_process(media, log=tmp_path / "log") as daemon:
        for job_id in rows:
            daemon.client.send("/bridge/status", job_id)
            address, args = daemon.client.wait_for(lambda m: bool(m[1]) and m[1][0] == job_id)  # noqa: B023
            assert address == "/bridge/error" and f"job {job_id}: its journal row cannot be used" in args[1]


# ------------------------------------------------------------------ secrets


class _EchoHeaders(http.server.BaseHTTPRequestHandler):
    """A service (or proxy) whose error body quotes the request's headers."""

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        body = json.dumps({"detail": f"bad request (authorization: {self.headers.get('Authorization')});"
                                     f" you sent {dict(self.headers)}"}).encode()
        self.send_response(400)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def echo_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _EchoHeaders)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_key_quoted_by_a_service_never_leaves_the_process(media: Path, data: Path, tmp_path: Path,
                                                            echo_server: str) -> None:
    key = "keyid-0123456789:secret-abcdefghijklmnop"
    env = {"FAL_KEY": key, "INPAINT_BRIDGE_FAL_URL": echo_server, "INPAINT_BRIDGE_FAL_REST_URL": echo_server}
    with daemon_process(media, env=env, log=tmp_path / "log") as daemon:
        listener = OscClient(("127.0.0.1", daemon.port))
        listener.send("/bridge/subscribe")
        listener.reply("/bridge/status")
        daemon.client.send("/bridge/inpaint", str(media / "song.wav"), 2.0, 3.0, "rain", "engine", "fal")
        job = daemon.client.reply("/bridge/accepted")[1][0]
        address, args = daemon.client.job_end(job, timeout=30)
        assert address == "/bridge/error" and "***" in args[1] and "secret-abcdefghijklmnop" not in args[1]
        assert "keyid-0123456789" not in listener.job_end(job)[1][1]
        listener.close()
        spool = data / "spool" / "requests"
        (spool / "r1.json").write_text(json.dumps({"address": "/bridge/inpaint", "args": [
            str(media / "song.wav"), 4.0, 5.0, "rain", "engine", "fal"]}))
        result = spool_result(data, "r1", timeout=30)
        assert "secret-abcdefghijklmnop" not in json.dumps(result) and "***" in json.dumps(result)
    listing = subprocess.run([sys.executable, "-m", "bridge", "jobs", "--json"], capture_output=True, text=True,
                             timeout=60, env={**os.environ, "FAL_KEY": key})
    assert listing.returncode == 0 and "***" in listing.stdout
    stored = (data / "jobs.sqlite").read_bytes() + (tmp_path / "log").read_bytes()
    assert b"secret-abcdefghijklmnop" not in stored and b"keyid-0123456789" not in stored


# ------------------------------------------------------------------ two daemons, floods


def test_a_second_daemon_on_the_same_data_folder_exits_naming_the_first(media: Path, tmp_path: Path) -> None:
    with daemon_process(media, log=tmp_path / "log") as first:
        second = DaemonProcess(media, log=tmp_path / "log2", wait=False)
        second.proc.wait(30)  # it exits by itself
        code = second.stop()
        said = second.log.read_text()
        assert code == 2 and f"OSC port {first.port}" in said and "another daemon" in said, said
        first.client.ping(2.0)


def test_subscriptions_are_bounded_across_restarts(media: Path, data: Path, tmp_path: Path) -> None:
    with daemon_process(media, log=tmp_path / "log") as daemon:
        for port in range(20000, 20300):
            daemon.client.send("/bridge/subscribe", port)
        daemon.client.ping(10.0)
    journal = Journal(data / "jobs.sqlite")
    try:
        kept = journal.subscribers()
    finally:
        journal.close()
    assert len(kept) == 16 and min(port for _, port in kept) == 20284  # the newest of this host's


def test_unknown_session_keys_are_refused_and_status_fits_one_datagram(media: Path, tmp_path: Path) -> None:
    with daemon_process(media, log=tmp_path / "log") as daemon:
        for i in range(300):  # one at a time: a burst of datagrams may overflow a socket buffer on a busy machine
            daemon.client.send("/bridge/set", f"knob{i}", 1)
            assert "not a parameter" in daemon.client.reply("/bridge/error")[1][1]
        daemon.client.send("/bridge/status")
        status = daemon.client.reply("/bridge/status")[1]
        assert "knob1" not in status and len(encode_message("/bridge/status", status)) < 1400  # one MTU


def test_a_flooding_socket_leaves_another_sockets_pings_answered(media: Path, tmp_path: Path) -> None:
    with daemon_process(media, log=tmp_path / "log") as daemon:
        flood = OscClient(("127.0.0.1", daemon.port))
        stop = threading.Event()

        def run_flood() -> None:
            while not stop.is_set():
                t0 = time.perf_counter()
                for _ in range(400):  # 4000 messages per second
                    flood.send("/bridge/ping", "flood")
                time.sleep(max(0.0, 0.1 - (time.perf_counter() - t0)))

        thread = threading.Thread(target=run_flood, daemon=True)
        thread.start()
        try:
            for _ in range(20):
                daemon.client.ping(5.0)
                time.sleep(0.05)
        finally:
            stop.set()
            thread.join(10)
            flood.close()


def test_log_lines_caused_by_a_sender_are_rate_limited(media: Path, tmp_path: Path) -> None:
    tagged = b"/bridge/ping\x00\x00\x00\x00,c\x00\x00\x00\x00\x00A"
    with daemon_process(media, log=tmp_path / "log") as daemon:
        for _ in range(300):
            daemon.client.send_raw(tagged)
        daemon.client.ping(5.0)
        errors = [m for m in daemon.client.inbox if m[0] == "/bridge/error"]
        assert errors and "unknown type tag 'c'" in errors[0][1][1]
        lines = [line for line in daemon.stderr().splitlines() if "type" in line and "c" in line]
    assert 1 <= len(lines) <= 5, lines


# ------------------------------------------------------------------ smaller


def test_take_once_to_the_sender_and_an_empty_bundle_answered(media: Path, tmp_path: Path) -> None:
    with daemon_process(media, log=tmp_path / "log") as daemon:
        client = daemon.client
        client.send("/bridge/inpaint", str(media / "song.wav"), 1.0, 1.2, "")
        job = client.reply("/bridge/accepted")[1][0]
        assert client.job_end(job, timeout=30)[0] == "/bridge/done"
        client.send("/bridge/take", 1)
        client.reply("/bridge/done")
        client.ping(2.0)
        assert not [m for m in client.inbox if m[0] == "/bridge/done"]
        client.send_raw(bundle())
        assert client.reply("/bridge/error")[1] == ["packet", "an empty bundle: no message to answer"]


def test_a_project_folder_swapped_for_a_symlink_mid_job_gets_no_take(media: Path, tmp_path: Path) -> None:
    project, outside = media / "project", tmp_path / "outside"
    project.mkdir()
    outside.mkdir()
    with FakeFal(queue_polls=1_000_000, progress_polls=0) as fake:
        env = {"FAL_KEY": TEST_KEY, "INPAINT_BRIDGE_FAL_URL": fake.queue_url,
               "INPAINT_BRIDGE_FAL_REST_URL": fake.rest_url}
        with daemon_process(media, env=env, log=tmp_path / "log") as daemon:
            client = daemon.client
            client.send("/bridge/inpaint", str(media / "song.wav"), 2.0, 3.0, "rain", "engine", "fal", "project",
                        str(project))
            job = client.reply("/bridge/accepted")[1][0]
            client.wait_for(lambda m: m[0] == "/bridge/progress" and m[1][:2] == [job, "submitted"], 30)
            project.rename(media / "project.moved")
            project.symlink_to(outside)
            fake.queue_polls = 0
            address, args = client.job_end(job, timeout=60)
    assert address == "/bridge/error" and "now leads to" in args[1], args
    assert not list(outside.iterdir())


def test_huge_numbers_and_bad_files_are_named(media: Path, data: Path, tmp_path: Path) -> None:
    folder = media / "folder.wav"
    folder.mkdir()
    with daemon_process(media, log=tmp_path / "log") as daemon:
        client = daemon.client
        for args, words in [((str(media / "song.wav"), 3e38, 3.3e38, ""), "past the end"),
                            ((str(media / "song.wav"), 1.0, 2.0, "", "seed", 2**62), "seed = 4611686018427387904"),
                            ((str(folder), 1.0, 2.0, ""), "is a folder")]:
            client.send("/bridge/inpaint", *args)
            address, reply = client.wait_for(lambda m: m[0] in ("/bridge/error", "/bridge/accepted"))
            if address == "/bridge/accepted":
                address, reply = client.job_end(reply[0])
            assert address == "/bridge/error" and words in reply[1] and "internal error" not in reply[1], reply
    requests = data / "spool" / "requests"
    (requests / "huge.json").write_text(json.dumps({"address": "/bridge/inpaint",
                                                    "args": [str(media / "song.wav"), 10**400, 2.0, ""]}))
    with daemon_process(media, log=tmp_path / "log2"):
        error = str(spool_result(data, "huge")["error"])
        assert "start = 1000" in error and "must be a finite number" in error and "internal" not in error, error


def test_config_and_presets_are_checked_at_load(isolated_home: Path, tmp_path: Path) -> None:
    config = isolated_home / "config"
    (config / "presets").mkdir(parents=True)
    cases = [("config.toml", b"[defaults]\nengine = \"caf\xe9\"\n", "not UTF-8"),
             ("config.toml", b"[defaults]\nengine = \"nope\"\n", "defaults.engine = 'nope': must be one of"),
             ("presets/mine.toml", b"[x]\nsteps = nan\n", "steps = nan: must be a finite number")]
    for name, text, words in cases:
        for old in [config / "config.toml", *config.glob("presets/*.toml")]:
            old.unlink(missing_ok=True)
        (config / name).write_bytes(text)
        done = subprocess.run([sys.executable, "-m", "bridge", "presets"], capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 2 and words in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_the_journal_keeps_a_bounded_history_but_every_unfinished_job(media: Path, isolated_home: Path,
                                                                      data: Path, tmp_path: Path) -> None:
    (isolated_home / "config").mkdir(exist_ok=True)
    (isolated_home / "config" / "config.toml").write_text("[defaults]\nhistory = 10\n")
    journal = Journal(data / "jobs.sqlite")
    for i in range(30):
        journal.add(job_id=f"old{i:02d}", request={}, engine="local", prompt="", seed=0, group_id="g", reply=None)
        journal.update(f"old{i:02d}", JobState.DONE, 1.0)
    journal.add(job_id="pending", request={"source": "/nowhere.wav", "start": 1.0, "end": 2.0}, engine="local",
                prompt="", seed=0, group_id="g", reply=None)
    journal.close()
    with daemon_process(media, log=tmp_path / "log"):
        pass
    journal = Journal(data / "jobs.sqlite")
    try:
        ids = [r.id for r in journal.jobs()]
    finally:
        journal.close()
    assert "pending" in ids and len(ids) == 10
