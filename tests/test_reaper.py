"""The REAPER scripts under Lua 5.4, against a fake of REAPER written from its documented
behaviour (tests/reaper), each probe report in tests/reaper/fixtures replayed by the fake."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from bridge.audio.signals import loop

from .daemon_helpers import running_daemon

HERE = Path(__file__).resolve().parent / "reaper"
LUA = shutil.which("lua5.4") or shutil.which("lua")
REPORTS = sorted((HERE / "fixtures").glob("*.json"))


def lua(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    if LUA is None:
        pytest.skip("Lua 5.4 is not installed (Debian package lua5.4; .ci/run installs it)")
    return subprocess.run([LUA, *args], capture_output=True, text=True, timeout=180,
                          env={**os.environ, **(env or {})})


def test_model() -> None:
    done = lua(str(HERE / "test_model.lua"))
    assert done.returncode == 0 and done.stdout.strip().endswith("OK"), done.stderr + done.stdout


@pytest.mark.parametrize("report", REPORTS, ids=[p.stem for p in REPORTS])
def test_actions_against_each_probe_report(tmp_path: Path, report: Path) -> None:
    done = lua(str(HERE / "test_actions.lua"), env={"SPOOL": str(tmp_path / "spool"), "REPORT": str(report)})
    assert done.returncode == 0 and done.stdout.strip().endswith("OK"), done.stderr + done.stdout


@pytest.mark.parametrize("report", REPORTS, ids=[p.stem for p in REPORTS])
def test_the_probe_script_reproduces_its_report(tmp_path: Path, report: Path) -> None:
    done = lua(str(HERE / "test_probe.lua"), str(report), str(tmp_path))
    assert done.returncode == 0 and done.stdout.strip().endswith("OK"), done.stderr + done.stdout


def test_action_to_daemon_to_takes(tmp_path: Path) -> None:
    media = tmp_path / "music"
    project = tmp_path / "project" / "media"
    media.mkdir()
    project.mkdir(parents=True)
    wav = media / "vocal.wav"
    sf.write(wav, loop(48000, 12.0, channels=2), 48000, subtype="PCM_24")
    spool = tmp_path / "spool"
    with running_daemon(media=[tmp_path], spool=spool):
        done = lua(str(HERE / "e2e.lua"), str(spool), str(wav), str(project))
    assert done.returncode == 0 and done.stdout.startswith("OK"), done.stderr + done.stdout
    takes = [Path(p) for p in done.stdout.split()[1:]]
    assert len(takes) == 3
    orig, sr = sf.read(wav, dtype="int32", always_2d=True)
    for take in takes:
        manifest = json.loads(take.with_name(take.name + ".json").read_text())
        patch = sf.read(take, dtype="int32", always_2d=True)[0]
        if manifest["take"]["reversed"]:
            patch = patch[::-1]
        lo, hi = round(manifest["take"]["take_start"] * sr), round(manifest["take"]["take_end"] * sr)
        a, b = manifest["range"]["start_frame"] - lo, manifest["range"]["end_frame"] - lo
        assert len(patch) == hi - lo
        assert np.array_equal(patch[:a], orig[lo : lo + a]) and np.array_equal(patch[b:], orig[lo + b : hi])
    assert [json.loads(t.with_name(t.name + ".json").read_text())["take"]["reversed"] for t in takes] == \
        [False, False, True]
