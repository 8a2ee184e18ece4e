"""The REAPER scripts under Lua 5.4, against a stateful fake of the ReaScript API (tests/reaper)."""

from __future__ import annotations

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


def lua(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    if LUA is None:
        pytest.skip("Lua 5.4 is not installed (Debian package lua5.4; .ci/run installs it)")
    return subprocess.run([LUA, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


@pytest.mark.parametrize("script", ["test_mapping.lua", "test_actions.lua"])
def test_lua_scripts(tmp_path: Path, script: str) -> None:
    done = lua(str(HERE / script), env={"SPOOL": str(tmp_path / "spool")})
    assert done.returncode == 0 and done.stdout.strip().endswith("OK"), done.stderr + done.stdout


def test_action_to_daemon_to_take(tmp_path: Path) -> None:
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
    take = Path(done.stdout.split()[1])
    patch, sr = sf.read(take, dtype="int32", always_2d=True)
    orig, _ = sf.read(wav, dtype="int32", always_2d=True)
    lo = round(4.5 * sr)
    assert np.array_equal(patch[: round(0.5 * sr)], orig[lo : lo + round(0.5 * sr)])
    assert (take.with_name(take.name + ".json")).is_file()
