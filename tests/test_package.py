from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import bridge

ROOT = Path(__file__).resolve().parents[1]


def test_all_is_sorted_and_complete() -> None:
    assert bridge.__all__ == sorted(bridge.__all__)
    for name in bridge.__all__:
        assert hasattr(bridge, name)


@pytest.mark.parametrize("tool", [["ruff", "check", "."], ["mypy"]])
def test_static_checks_are_clean(tool: list[str]) -> None:
    exe = shutil.which(tool[0], path=str(Path(sys.executable).parent)) or shutil.which(tool[0])
    if exe is None:
        pytest.fail(f"{tool[0]} is not installed; install the test extras: pip install -e '.[test]'")
    done = subprocess.run([exe, *tool[1:]], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
