"""Settings: defaults, overridden by ``config.toml`` in the config folder, then the environment.

``INPAINT_BRIDGE_HOME`` moves both the config folder (``$HOME/config``) and the data folder
(``$HOME/data``), for tests and portable installs; otherwise platformdirs decides.

``config.toml``::

    [defaults]
    engine = "local"      # engine used when a request names none
    fade_ms = 20.0        # crossfade / bridge length inside the range
    handles_s = 0.5       # audio kept on each side of the range in a patch take
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from platformdirs import PlatformDirs

from bridge.errors import ConfigError

__all__ = ["Settings", "load_settings"]

APP = "inpaint-bridge"
MAX_CONFIG_BYTES = 1 << 20


@dataclass(frozen=True)
class Settings:
    config_dir: Path
    data_dir: Path
    engine: str = "local"
    fade_ms: float = 20.0
    handles_s: float = 0.5

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"


_DEFAULT_KEYS: dict[str, tuple[type, float, float]] = {
    "fade_ms": (float, 0.0, 2000.0),
    "handles_s": (float, 0.0, 10.0),
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
    values: dict[str, object] = {}
    path = config_dir / "config.toml"
    if path.is_file():
        values = _read_defaults(path)
    return Settings(config_dir=config_dir, data_dir=data_dir, **values)  # type: ignore[arg-type]


def _read_defaults(path: Path) -> dict[str, object]:
    if path.stat().st_size > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_CONFIG_BYTES} bytes")
    try:
        with path.open("rb") as f:
            doc = tomllib.load(f)
    except (tomllib.TOMLDecodeError, OSError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    unknown = set(doc) - {"defaults"}
    if unknown:
        raise ConfigError(f"{path}: unknown section(s) {', '.join(sorted(unknown))}")
    section = doc.get("defaults", {})
    out: dict[str, object] = {}
    for key, value in section.items():
        if key == "engine":
            if not isinstance(value, str) or not value:
                raise ConfigError(f"{path}: defaults.engine = {value!r}: must be an engine name")
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
