"""The spool folder: requests as files, results as files, through the same router as OSC."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import soundfile as sf

from bridge.audio.signals import loop

from ..daemon_helpers import running_daemon


def submit(spool: Path, name: str, doc: object | str) -> None:
    tmp = spool / f".{name}.tmp"
    tmp.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    os.replace(tmp, spool / "requests" / f"{name}.json")


def result(spool: Path, name: str, timeout: float = 30.0) -> dict[str, Any]:
    path = spool / "results" / f"{name}.json"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            doc = json.loads(path.read_text())
            if doc["finished"]:
                return dict(doc)
        time.sleep(0.05)
    raise AssertionError(f"no finished result {path}")


def test_a_spool_request_makes_a_take(tmp_path: Path) -> None:
    sf.write(tmp_path / "song.wav", loop(48000, 12.0, channels=2), 48000, subtype="PCM_24")
    spool = tmp_path / "spool"
    with running_daemon(media=[tmp_path], spool=spool):
        assert (spool / "requests").is_dir()
        submit(spool, "r-1", {"id": "r-1", "address": "/bridge/inpaint",
                              "args": [str(tmp_path / "song.wav"), 5.0, 5.3, "", "variations", 2]})
        doc = result(spool, "r-1")
        assert doc["error"] is None and len(doc["jobs"]) == 2
        for job in doc["jobs"].values():
            assert job["state"] == "done" and Path(job["take_path"]).is_file()
            assert job["take_start"] == 4.5 and abs(job["take_end"] - 5.8) < 1e-6
        assert not (spool / "requests" / "r-1.json").exists()


def test_bad_spool_requests_get_results_that_say_why(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    with running_daemon(media=[tmp_path], spool=spool):
        submit(spool, "bad-json", "{not json")
        submit(spool, "bad-address", {"address": "/etc/passwd"})
        submit(spool, "outside", {"address": "/bridge/inpaint", "args": ["/etc/hosts", 1, 2, ""]})
        submit(spool, "ping", {"address": "/bridge/ping", "args": ["x"]})
        assert "not valid JSON" in result(spool, "bad-json")["error"]
        assert "must be a /bridge/... address" in result(spool, "bad-address")["error"]
        assert "outside the media roots" in result(spool, "outside")["error"]
        assert result(spool, "ping")["replies"][0][0] == "/bridge/pong"
