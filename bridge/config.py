"""Settings: defaults, overridden by ``config.toml`` in the config folder, then the environment.

``INPAINT_BRIDGE_HOME`` moves both the config folder (``$HOME/config``) and the data folder
(``$HOME/data``), for tests and portable installs; otherwise platformdirs decides.

``config.toml``::

    [defaults]
    engine = "local"      # engine used when a request names none
    fade_ms = 20.0        # crossfade / bridge length inside the range
    handles_s = 0.5       # audio kept on each side of the range in a patch take
    deadline_s = 600.0    # a hosted job is cancelled when it takes longer than this
    fallback_local = false  # the daemon fills with local when a hosted service is unreachable

    [fal]                 # FAL_KEY, INPAINT_BRIDGE_FAL_URL, INPAINT_BRIDGE_FAL_REST_URL win
    key = "key_id:key_secret"
    url = "https://queue.fal.run"
    rest_url = "https://rest.fal.ai"
    concurrency = 2       # jobs in flight at once

    [wavespeed]           # WAVESPEED_API_KEY, INPAINT_BRIDGE_WAVESPEED_URL win
    key = "..."
    url = "https://api.wavespeed.ai"
    concurrency = 2

    [midi]                # serve's --midi, --midi-in, --midi-out, --midi-api, --midi-map win
    enabled = true        # open MIDI without --midi
    input = "MPK mini 3"  # a port to open instead of the virtual "Inpaint Bridge"
    output = "MPK mini 3" # where LED feedback goes
    api = "alsa"          # alsa | jack | coremidi | winmm
    map = "akai-mpk-mini" # a controller map name or .toml path

    [live]                # INPAINT_BRIDGE_LIVE_PORT wins
    port = 9131           # where the Live remote script listens (on 127.0.0.1)

Keys are never printed: not in ``repr``, logs, manifests or error messages.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from platformdirs import PlatformDirs

from bridge.errors import BridgeError, ConfigError

__all__ = ["ServiceSettings", "Settings", "load_settings", "read_toml"]

APP = "inpaint-bridge"
MAX_CONFIG_BYTES = 1 << 20


@dataclass(frozen=True)
class ServiceSettings:
    """Where a hosted service is and how to sign in; ``key`` never shows in ``repr``."""

    url: str
    rest_url: str | None = None
    key: str | None = field(default=None, repr=False)
    concurrency: int = 2


FAL_DEFAULT = ServiceSettings(url="https://queue.fal.run", rest_url="https://rest.fal.ai")
WAVESPEED_DEFAULT = ServiceSettings(url="https://api.wavespeed.ai")


@dataclass(frozen=True)
class Settings:
    config_dir: Path
    data_dir: Path
    engine: str = "local"
    fade_ms: float = 20.0
    handles_s: float = 0.5
    deadline_s: float = 600.0
    fallback_local: bool = False
    fal: ServiceSettings = FAL_DEFAULT
    wavespeed: ServiceSettings = WAVESPEED_DEFAULT
    midi: dict[str, str | bool] = field(default_factory=dict)
    """The ``[midi]`` section: enabled, input, output, api, map."""
    live_port: int = 9131
    """UDP port of the Live remote script on 127.0.0.1 (``/bridge/live`` asks it to capture)."""

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"


_DEFAULT_KEYS: dict[str, tuple[type, float, float]] = {
    "fade_ms": (float, 0.0, 2000.0),
    "handles_s": (float, 0.0, 10.0),
    "deadline_s": (float, 1.0, 86400.0),
}
_SERVICE_KEYS = {"fal": {"key", "url", "rest_url", "concurrency"}, "wavespeed": {"key", "url", "concurrency"}}
_ENV = {
    "fal": {"key": "FAL_KEY", "url": "INPAINT_BRIDGE_FAL_URL", "rest_url": "INPAINT_BRIDGE_FAL_REST_URL"},
    "wavespeed": {"key": "WAVESPEED_API_KEY", "url": "INPAINT_BRIDGE_WAVESPEED_URL"},
}


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Settings from the environment and the config file. Raises :class:`ConfigError`."""
    environ = os.environ if env is None else env
    home = environ.get("INPAINT_BRIDGE_HOME")
    if home:
        config_dir, data_dir = Path(home) / "config", Path(home) / "data"
    else:
        dirs = PlatformDirs(APP, appauthor=False)
        config_dir, data_dir = Path(dirs.user_config_dir), Path(dirs.user_data_dir)
    path = config_dir / "config.toml"
    doc = _read_file(path) if path.is_file() else {}
    values: dict[str, object] = _read_defaults(path, doc.get("defaults", {}))
    for name, default in (("fal", FAL_DEFAULT), ("wavespeed", WAVESPEED_DEFAULT)):
        values[name] = _read_service(path, name, doc.get(name, {}), default, environ)
    values["midi"] = _read_midi(path, doc.get("midi", {}))
    values["live_port"] = _read_live_port(path, doc.get("live", {}), environ)
    return Settings(config_dir=config_dir, data_dir=data_dir, **values)  # type: ignore[arg-type]


def _read_file(path: Path) -> dict[str, dict[str, object]]:
    doc = read_toml(path, max_bytes=MAX_CONFIG_BYTES, error=ConfigError)
    unknown = set(doc) - {"defaults", "midi", "live", *_SERVICE_KEYS}
    if unknown:
        raise ConfigError(f"{path}: unknown section(s) {', '.join(sorted(unknown))}")
    for name, section in doc.items():
        if not isinstance(section, dict):
            raise ConfigError(f"{path}: {name} must be a [section]")
    return doc


def _read_service(
    path: Path, name: str, section: dict[str, object], default: ServiceSettings, environ: Mapping[str, str]
) -> ServiceSettings:
    unknown = set(section) - _SERVICE_KEYS[name]
    if unknown:
        raise ConfigError(f"{path}: {name}.{sorted(unknown)[0]}: unknown key")
    values: dict[str, object] = {}
    for key in ("key", "url", "rest_url"):
        value = section.get(key)
        if value is not None and (not isinstance(value, str) or not value):
            shown = "(hidden)" if key == "key" else repr(value)
            raise ConfigError(f"{path}: {name}.{key} = {shown}: must be a non-empty string")
        env_name = _ENV[name].get(key)
        from_env = environ.get(env_name) if env_name else None
        if key == "key" and name == "fal" and not from_env and environ.get("FAL_KEY_ID"):
            from_env = f"{environ['FAL_KEY_ID']}:{environ.get('FAL_KEY_SECRET', '')}"
        chosen = from_env or value
        if chosen is not None:
            if key != "key" and not str(chosen).startswith(("http://", "https://")):
                raise ConfigError(f"{env_name if from_env else f'{name}.{key}'} = {chosen!r}: must be an http(s) URL")
            values[key] = str(chosen)
    concurrency = section.get("concurrency", default.concurrency)
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or not 1 <= concurrency <= 64:
        raise ConfigError(f"{path}: {name}.concurrency = {concurrency!r}: must be a whole number in range 1..64")
    return ServiceSettings(
        url=str(values.get("url", default.url)),
        rest_url=str(values["rest_url"]) if "rest_url" in values else default.rest_url,
        key=str(values["key"]) if "key" in values else None,
        concurrency=concurrency,
    )


def _read_midi(path: Path, section: dict[str, object]) -> dict[str, str | bool]:
    out: dict[str, str | bool] = {}
    for key, value in section.items():
        if key == "enabled":
            if not isinstance(value, bool):
                raise ConfigError(f"{path}: midi.enabled = {value!r}: must be true or false")
        elif key in ("input", "output", "map"):
            if not isinstance(value, str) or not value:
                raise ConfigError(f"{path}: midi.{key} = {value!r}: must be a non-empty string")
        elif key == "api":
            if value not in ("alsa", "jack", "coremidi", "winmm"):
                raise ConfigError(f"{path}: midi.api = {value!r}: must be alsa, jack, coremidi or winmm")
        else:
            raise ConfigError(f"{path}: midi.{key}: unknown key")
        out[key] = value
    return out


def _read_live_port(path: Path, section: dict[str, object], environ: Mapping[str, str]) -> int:
    unknown = set(section) - {"port"}
    if unknown:
        raise ConfigError(f"{path}: live.{sorted(unknown)[0]}: unknown key")
    from_env = environ.get("INPAINT_BRIDGE_LIVE_PORT")
    where, value = ("INPAINT_BRIDGE_LIVE_PORT", from_env) if from_env else (f"{path}: live.port",
                                                                          section.get("port", 9131))
    try:
        port = int(value) if isinstance(value, int | str) and not isinstance(value, bool) else -1
    except ValueError:
        port = -1
    if not 1 <= port <= 65535:
        raise ConfigError(f"{where} = {value!r}: must be a port number in range 1..65535")
    return port


def _read_defaults(path: Path, section: dict[str, object]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in section.items():
        if key == "engine":
            if not isinstance(value, str) or not value:
                raise ConfigError(f"{path}: defaults.engine = {value!r}: must be an engine name")
            out[key] = value
            continue
        if key == "fallback_local":
            if not isinstance(value, bool):
                raise ConfigError(f"{path}: defaults.fallback_local = {value!r}: must be true or false")
            out[key] = value
            continue
        spec = _DEFAULT_KEYS.get(key)
        if spec is None:
            raise ConfigError(f"{path}: defaults.{key}: unknown key")
        _, low, high = spec
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            raise ConfigError(f"{path}: defaults.{key} = {value!r}: must be a number in range {low:g}..{high:g}")
        out[key] = float(value)
    return out


def read_toml(path: Path, *, max_bytes: int, error: type[BridgeError]) -> dict[str, Any]:
    """The document in ``path`` (config, presets, controller maps); an unreadable, oversized or invalid
    file raises ``error`` naming it."""
    try:
        if path.stat().st_size > max_bytes:
            raise error(f"{path}: larger than {max_bytes} bytes")
        with path.open("rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: not valid TOML ({exc})") from exc
    except OSError as exc:
        raise error(f"{path}: cannot be read ({exc.strerror})") from exc
