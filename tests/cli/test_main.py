"""The command line end to end, as a subprocess on real files."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from bridge.audio.signals import loop
from bridge.cli import main
from bridge.fakes.fal import TEST_KEY as FAL_KEY
from bridge.fakes.fal import FakeFal
from bridge.fakes.wavespeed import TEST_KEY as WS_KEY
from bridge.fakes.wavespeed import FakeWaveSpeed


def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bridge", *args], cwd=cwd, capture_output=True, text=True,
        env={**os.environ, **(env or {})}, timeout=300,
    )


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "song.wav"
    sf.write(path, loop(48000, 12.0, channels=2), 48000, subtype="PCM_24")
    return path


def native(path: Path) -> np.ndarray:
    data, _ = sf.read(path, dtype="int32", always_2d=True)
    return np.asarray(data)


def test_a_long_fade_inside_the_documented_range_is_taken(tmp_path: Path, source: Path) -> None:
    done = run("inpaint", str(source), "--start", "5", "--end", "9", "--fade-ms", "1500", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    take = Path(done.stdout.split("take: ")[1].splitlines()[0])
    orig, new = native(source), native(take)
    assert np.array_equal(new[:5 * 48000], orig[:5 * 48000]) and np.array_equal(new[9 * 48000:], orig[9 * 48000:])
    manifest = json.loads(take.with_name(take.name + ".json").read_text())
    assert manifest["parameters"]["fade_ms"] == 1500.0 and manifest["seed"] == 0
    bad = run("inpaint", str(source), "--start", "5", "--end", "9", "--fade-ms", "2500", cwd=tmp_path)
    assert bad.returncode == 2 and "fade_ms = 2500.0: must be a number in range 0..2000" in bad.stderr


@pytest.mark.parametrize("start,end", [(5.0, 5.04), (5.0, 6.5)])
def test_inpaint_writes_a_full_take_beside_the_source(tmp_path: Path, source: Path, start: float, end: float) -> None:
    before = source.read_bytes()
    done = run("inpaint", str(source), "--start", str(start), "--end", str(end), "--prompt", "keep it", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    take = Path(done.stdout.split("take: ")[1].splitlines()[0])
    assert take.parent == source.parent and take != source
    assert source.read_bytes() == before
    a, b = round(start * 48000), round(end * 48000)
    orig, new = native(source), native(take)
    assert new.shape == orig.shape and sf.info(take).subtype == "PCM_24"
    assert np.array_equal(new[:a], orig[:a]) and np.array_equal(new[b:], orig[b:])
    assert not np.array_equal(new[a:b], orig[a:b])
    manifest = json.loads(take.with_name(take.name + ".json").read_text())
    assert manifest["engine"] == "local" and manifest["prompt"] == "keep it" and manifest["prompt_used"] is False
    assert manifest["range"] == {"start": start, "end": end, "start_frame": a, "end_frame": b}
    assert "does not read the prompt" in manifest["notes"][0]


def test_patch_covers_range_plus_handles_and_starts_with_source_samples(tmp_path: Path, source: Path) -> None:
    done = run("inpaint", str(source), "--start", "5", "--end", "5.5", "--patch", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    take = Path(done.stdout.split("take: ")[1].splitlines()[0])
    manifest = json.loads(take.with_name(take.name + ".json").read_text())
    lo, hi = round(manifest["take"]["take_start"] * 48000), round(manifest["take"]["take_end"] * 48000)
    assert (lo, hi) == (round(4.5 * 48000), round(6.0 * 48000))
    patch, orig = native(take), native(source)
    assert np.array_equal(patch[: 5 * 48000 - lo], orig[lo : 5 * 48000])
    assert np.array_equal(patch[-(hi - round(5.5 * 48000)) :], orig[round(5.5 * 48000) : hi])


def test_output_flag_and_no_overwrite(tmp_path: Path, source: Path) -> None:
    out = tmp_path / "fixed.flac"
    assert run("inpaint", str(source), "--start", "2", "--end", "2.02", "-o", str(out), cwd=tmp_path).returncode == 0
    assert sf.info(out).format == "FLAC"
    again = run("inpaint", str(source), "--start", "2", "--end", "2.02", "-o", str(out), cwd=tmp_path)
    assert again.returncode == 2 and "exists" in again.stderr


def test_lossy_source_becomes_float_wav_with_samples_kept(tmp_path: Path) -> None:
    src = tmp_path / "memo.ogg"
    sf.write(src, loop(44100, 8.0, channels=1), 44100, format="OGG", subtype="VORBIS")
    done = run("inpaint", str(src), "--start", "3", "--end", "3.05", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    take = Path(done.stdout.split("take: ")[1].splitlines()[0])
    assert take.suffix == ".wav" and sf.info(take).subtype == "FLOAT"
    orig, _ = sf.read(src, dtype="float32")
    new, _ = sf.read(take, dtype="float32")
    assert np.array_equal(new[: 3 * 44100], orig[: 3 * 44100])


def test_example_and_engines(tmp_path: Path) -> None:
    done = run("example", "ex.wav", cwd=tmp_path)
    assert done.returncode == 0 and (tmp_path / "ex.wav").is_file()
    engines = run("engines", cwd=tmp_path)
    assert engines.returncode == 0 and "local (default): ready" in engines.stdout


@pytest.mark.parametrize(
    "args,code,field",
    [
        (["--start", "5", "--end", "4"], 2, "end = 4.0"),
        (["--start", "-1", "--end", "4"], 2, "start = -1.0"),
        (["--start", "nan", "--end", "4"], 2, "start = nan"),
        (["--start", "1", "--end", "inf"], 2, "end = inf"),
        (["--start", "11", "--end", "13"], 2, "end = 13"),
        (["--start", "0", "--end", "12"], 2, "whole file"),
        (["--start", "1", "--end", "1.0001"], 2, "end - start"),
        (["--start", "1", "--end", "40"], 2, "end"),
        (["--start", "1", "--end", "2", "--engine", "nope"], 2, "engine = 'nope'"),
        (["--start", "1", "--end", "2", "--fade-ms", "5000"], 2, "fade_ms = 5000.0"),
        (["--start", "1", "--end", "2", "--seed", "-3"], 2, "seed = -3"),
    ],
)
def test_bad_input_is_one_clear_line(tmp_path: Path, source: Path, args: list[str], code: int, field: str) -> None:
    before = sorted(p.name for p in tmp_path.iterdir())
    done = run("inpaint", str(source), *args, cwd=tmp_path)
    assert done.returncode == code
    assert field in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == before


@pytest.mark.parametrize("kind", ["missing", "empty", "text", "same-as-source", "unwritable"])
def test_bad_paths(tmp_path: Path, source: Path, kind: str) -> None:
    target = str(source)
    extra: list[str] = []
    if kind == "missing":
        target = str(tmp_path / "nope.wav")
    elif kind == "empty":
        (tmp_path / "e.wav").write_bytes(b"")
        target = str(tmp_path / "e.wav")
    elif kind == "text":
        (tmp_path / "t.wav").write_text("hello " * 50)
        target = str(tmp_path / "t.wav")
    elif kind == "same-as-source":
        extra = ["-o", str(source), "--overwrite"]
    else:
        extra = ["-o", str(tmp_path / "no-such-folder" / "out.wav")]
    before = source.read_bytes()
    done = run("inpaint", target, "--start", "1", "--end", "1.1", *extra, cwd=tmp_path)
    assert done.returncode in (1, 2) and done.returncode != 0
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert source.read_bytes() == before
    assert not [p for p in tmp_path.rglob(".inpaint-*")]


def test_help_has_examples(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("inpaint", "transform", "generate", "resume", "engines", "example", "bench", "fake-server", "serve",
                    "send", "jobs", "presets", "reapack-index"):
        with pytest.raises(SystemExit) as done:
            main([command, "--help"])
        assert done.value.code == 0 and "example" in capsys.readouterr().out, command


@pytest.mark.bench
def test_bench_quick_json(tmp_path: Path) -> None:
    done = run("bench", "--json", "--quick", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert set(report) == {"quick", "job", "memory", "local", "hosted", "completion", "daemon"}
    assert report["daemon"]["burst"]["answered"] == report["daemon"]["burst"]["sent"]
    assert report["daemon"]["queue"]["done"] == report["daemon"]["queue"]["jobs"]
    assert report["daemon"]["busy_4_hosted_jobs"]["jobs_done"] == 4
    assert report["hosted"]["bytes_sent"] >= report["hosted"]["excerpt_wav_bytes"] > 0
    assert report["hosted"]["floor_ms"] > 0 and report["hosted"]["ratio"] > 0
    assert report["completion"]["jobs"] == 5 and report["completion"]["p50_ms"] > 0
    assert report["job"]["sum_ms"] > 0 and report["job"]["floor_ms"] > 0


@pytest.fixture
def fakes() -> Iterator[dict[str, str]]:
    """The fake services, and the environment that points the CLI at them."""
    with FakeFal(queue_polls=1, progress_polls=0) as fal, FakeWaveSpeed(created_polls=0) as wavespeed:
        yield {"INPAINT_BRIDGE_FAL_URL": fal.queue_url, "INPAINT_BRIDGE_FAL_REST_URL": fal.rest_url,
               "FAL_KEY": FAL_KEY, "INPAINT_BRIDGE_WAVESPEED_URL": wavespeed.url, "WAVESPEED_API_KEY": WS_KEY}


@pytest.mark.parametrize("command,engine,extra", [
    ("inpaint", "fal", []),
    ("inpaint", "fal", ["--model", "fal-ai/stable-audio-25/inpaint", "--steps", "6"]),
    ("transform", "fal", ["--strength", "0.5"]),
    ("generate", "fal", ["--set", "steps=50"]),
    ("inpaint", "wavespeed", ["--guidance", "2"]),
    ("transform", "wavespeed", []),
])
def test_hosted_engines_from_the_command_line(tmp_path: Path, source: Path, fakes: dict[str, str], command: str,
                                              engine: str, extra: list[str]) -> None:
    done = run(command, str(source), "--start", "5", "--end", "7", "--engine", engine, "--prompt", "rain",
               "--patch", *extra, cwd=tmp_path, env=fakes)
    assert done.returncode == 0, done.stderr
    take = Path(done.stdout.split("take: ")[1].splitlines()[0])
    text = take.with_name(take.name + ".json").read_text()
    manifest = json.loads(text)
    assert manifest["engine"] == engine and manifest["operation"] == command and manifest["remote_request_id"]
    for secret in (FAL_KEY, WS_KEY):
        assert secret not in text and secret not in done.stdout and secret not in done.stderr


@pytest.mark.parametrize("args,code,words", [
    (["--engine", "fal", "--steps", "500"], 2, "steps = 500: must be a whole number in range 1..100"),
    (["--engine", "fal", "--set", "nonsense"], 2, "--set = 'nonsense': must be KEY=VALUE"),
    (["--engine", "fal", "--model", "fal-ai/other"], 2, "model = 'fal-ai/other': not a fal model"),
    (["--engine", "wavespeed", "--set", "output_format=mp3"], 2, "output_format = 'mp3': must be one of wav, flac"),
])
def test_hosted_bad_input_is_one_clear_line(tmp_path: Path, source: Path, fakes: dict[str, str], args: list[str],
                                            code: int, words: str) -> None:
    done = run("inpaint", str(source), "--start", "5", "--end", "7", "--prompt", "x", *args, cwd=tmp_path, env=fakes)
    assert done.returncode == code and words in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_missing_key_names_the_variable(tmp_path: Path, source: Path) -> None:
    done = run("inpaint", str(source), "--start", "5", "--end", "7", "--engine", "fal", "--prompt", "x", cwd=tmp_path)
    assert done.returncode == 1 and "set FAL_KEY" in done.stderr and "Traceback" not in done.stderr


def test_engines_show_readiness_and_endpoints(tmp_path: Path, fakes: dict[str, str]) -> None:
    done = run("engines", cwd=tmp_path, env=fakes)
    assert done.returncode == 0
    assert f"fal: ready; endpoint {fakes['INPAINT_BRIDGE_FAL_URL']}" in done.stdout
    assert f"wavespeed: ready; endpoint {fakes['INPAINT_BRIDGE_WAVESPEED_URL']}" in done.stdout
    assert "fal-ai/stable-audio-25/inpaint" in done.stdout and "strength 0-1 (0.9)" in done.stdout
    assert FAL_KEY not in done.stdout


def test_fake_server_serves_until_interrupted(tmp_path: Path, source: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "bridge", "fake-server", "--port", str(port)], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]
        env = dict(item.split("=", 1) for line in lines[1:] for item in line.split()[1:])
        assert env["INPAINT_BRIDGE_FAL_URL"] == f"http://127.0.0.1:{port}"
        done = run("inpaint", str(source), "--start", "5", "--end", "7", "--engine", "fal", "--prompt", "x",
                   "--patch", cwd=tmp_path, env=env)
        assert done.returncode == 0, done.stderr
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 130 and "Traceback" not in err


def test_presets_and_preset_flag(tmp_path: Path, source: Path) -> None:
    listed = run("presets", cwd=tmp_path)
    assert listed.returncode == 0 and "fill-dropout" in listed.stdout and "riser" in listed.stdout
    done = run("inpaint", str(source), "--start", "5", "--end", "5.05", "--preset", "fill-dropout", "--patch",
               cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    take = Path(done.stdout.split("take: ")[1].splitlines()[0])
    assert json.loads(take.with_name(take.name + ".json").read_text())["parameters"]["fade_ms"] == 10.0
    bad = run("inpaint", str(source), "--start", "5", "--end", "6", "--preset", "nope", cwd=tmp_path)
    assert bad.returncode == 2 and "preset = 'nope': unknown" in bad.stderr


def test_send_to_a_running_daemon_and_jobs(tmp_path: Path, source: Path) -> None:
    from tests.daemon_helpers import running_daemon

    with running_daemon(media=[source.parent]) as daemon:
        port = str(daemon.osc_address[1])
        pong = run("send", "/bridge/ping", "hi", "--port", port, cwd=tmp_path)
        assert pong.returncode == 0 and "/bridge/pong '0.1.0' 'hi'" in pong.stdout
        done = run("send", "/bridge/inpaint", str(source), "5", "5.2", "", "--port", port, "--follow", cwd=tmp_path)
        assert done.returncode == 0 and "/bridge/done" in done.stdout, done.stdout
        refused = run("send", "/bridge/inpaint", "/etc/hosts", "1", "2", "--port", port, cwd=tmp_path)
        assert refused.returncode == 1 and "outside the media roots" in refused.stdout
    listed = run("jobs", "--json", cwd=tmp_path)
    jobs = json.loads(listed.stdout)
    assert listed.returncode == 0 and jobs[0]["state"] == "done" and jobs[0]["take_path"]


def test_serve_refuses_a_busy_port_and_open_listening(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        busy = run("serve", "--osc-port", str(s.getsockname()[1]), cwd=tmp_path)
        assert busy.returncode == 2 and "cannot listen" in busy.stderr and "Traceback" not in busy.stderr
    wide = run("serve", "--listen", "0.0.0.0", cwd=tmp_path)
    assert wide.returncode == 2 and "--allow" in wide.stderr


def test_resume_collects_a_lost_request_without_paying_again(tmp_path: Path, source: Path) -> None:
    with FakeFal(queue_polls=0, progress_polls=0) as fake:
        env = {"INPAINT_BRIDGE_FAL_URL": fake.queue_url, "INPAINT_BRIDGE_FAL_REST_URL": fake.rest_url,
               "FAL_KEY": FAL_KEY}
        first = run("inpaint", str(source), "--start", "5", "--end", "6", "--engine", "fal", "--prompt", "rain",
                    "--patch", cwd=tmp_path, env=env)
        assert first.returncode == 0, first.stderr
        [request] = fake.accepted
        assert f"request: {request}" in first.stdout
        again = run("resume", request, str(source), "--start", "5", "--end", "6", "--engine", "fal", "--patch",
                    cwd=tmp_path, env=env)
        assert again.returncode == 0, again.stderr
        assert f"request: {request}" in again.stdout and fake.submits() == 1
    local = run("resume", "abc", str(source), "--start", "5", "--end", "6", cwd=tmp_path)
    assert local.returncode == 2 and "--engine = 'local': resume collects a hosted request" in local.stderr


def test_a_paid_request_shows_its_cost_and_keeps_to_the_budget(tmp_path: Path, source: Path,
                                                                isolated_home: Path) -> None:
    config = isolated_home / "config"
    config.mkdir(exist_ok=True)
    with FakeFal(queue_polls=0, progress_polls=0) as fake:
        env = {"INPAINT_BRIDGE_FAL_URL": fake.queue_url, "INPAINT_BRIDGE_FAL_REST_URL": fake.rest_url,
               "FAL_KEY": FAL_KEY}
        edit = ("inpaint", str(source), "--start", "5", "--end", "6", "--engine", "fal", "--prompt", "rain", "--patch")
        (config / "config.toml").write_text("[budget]\nper_request = 0.01\n")
        over = run(*edit, cwd=tmp_path, env=env)
        assert over.returncode == 2 and fake.submits() == 0
        assert "cost = $0.0331: over the per-request ceiling of $0.01" in over.stderr
        (config / "config.toml").write_text("[budget]\nper_day = 0.05\nconfirm_above = 0.02\n")
        unconfirmed = run(*edit, cwd=tmp_path, env=env)  # stdin is not a terminal: no one to ask
        assert unconfirmed.returncode == 2 and "pass --yes" in unconfirmed.stderr and fake.submits() == 0
        paid = run(*edit, "--yes", cwd=tmp_path, env=env)
        assert paid.returncode == 0, paid.stderr
        assert paid.stderr.startswith("cost: about $0.0331 (fal-ai/stable-audio-3/small/sfx/base/audio-inpainting")
        assert "cost: about $0.0331" in paid.stdout and f"request: {fake.accepted[0]}" in paid.stdout
        take = Path(paid.stdout.split("take: ")[1].splitlines()[0])
        cost = json.loads(take.with_name(take.name + ".json").read_text())["cost"]
        assert cost["estimated_usd"] == 0.0331 and cost["billed_units"] == "1"
        second = run(*edit, "--yes", cwd=tmp_path, env=env)  # 0.0331 + 0.0331 passes the day's 0.05
        assert second.returncode == 2 and "with $0.0331 spent today it would pass the daily ceiling of $0.05" in \
            second.stderr and fake.submits() == 1
        listed = run("jobs", cwd=tmp_path)
        assert listed.returncode == 0 and "about $0.0331 over 1 paid request" in listed.stdout
        engines = run("engines", cwd=tmp_path, env=env)
        assert "price $0.0331 per audio (published, read 2026-09)" in engines.stdout
