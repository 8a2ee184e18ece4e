"""MIDI through a real JACK server (jackd -d dummy): a pad press from another process starts a job
on the armed range, and the pad's LED follows the job on the daemon's output port."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import soundfile as sf

from bridge.audio.signals import loop
from bridge.cli.bench import jack as jack_server

from ..daemon_helpers import OscClient, running_daemon

pytestmark = pytest.mark.xdist_group("jack")  # one JACK server for the module, on one worker

PEER = Path(__file__).with_name("midi_peer.py")


SERVER = f"inpaint-bridge-test-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
"""One name per test process: a server never meets a user's, nor one of another worker's."""


@pytest.fixture(scope="module")
def jack() -> Iterator[None]:
    """A JACK server of our own (dummy driver, named so it never meets a user's server), waited for."""
    if not jack_server.available():
        pytest.skip("jackd is not installed (Debian package jackd2; .ci/run installs it)")
    with jack_server.private_server(SERVER) as problem:
        if problem is not None:
            raise AssertionError(problem)
        yield


def peer(send: str, until: int | None = None) -> list[list[int]]:
    args = [sys.executable, str(PEER), send] + ([str(until)] if until is not None else [])
    done = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout))


def test_pad_press_through_jack_starts_a_job_and_its_led_follows(jack: None, tmp_path: Path) -> None:
    sf.write(tmp_path / "song.wav", loop(48000, 12.0, channels=2), 48000, subtype="PCM_24")
    with running_daemon(media=[tmp_path], midi=True, midi_api="jack") as daemon:
        assert daemon.context is not None and daemon.context.midi is not None, "MIDI did not open on JACK"
        client = OscClient(daemon.osc_address)
        try:
            client.send("/bridge/subscribe")
            client.reply("/bridge/status")
            client.send("/bridge/arm", str(tmp_path / "song.wav"), 5.0, 5.3)
            client.reply("/bridge/status")
            # knob 1 (CC 70) to the top, program change 0 (fill-dropout), then pad 1 (note 36)
            leds = peer("b0 46 7f;c0 00;90 24 64;80 24 00", until=64)
            job = client.reply("/bridge/accepted")[1][0]
            address, args = client.job_end(job)
            assert address == "/bridge/done", args
            assert [m for m in leds if m[1] == 36][0] == [0x90, 36, 8]  # queued
            assert [0x90, 36, 24] in leds and leds[-1] == [0x90, 36, 64]  # running, then done
            client.send("/bridge/status")
            status = client.reply("/bridge/status")[1]
            assert status[status.index("guidance") + 1] == 25.0
            assert status[status.index("preset") + 1] == "fill-dropout"
            manifest = json.loads(Path(args[5]).read_text())
            assert manifest["parameters"]["fade_ms"] == 10.0  # fill-dropout's fade
        finally:
            client.close()


def test_learn_over_osc_binds_the_next_note(jack: None, tmp_path: Path) -> None:
    with running_daemon(media=[tmp_path], midi=True, midi_api="jack") as daemon:
        client = OscClient(daemon.osc_address)
        try:
            client.send("/bridge/midi/learn", "cancel")
            assert client.reply("/bridge/status")[1] == ["learning", "cancel"]
            peer("90 3c 64")
            saved = daemon.settings.config_dir / "controllers" / "generic.toml"
            deadline = time.monotonic() + 5
            while not saved.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            assert 'action = "cancel"' in saved.read_text() and "number = 60" in saved.read_text()
        finally:
            client.close()


def test_no_midi_system_runs_without_midi(tmp_path: Path) -> None:
    with running_daemon(media=[tmp_path], midi=True, midi_api="coremidi") as daemon:
        assert daemon.context is not None and daemon.context.midi is None
        client = OscClient(daemon.osc_address)
        try:
            client.ping()
            client.send("/bridge/midi/learn", "cancel")
            assert "MIDI is not running" in client.reply("/bridge/error")[1][1]
        finally:
            client.close()


def test_take_pads_show_their_slot_of_the_bank_and_play_it(jack: None, tmp_path: Path) -> None:
    sf.write(tmp_path / "song.wav", loop(48000, 12.0, channels=2), 48000, subtype="PCM_24")
    with running_daemon(media=[tmp_path], midi=True, midi_api="jack", midi_map="performance") as daemon:
        client = OscClient(daemon.osc_address)
        try:
            client.send("/bridge/subscribe")
            client.reply("/bridge/status")
            client.send("/bridge/arm", str(tmp_path / "song.wav"), 5.0, 5.05)
            for key, value in (("variations", 3), ("hold", 1)):
                client.send("/bridge/set", key, value)
                client.reply("/bridge/status")
            leds = peer("90 24 64;80 24 00", until=64)  # pad 1 fills the bank; wait for a slot to be ready
            jobs = [client.reply("/bridge/accepted")[1][0] for _ in range(3)]
            for job in jobs:
                ready = [job, "ready"]
                client.wait_for(lambda m: m[0] == "/bridge/progress" and m[1][:2] == ready, 30)  # noqa: B023
            slot_leds = [m for m in leds if m[1] in (40, 41, 42, 43)]
            assert [0x90, 43, 0] in slot_leds  # pad 8: no fourth slot
            assert any(m[1] in (40, 41, 42) and m[2] in (8, 24) for m in slot_leds)  # generating
            leds = peer("90 29 64;80 29 00", until=127)  # pad 6 (take_2)
            address, args = client.wait_for(lambda m: m[0] == "/bridge/done", 30)
            assert args[0] == jobs[1]
            assert [0x90, 41, 127] in leds and [0x90, 40, 64] in leds and [0x90, 42, 64] in leds
        finally:
            client.close()


def test_a_quantized_take_waits_for_the_beat_of_a_jack_midi_clock(jack: None, tmp_path: Path) -> None:
    sf.write(tmp_path / "song.wav", loop(48000, 12.0, channels=2), 48000, subtype="PCM_24")
    with running_daemon(media=[tmp_path], midi=True, midi_api="jack") as daemon:
        client = OscClient(daemon.osc_address)
        try:
            request = [str(tmp_path / "song.wav"), 5.0, 5.05, "", "quantize", "beat"]
            client.send("/bridge/inpaint", *request)
            refusal = client.reply("/bridge/error")[1][1]
            assert "quantize = 'beat': the MIDI clock is not running" in refusal  # refused, not ignored
            peer("fa;f8;f8;f8")  # start, and three ticks to give the tempo
            client.send("/bridge/inpaint", *request)
            job = client.reply("/bridge/accepted")[1][0]
            client.wait_for(lambda m: m[0] == "/bridge/progress" and m[1][:2] == [job, "fitting"], 30)
            peer(";".join(["f8"] * 21))  # on to tick 24: the next beat
            address, args = client.job_end(job, 30)
            assert address == "/bridge/done" and args[6] == 1.0  # held, then announced on beat 1
        finally:
            client.close()
