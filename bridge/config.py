"""Settings: defaults, overridden by ``config.toml`` in the config folder, then the environment.

``INPAINT_BRIDGE_HOME`` moves both the config folder (``$HOME/config``) and the data folder
(``$HOME/data``), for tests and portable installs; otherwise platformdirs decides.

``config.toml``::

    [defaults]
    engine = "local"      # engine used when a request names none
    fade_ms = 20.0        # crossfade / bridge length inside the range
    handles_s = 0.5       # audio kept on each side of the range in a patch take
    deadline_s = 600.0    # a hosted job is cancelled when it takes longer than this
    history = 1000        # finished jobs the journal keeps (unfinished ones always stay)
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

    [budget]              # hosted requests past a ceiling are refused before anything is sent
    per_request = 0.50    # USD, all variations of one request together
    per_day = 5.00        # USD, every request of the day (CLI and daemon)
    confirm_above = 0.10  # USD: the CLI asks first (--yes skips the question)

    [prices]              # USD per request, by model id, over the published table
    "fal-ai/stable-audio" = 0.01

Keys are never printed: not in ``repr``, logs, manifests or error messages.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from platformdirs import PlatformDirs

from bridge import checks
from bridge.errors import BadValue, BridgeError, ConfigError
from bridge.model import DEFAULT_ENGINE, DEFAULT_FADE_MS, ENGINE_NAMES, MAX_FADE_MS

__all__ = ["Budget", "LinkSettings", "ServiceSettings", "Settings", "load_settings", "read_toml", "redact"]

APP = "inpaint-bridge"
MAX_CONFIG_BYTES = 1 << 20


@dataclass(frozen=True)
class ServiceSettings:
    """Where a hosted service is and how to sign in; ``key`` never shows in ``repr``."""

    url: str
    rest_url: str | None = None
    key: str | None = field(default=None, repr=False)
    concurrency: int = 2


@dataclass(frozen=True)
class LinkSettings:
    """The ``[link]`` section: join an Ableton Link session for tempo and phase."""

    enabled: bool = False
    quantum: float = 4.0
    """Beats per bar, for bar boundaries and phase (MIDI clock's bars too)."""


@dataclass(frozen=True)
class Budget:
    """Ceilings on what hosted requests may cost, in USD (``None``: no ceiling)."""

    per_request: float | None = None
    per_day: float | None = None
    confirm_above: float | None = None


FAL_DEFAULT = ServiceSettings(url="https://queue.fal.run", rest_url="https://rest.fal.ai")
WAVESPEED_DEFAULT = ServiceSettings(url="https://api.wavespeed.ai")


@dataclass(frozen=True)
class Settings:
    config_dir: Path
    data_dir: Path
    engine: str = DEFAULT_ENGINE
    fade_ms: float = DEFAULT_FADE_MS
    handles_s: float = 0.5
    deadline_s: float = 600.0
    history: int = 1000
    """Finished jobs the journal keeps (``jobs``, ``/bridge/jobs``, regenerate by id)."""
    fallback_local: bool = False
    fal: ServiceSettings = FAL_DEFAULT
    wavespeed: ServiceSettings = WAVESPEED_DEFAULT
    midi: dict[str, str | bool] = field(default_factory=dict)
    """The ``[midi]`` section: enabled, input, output, api, map."""
    live_port: int = 9131
    """UDP port of the Live remote script on 127.0.0.1 (``/bridge/live`` asks it to capture)."""
    budget: Budget = field(default_factory=Budget)
    link: LinkSettings = field(default_factory=LinkSettings)
    prices: dict[str, float] = field(default_factory=dict)
    """USD per request by model id, over the published price table."""

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every key, and each part of a ``key_id:key_secret`` pair, for :func:`redact`."""
        out: list[str] = []
        for key in (self.fal.key, self.wavespeed.key):
            if key:
                out += [key, *(part for part in key.split(":") if len(part) >= 8)]
        return tuple(out)


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret (of 4 characters or more) replaced by ``***``: for each message
    that leaves the process or is stored (replies, journal, spool results, logs)."""
    for secret in sorted((s for s in secrets if len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


_DEFAULT_RANGES: dict[str, tuple[float, float]] = {
    "fade_ms": (0.0, MAX_FADE_MS),
    "handles_s": (0.0, 10.0),
    "deadline_s": (1.0, 86400.0),
}
MIDI_APIS = ("alsa", "jack", "coremidi", "winmm")


class _Hidden:
    """Stands for a key in a message: its value is never shown."""

    def __repr__(self) -> str:
        return "(hidden)"


_HIDDEN = _Hidden()
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
    with checks.where(f"{path}: ", ConfigError):
        values: dict[str, object] = _read_defaults(doc.get("defaults", {}))
        for name, default in (("fal", FAL_DEFAULT), ("wavespeed", WAVESPEED_DEFAULT)):
            values[name] = _read_service(name, doc.get(name, {}), default, environ)
        values["midi"] = _read_midi(doc.get("midi", {}))
        values["live_port"] = _read_live(doc.get("live", {}), environ)
        values["budget"] = _read_budget(doc.get("budget", {}))
        values["link"] = _read_link(doc.get("link", {}))
        values["prices"] = {str(k): checks.number(f"prices.{k}", v, 0, 1000) for k, v in doc.get("prices", {}).items()}
    return Settings(config_dir=config_dir, data_dir=data_dir, **values)  # type: ignore[arg-type]


def _read_file(path: Path) -> dict[str, dict[str, object]]:
    doc = read_toml(path, max_bytes=MAX_CONFIG_BYTES, error=ConfigError)
    unknown = set(doc) - {"defaults", "midi", "live", "budget", "link", "prices", *_SERVICE_KEYS}
    if unknown:
        raise ConfigError(f"{path}: unknown section(s) {', '.join(sorted(unknown))}")
    for name, section in doc.items():
        if not isinstance(section, dict):
            raise ConfigError(f"{path}: {name} must be a [section]")
    return doc


def _unknown_keys(section_name: str, section: Mapping[str, object], known: set[str]) -> None:
    unknown = set(section) - known
    if unknown:
        raise BadValue(f"{section_name}.{sorted(unknown)[0]}", section[sorted(unknown)[0]], "unknown key")


def _read_service(name: str, section: dict[str, object], default: ServiceSettings,
                  environ: Mapping[str, str]) -> ServiceSettings:
    _unknown_keys(name, section, _SERVICE_KEYS[name])
    values: dict[str, str] = {}
    for key in ("key", "url", "rest_url"):
        value = section.get(key)
        if value is not None:
            try:
                checks.text(f"{name}.{key}", value)
            except BadValue as exc:
                if key == "key":  # never show a key, not even a malformed one
                    raise BadValue(f"{name}.key", _HIDDEN, "must be a non-empty string") from None
                raise exc
        env_name = _ENV[name].get(key)
        from_env = environ.get(env_name) if env_name else None
        if key == "key" and name == "fal" and not from_env and environ.get("FAL_KEY_ID"):
            from_env = f"{environ['FAL_KEY_ID']}:{environ.get('FAL_KEY_SECRET', '')}"
        chosen = from_env or value
        if chosen is not None:
            if key != "key" and not str(chosen).startswith(("http://", "https://")):
                if from_env:  # the environment's value: no file to name
                    raise ConfigError(str(BadValue(str(env_name), chosen, "must be an http(s) URL")))
                raise BadValue(f"{name}.{key}", chosen, "must be an http(s) URL")
            values[key] = str(chosen)
    return ServiceSettings(
        url=values.get("url", default.url),
        rest_url=values.get("rest_url", default.rest_url),
        key=values.get("key"),
        concurrency=checks.integer(f"{name}.concurrency", section.get("concurrency", default.concurrency), 1, 64),
    )


def _read_midi(section: dict[str, object]) -> dict[str, str | bool]:
    _unknown_keys("midi", section, {"enabled", "input", "output", "map", "api"})
    out: dict[str, str | bool] = {}
    for key, value in section.items():
        if key == "enabled":
            out[key] = checks.boolean("midi.enabled", value)
        elif key == "api":
            out[key] = checks.choice("midi.api", value, MIDI_APIS)
        else:
            out[key] = checks.text(f"midi.{key}", value)
    return out


def _read_live(section: dict[str, object], environ: Mapping[str, str]) -> int:
    _unknown_keys("live", section, {"port"})
    from_env = environ.get("INPAINT_BRIDGE_LIVE_PORT")
    if from_env:
        with checks.where("", ConfigError):
            return checks.integer("INPAINT_BRIDGE_LIVE_PORT", from_env, 1, 65535, text_ok=True)
    return checks.integer("live.port", section.get("port", 9131), 1, 65535)


def _read_link(section: dict[str, object]) -> LinkSettings:
    _unknown_keys("link", section, {"enabled", "quantum"})
    return LinkSettings(enabled=checks.boolean("link.enabled", section.get("enabled", False)),
                        quantum=checks.number("link.quantum", section.get("quantum", 4.0), 1, 16))


def _read_budget(section: dict[str, object]) -> Budget:
    _unknown_keys("budget", section, {"per_request", "per_day", "confirm_above"})
    values = {key: checks.number(f"budget.{key}", value, 0, 100_000) for key, value in section.items()}
    return Budget(**values)


def _read_defaults(section: dict[str, object]) -> dict[str, object]:
    _unknown_keys("defaults", section, {"engine", "fallback_local", "history", *_DEFAULT_RANGES})
    out: dict[str, object] = {}
    for key, value in section.items():
        if key == "engine":
            out[key] = checks.choice("defaults.engine", value, ENGINE_NAMES)
        elif key == "history":
            out[key] = checks.integer("defaults.history", value, 10, 1_000_000)
        elif key == "fallback_local":
            out[key] = checks.boolean("defaults.fallback_local", value)
        else:
            out[key] = checks.number(f"defaults.{key}", value, *_DEFAULT_RANGES[key])
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
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise error(f"{path}: cannot be read ({exc.strerror})") from exc
