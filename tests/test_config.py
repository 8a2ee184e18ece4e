"""Settings from the config file and the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.config import load_settings
from bridge.errors import ConfigError


def write_config(home: Path, text: str) -> None:
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "config.toml").write_text(text)


def test_defaults_without_a_file(isolated_home: Path) -> None:
    s = load_settings()
    assert s.config_dir == isolated_home / "config" and s.data_dir == isolated_home / "data"
    assert s.engine == "local" and s.fal.url == "https://queue.fal.run" and s.fal.rest_url == "https://rest.fal.ai"
    assert s.wavespeed.url == "https://api.wavespeed.ai" and s.fal.key is None and s.fal.concurrency == 2


def test_file_then_environment(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(isolated_home, """
[defaults]
engine = "fal"
deadline_s = 120
[fal]
key = "file-id:file-secret"
url = "http://127.0.0.1:9150"
concurrency = 4
[wavespeed]
key = "ws-file"
""")
    s = load_settings()
    assert s.engine == "fal" and s.deadline_s == 120.0 and s.fal.key == "file-id:file-secret"
    assert s.fal.url == "http://127.0.0.1:9150" and s.fal.concurrency == 4 and s.wavespeed.key == "ws-file"
    monkeypatch.setenv("FAL_KEY", "env-id:env-secret")
    monkeypatch.setenv("INPAINT_BRIDGE_FAL_REST_URL", "http://127.0.0.1:9151")
    monkeypatch.setenv("INPAINT_BRIDGE_WAVESPEED_URL", "http://127.0.0.1:9152/")
    s = load_settings()
    assert s.fal.key == "env-id:env-secret" and s.fal.rest_url == "http://127.0.0.1:9151"
    assert s.wavespeed.url == "http://127.0.0.1:9152/"
    assert "secret" not in repr(s) and "ws-file" not in repr(s)


def test_fal_key_id_and_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAL_KEY_ID", "abc")
    monkeypatch.setenv("FAL_KEY_SECRET", "def")
    assert load_settings().fal.key == "abc:def"


@pytest.mark.parametrize("text,words", [
    ("[fal]\nurl = \"ftp://x\"\n", "must be an http(s) URL"),
    ("[fal]\ncolour = 1\n", "fal.colour = 1: unknown key"),
    ("[fal]\nconcurrency = 0\n", "fal.concurrency = 0"),
    ("[fal]\nkey = 5\n", "fal.key = (hidden)"),
    ("[mystery]\n", "unknown section"),
    ("[defaults]\ndeadline_s = -1\n", "defaults.deadline_s = -1"),
    ("fal = 3\n", "must be a [section]"),
    ("[midi]\napi = \"dx\"\n", "midi.api = 'dx'"),
    ("[midi]\nport = 1\n", "midi.port = 1: unknown key"),
    ("[live]\nport = 0\n", "live.port = 0: must be a whole number in range 1..65535"),
    ("[live]\nhost = \"x\"\n", "live.host = 'x': unknown key"),
])
def test_bad_config_names_the_key(isolated_home: Path, text: str, words: str) -> None:
    write_config(isolated_home, text)
    with pytest.raises(ConfigError, match=words.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        load_settings()


def test_bad_environment_url_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INPAINT_BRIDGE_FAL_URL", "queue.fal.run")
    with pytest.raises(ConfigError, match="INPAINT_BRIDGE_FAL_URL = 'queue.fal.run'"):
        load_settings()


def test_midi_section(isolated_home: Path) -> None:
    write_config(isolated_home, '[midi]\nenabled = true\ninput = "MPK mini 3"\napi = "jack"\nmap = "akai-mpk-mini"\n')
    assert load_settings().midi == {"enabled": True, "input": "MPK mini 3", "api": "jack", "map": "akai-mpk-mini"}


def test_live_port_from_file_then_environment(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().live_port == 9131
    write_config(isolated_home, "[live]\nport = 9200\n")
    assert load_settings().live_port == 9200
    monkeypatch.setenv("INPAINT_BRIDGE_LIVE_PORT", "9300")
    assert load_settings().live_port == 9300
    monkeypatch.setenv("INPAINT_BRIDGE_LIVE_PORT", "many")
    with pytest.raises(ConfigError, match="INPAINT_BRIDGE_LIVE_PORT = 'many'"):
        load_settings()
