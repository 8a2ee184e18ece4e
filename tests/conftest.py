from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from hypothesis import settings

from bridge.engines import http

# no wall-clock deadline on any property test: a shared machine's pauses are not failures
settings.register_profile("bridge", deadline=None)
settings.load_profile("bridge")

SHARED = Path(__file__).resolve().parents[2] / "shared"
EBU = SHARED / "data" / "ebu-gaps"


@pytest.fixture
def ebu_dir() -> Path:
    if not (EBU / "gaps.json").is_file():
        pytest.skip(f"EBU gap benchmark not found at {EBU} (it ships in ../shared beside the project)")
    return EBU


SERVICE_ENV = ("FAL_KEY", "FAL_KEY_ID", "FAL_KEY_SECRET", "WAVESPEED_API_KEY", "INPAINT_BRIDGE_FAL_URL",
               "INPAINT_BRIDGE_FAL_REST_URL", "INPAINT_BRIDGE_WAVESPEED_URL")


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own config and data folders and no keys or endpoints from the caller's shell."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("INPAINT_BRIDGE_HOME", str(home))
    for name in SERVICE_ENV:
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture(autouse=True)
def backoff(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Retry waits are recorded, not slept: no test sleeps through real backoff."""
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)
        await asyncio.sleep(0)

    monkeypatch.setattr(http.CLOCK, "sleep", record)
    return waits
