"""The daemon over real UDP: requests, replies, supersede, variations, presets, session, security, shutdown."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from bridge.config import Budget, ServiceSettings, load_settings
from bridge.fakes.fal import TEST_KEY, FakeFal
from bridge.fakes.wavespeed import TEST_KEY as WS_KEY
from bridge.fakes.wavespeed import FakeWaveSpeed

from .daemon_helpers import OscClient, media_folder, running_daemon


@pytest.fixture
def media(tmp_path: Path) -> Path:
    return media_folder(tmp_path, sr=48000, seconds=20.0, seed=2, subtype="PCM_24")


@pytest.fixture
def client_and_daemon(media: Path) -> Iterator[tuple[OscClient, object]]:
    with running_daemon(media=[media]) as daemon:
        client = OscClient(daemon.osc_address)
        try:
            yield client, daemon
        finally:
            client.close()


def native(path: Path) -> np.ndarray:
    return np.asarray(sf.read(path, dtype="int32", always_2d=True)[0])


def test_inpaint_over_osc_delivers_a_patch_that_cuts_in_cleanly(client_and_daemon: tuple[OscClient, object],
                                                                 media: Path) -> None:
    client, _ = client_and_daemon
    source = media / "song.wav"
    client.send("/bridge/inpaint", str(source), 8.0, 8.3, "")
    job = client.reply("/bridge/accepted")[1][0]
    states = []
    while True:
        address, args = client.wait_for(lambda m: bool(m[1]) and m[1][0] == job, timeout=60)
        if address == "/bridge/progress":
            states.append(args[1])
            assert 0.0 <= args[2] <= 1.0
            continue
        break
    assert address == "/bridge/done", args
    _, take_path, take_start, take_end, seed, manifest_path, boundary = args
    assert boundary == -1.0  # not quantized
    assert states[0] == "rendering" and "fitting" in states
    take, orig = native(Path(take_path)), native(source)
    lo = round(take_start * 48000)
    assert abs(take_end - take_start - len(take) / 48000) < 1e-4
    assert np.array_equal(take[0], orig[lo]) and np.array_equal(take[-1], orig[lo + len(take) - 1])
    a, b = round(8.0 * 48000) - lo, round(8.3 * 48000) - lo
    assert np.array_equal(take[:a], orig[lo : lo + a]) and np.array_equal(take[b:], orig[lo + b : lo + len(take)])
    manifest = json.loads(Path(manifest_path).read_text())
    assert manifest["seed"] == seed and manifest["take"]["kind"] == "patch"
    assert Path(take_path).parent == load_settings().data_dir / "takes"


def test_reverse_writes_the_patch_back_to_front(client_and_daemon: tuple[OscClient, object], media: Path) -> None:
    """A take that plays its source reversed gets a patch already reversed: no reverse step in the DAW."""
    client, _ = client_and_daemon
    source = media / "song.wav"
    client.send("/bridge/inpaint", str(source), 8.0, 8.3, "", "reverse", 1, "seed", 0)
    job = client.reply("/bridge/accepted")[1][0]
    _, args = client.wait_for(lambda m: m[0] in ("/bridge/done", "/bridge/error") and m[1][0] == job, timeout=60)
    _, take_path, take_start, take_end, _, manifest_path, _ = args
    take, orig = native(Path(take_path))[::-1], native(source)
    lo, hi = round(take_start * 48000), round(take_end * 48000)
    a, b = round(8.0 * 48000) - lo, round(8.3 * 48000) - lo
    assert len(take) == hi - lo
    assert np.array_equal(take[:a], orig[lo : lo + a]) and np.array_equal(take[b:], orig[lo + b : hi])
    assert json.loads(Path(manifest_path).read_text())["take"]["reversed"] is True


def test_every_request_gets_an_answer(client_and_daemon: tuple[OscClient, object], media: Path) -> None:
    client, _ = client_and_daemon
    source = str(media / "song.wav")
    cases: list[tuple[tuple[Any, ...], str]] = [
        (("/bridge/nope",), "unknown"),
        (("/bridge/*",), "patterns"),
        (("/bridge/inpaint", source, "x", 2.0), "start = 'x': must be a finite number"),
        (("/bridge/inpaint", source, 1.0), "end is missing"),
        (("/bridge/inpaint", source, 3.0, 2.0, ""), "end = 2.0: must be greater than start"),
        (("/bridge/inpaint", source, 1.0, 2.0, "", "steps"), "key value pairs"),
        (("/bridge/inpaint", source, 1.0, 2.0, "", "variations", 99),
         "variations = 99: must be a whole number in range 1..16"),
        (("/bridge/inpaint", source, 1.0, 2.0, "", "steps", 20), "engine 'local' takes no model parameters"),
        (("/bridge/inpaint", source, 1.0, 2.0, "x", "engine", "fal"), "set FAL_KEY"),
        (("/bridge/inpaint", source, 1.0, 2.0, "", "engine", "fal"), "needs a prompt"),
        (("/bridge/inpaint", "relative.wav", 1.0, 2.0), "must be an absolute path"),
        (("/bridge/inpaint", "/etc/passwd", 1.0, 2.0), "outside the media roots"),
        (("/bridge/inpaint", source, 1.0, 2.0, "", "project", "/etc"), "outside the media and output roots"),
        (("/bridge/generate", source, 1.0, 2.0, "rain"), "engine 'local' does: inpaint"),
        (("/bridge/inpaint", source, 30.0, 31.0, ""), "past the end"),
        (("/bridge/cancel",), "no active job"),
        (("/bridge/regenerate", "feedbeef"), "unknown"),
        (("/bridge/preset", "no-such"), "preset = 'no-such': unknown"),
        (("/bridge/set", "fade_ms", 1e9), "fade_ms = 1000000000.0: must be a number in range 0..2000"),
        (("/bridge/set", "steps", "many"), "steps = 'many': must be a whole number"),
        (("/bridge/set", "steps", 5000), "steps = 5000: must be a whole number in range 1..100"),
        (("/bridge/set", "bogus", 1), "bogus = 1: not a parameter of any model"),
        (("/bridge/status", "feedbeef"), "unknown"),
        (("/bridge/inpaint",), "none armed"),
        (("/bridge/live", "paint"), "operation = 'paint': must be one of inpaint, transform, generate"),
        (("/bridge/live", "inpaint", "", "seed"), "key value pairs"),
    ]
    for message, words in cases:
        client.send(*message)
        address, args = client.wait_for(lambda m: m[0] in ("/bridge/error", "/bridge/accepted"), 5)
        if address == "/bridge/accepted":  # the job itself fails: its error follows
            address, args = client.job_end(args[0])
        assert address == "/bridge/error" and words in args[1], (message, args)


def test_supersede_cancels_the_older_job_unless_keep(client_and_daemon: tuple[OscClient, object],
                                                     media: Path) -> None:
    client, _ = client_and_daemon
    source = str(media / "song.wav")
    client.send("/bridge/inpaint", source, 5.0, 8.0, "")
    first = client.reply("/bridge/accepted")[1][0]
    client.send("/bridge/inpaint", source, 7.0, 9.0, "")
    second = client.reply("/bridge/accepted")[1][0]
    assert client.job_end(first) == ("/bridge/progress", [first, "cancelled", 1.0])
    assert client.job_end(second)[0] == "/bridge/done"
    client.send("/bridge/inpaint", source, 5.0, 8.0, "")
    third = client.reply("/bridge/accepted")[1][0]
    client.send("/bridge/inpaint", source, 7.0, 9.0, "", "keep", 1)
    fourth = client.reply("/bridge/accepted")[1][0]
    assert client.job_end(third)[0] == "/bridge/done" and client.job_end(fourth)[0] == "/bridge/done"


def test_variations_use_consecutive_seeds_and_all_arrive(client_and_daemon: tuple[OscClient, object],
                                                         media: Path) -> None:
    client, _ = client_and_daemon
    client.send("/bridge/inpaint", str(media / "song.wav"), 9.0, 10.0, "", "variations", 3, "seed", 40)
    jobs = [client.reply("/bridge/accepted")[1][0] for _ in range(3)]
    ends = [client.job_end(job) for job in jobs]
    assert [end[0] for end in ends] == ["/bridge/done"] * 3
    assert sorted(end[1][4] for end in ends) == [40, 41, 42]
    assert len({end[1][1] for end in ends}) == 3
    client.send("/bridge/regenerate")
    again = client.reply("/bridge/accepted")[1][0]
    assert client.job_end(again)[1][4] == 43


def test_session_arm_prompt_preset_and_trigger(client_and_daemon: tuple[OscClient, object], media: Path) -> None:
    client, _ = client_and_daemon
    client.send("/bridge/arm", str(media / "song.wav"), 4.0, 4.2)
    status = client.reply("/bridge/status")[1]
    assert status[:6] == ["source", str(media / "song.wav"), "start", 4.0, "end", pytest.approx(4.2)]
    client.send("/bridge/preset", "room-tone")
    assert "room-tone" in client.reply("/bridge/status")[1]
    client.send("/bridge/set", "variations", 2)
    client.reply("/bridge/status")
    client.send("/bridge/inpaint")  # a pad press: everything from the session and the preset
    jobs = [client.reply("/bridge/accepted")[1][0] for _ in range(2)]
    for job in jobs:
        address, args = client.job_end(job)
        assert address == "/bridge/done"
        manifest = json.loads(Path(args[5]).read_text())
        assert manifest["parameters"]["fade_ms"] == 60.0
    client.send("/bridge/status")
    status = client.reply("/bridge/status")[1]
    assert status[status.index("variations") + 1] == 2 and "uptime_s" in status


def test_subscribers_hear_every_job(client_and_daemon: tuple[OscClient, object], media: Path) -> None:
    client, daemon = client_and_daemon
    listener = OscClient(daemon.osc_address)  # type: ignore[attr-defined]
    try:
        listener.send("/bridge/subscribe")
        assert listener.reply("/bridge/status")[1] == ["subscribed", listener.port]
        client.send("/bridge/inpaint", str(media / "song.wav"), 2.0, 2.1, "")
        job = client.reply("/bridge/accepted")[1][0]
        assert listener.job_end(job)[0] == "/bridge/done"
        client.send("/bridge/jobs")
        listed = client.reply("/bridge/jobs")[1][0]
        assert listed >= 1
    finally:
        listener.close()


def test_reply_port_redirects_replies(client_and_daemon: tuple[OscClient, object], media: Path) -> None:
    client, daemon = client_and_daemon
    other = OscClient(daemon.osc_address)  # type: ignore[attr-defined]
    try:
        client.send("/bridge/inpaint", str(media / "song.wav"), 2.0, 2.1, "", "reply_port", other.port)
        job = client.reply("/bridge/accepted")[1][0]
        assert other.job_end(job)[0] == "/bridge/done"
    finally:
        other.close()


def test_symlinks_out_of_the_media_root_are_refused(client_and_daemon: tuple[OscClient, object], media: Path,
                                                    tmp_path: Path) -> None:
    client, _ = client_and_daemon
    outside = tmp_path / "secret.wav"
    sf.write(outside, np.zeros((48000, 2)), 48000)
    (media / "link.wav").symlink_to(outside)
    client.send("/bridge/inpaint", str(media / "link.wav"), 0.2, 0.3, "")
    assert "outside the media roots" in client.reply("/bridge/error")[1][1]


def test_allow_list_drops_other_senders(media: Path) -> None:
    from bridge.cli.serve import parse_networks

    with running_daemon(media=[media], allow=parse_networks(["10.9.9.0/24"])) as daemon:
        client = OscClient(daemon.osc_address)
        try:
            client.send("/bridge/ping")
            with pytest.raises(AssertionError, match="no matching reply"):
                client.reply("/bridge/pong", timeout=0.5)
            assert daemon.endpoint is not None and daemon.endpoint.stats.refused == 1
        finally:
            client.close()


def test_listen_without_allow_is_refused() -> None:
    from bridge.daemon import ServeOptions
    from bridge.errors import BadValue

    with pytest.raises(BadValue, match="--allow"):
        ServeOptions(host="0.0.0.0")


def test_fallback_to_local_when_the_service_is_unreachable(media: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    settings = dataclasses.replace(load_settings(), fallback_local=True,
                                   fal=ServiceSettings(url=dead, rest_url=dead, key=TEST_KEY))
    with running_daemon(settings, media=[media]) as daemon:
        client = OscClient(daemon.osc_address)
        try:
            client.send("/bridge/inpaint", str(media / "song.wav"), 3.0, 3.1, "rain", "engine", "fal", "context", 3)
            job = client.reply("/bridge/accepted")[1][0]
            address, args = client.job_end(job, timeout=60)
            assert address == "/bridge/done", args
            manifest = json.loads(Path(args[5]).read_text())
            assert manifest["engine"] == "local" and "could not be reached" in manifest["notes"][0]
        finally:
            client.close()


def test_hosted_job_over_osc_with_the_fake(media: Path) -> None:
    with FakeFal(queue_polls=1, progress_polls=1) as fake:
        settings = dataclasses.replace(load_settings(), fal=ServiceSettings(url=fake.queue_url, rest_url=fake.rest_url,
                                                                            key=TEST_KEY))
        with running_daemon(settings, media=[media]) as daemon:
            client = OscClient(daemon.osc_address)
            try:
                client.send("/bridge/inpaint", str(media / "song.wav"), 6.0, 7.0, "glass", "engine", "fal",
                            "steps", 20)
                job = client.reply("/bridge/accepted")[1][0]
                states = []
                while True:
                    address, args = client.wait_for(lambda m: bool(m[1]) and m[1][0] == job, 30)
                    if address != "/bridge/progress":
                        break
                    states.append(args[1])
                assert address == "/bridge/done", args
                assert states[:3] == ["rendering", "submitted", "running"] and states[-1] == "fitting"
                assert fake.submits() == 1
                assert daemon.context is not None
                record = daemon.context.runner.journal.get(job)
                assert record is not None and record.remote_id == fake.accepted[0]
            finally:
                client.close()


def test_accepted_carries_the_cost_and_the_budget_counts_every_variation(media: Path) -> None:
    with FakeFal(queue_polls=0, progress_polls=0) as fake:
        settings = dataclasses.replace(load_settings(), budget=Budget(per_request=0.05),
                                       fal=ServiceSettings(url=fake.queue_url, rest_url=fake.rest_url, key=TEST_KEY))
        with running_daemon(settings, media=[media]) as daemon:
            client = OscClient(daemon.osc_address)
            try:
                song = str(media / "song.wav")
                client.send("/bridge/inpaint", song, 6.0, 7.0, "glass", "engine", "fal", "variations", 2)
                error = client.reply("/bridge/error")[1]
                assert "cost = $0.0662 for 2 jobs: over the per-request ceiling of $0.05" in error[1]
                client.send("/bridge/inpaint", song, 6.0, 7.0, "glass", "engine", "fal")
                job, cost = client.reply("/bridge/accepted")[1]
                assert cost == pytest.approx(0.0331) and client.job_end(job)[0] == "/bridge/done"
                client.send("/bridge/inpaint", song, 1.0, 1.2, "")
                assert client.reply("/bridge/accepted")[1][1] == 0.0  # local: free
                assert fake.submits() == 1
            finally:
                client.close()


def test_a_superseded_wavespeed_job_says_its_prediction_goes_on(media: Path) -> None:
    with FakeWaveSpeed(created_polls=0, processing_polls=100_000) as fake:
        settings = dataclasses.replace(load_settings(), wavespeed=ServiceSettings(url=fake.url, key=WS_KEY))
        with running_daemon(settings, media=[media]) as daemon:
            client = OscClient(daemon.osc_address)
            try:
                song = str(media / "song.wav")
                client.send("/bridge/inpaint", song, 6.0, 7.0, "glass", "engine", "wavespeed")
                first = client.reply("/bridge/accepted")[1][0]
                client.wait_for(lambda m: m[0] == "/bridge/progress" and m[1][:2] == [first, "submitted"], 30)
                client.send("/bridge/inpaint", song, 6.5, 7.5, "glass", "engine", "wavespeed")  # supersedes it
                second = client.reply("/bridge/accepted")[1][0]
                address, args = client.job_end(first)
                [prediction] = fake.accepted[:1]
                assert (address, args[1]) == ("/bridge/progress", "cancelled")
                assert daemon.context is not None
                record = daemon.context.runner.journal.get(first)
                assert record is not None and record.error is not None
                assert f"WaveSpeed has no cancel: prediction {prediction} goes on at the service" in record.error
                client.send("/bridge/cancel", second)
                client.job_end(second)
            finally:
                client.close()


def test_shutdown_cancels_jobs_past_the_grace_period_at_the_service(media: Path) -> None:
    with FakeFal(queue_polls=100_000) as fake:
        settings = dataclasses.replace(load_settings(), fal=ServiceSettings(url=fake.queue_url, rest_url=fake.rest_url,
                                                                            key=TEST_KEY))
        t0 = 0.0
        with running_daemon(settings, media=[media], grace_s=0.5) as daemon:
            client = OscClient(daemon.osc_address)
            client.send("/bridge/inpaint", str(media / "song.wav"), 6.0, 7.0, "glass", "engine", "fal")
            job = client.reply("/bridge/accepted")[1][0]
            client.wait_for(lambda m: m[0] == "/bridge/progress" and m[1][1] == "running", 30)
            t0 = time.monotonic()
        assert time.monotonic() - t0 < 15
        assert fake.cancels == fake.accepted and len(fake.accepted) == 1
        assert client.job_end(job) == ("/bridge/progress", [job, "cancelled", 1.0])
        client.close()


def test_serve_subprocess_stops_on_sigterm(tmp_path: Path, media: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "bridge", "serve", "--osc-port", str(port), "--media-root",
                             str(media), "--log-format", "json"], stderr=subprocess.PIPE, text=True,
                            env={**os.environ})
    client = OscClient(("127.0.0.1", port))
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping(0.3)
                break
            except AssertionError:
                assert time.monotonic() < deadline and proc.poll() is None
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=15)
        assert time.monotonic() - t0 < 15 and proc.returncode == 0
        lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
        assert all({"ts", "level", "logger", "msg"} <= set(line) for line in lines)
        events = [line["event"] for line in lines if "event" in line]
        assert events[0] == "ready" and events[-1] == "stopped"
    finally:
        client.close()
        if proc.poll() is None:
            proc.kill()


def test_readme_carries_the_address_table() -> None:
    from bridge.control.routes import address_table

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert address_table() in readme
