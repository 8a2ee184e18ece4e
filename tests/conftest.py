from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
EBU = SHARED / "data" / "ebu-gaps"


@pytest.fixture
def ebu_dir() -> Path:
    if not (EBU / "gaps.json").is_file():
        pytest.skip(f"EBU gap benchmark not found at {EBU} (it ships in ../shared beside the project)")
    return EBU


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("INPAINT_BRIDGE_HOME", str(home))
    return home
