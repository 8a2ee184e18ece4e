"""Presets: named starting points for a request (engine, model, prompt, parameters).

Shipped presets live in the project's ``presets/*.toml``; a user's own in the config
folder's ``presets/*.toml`` override them by name. Each file holds one or more presets::

    [room-tone]
    description = "Fill a gap with the room's own tone"
    engine = "local"
    fade_ms = 30

Keys: ``description``, ``operation`` (inpaint, transform, generate), ``engine``, ``model``,
``prompt``, ``negative_prompt``, ``steps``, ``guidance``, ``strength``, ``fade_ms``,
``context``, ``variations``, and ``params`` (a table of further model parameters).
Every file is checked when loaded; an error names the file, the preset, the key and the value.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from bridge import checks
from bridge.config import read_toml
from bridge.errors import BadValue, PresetError
from bridge.jobs.options import check_option
from bridge.model import Operation, Value

__all__ = ["Preset", "find_preset", "load_presets", "shipped_folder"]

MAX_FILE_BYTES = 256 * 1024
_OWN_KEYS = {"description", "operation", "prompt"}
_OPTION_KEYS = {"engine", "model", "negative_prompt", "fade_ms", "context", "variations"}
_PARAM_KEYS = {"steps", "guidance", "strength"}
_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-_")


@dataclass(frozen=True)
class Preset:
    name: str
    source: Path
    description: str = ""
    operation: Operation | None = None
    prompt: str = ""
    options: dict[str, Value] = field(default_factory=dict)
    """Bridge options (engine, model, negative_prompt, fade_ms, context, variations)."""
    params: dict[str, Value] = field(default_factory=dict)
    """Model parameters (steps, guidance, strength, ...)."""


def shipped_folder() -> Path:
    """The project's ``presets/`` (a source checkout) or the installed copy under ``share``."""
    here = Path(__file__).resolve().parents[2] / "presets"
    return here if here.is_dir() else Path(sys.prefix) / "share" / "inpaint-bridge" / "presets"


def load_presets(config_dir: Path, shipped: Path | None = None) -> dict[str, Preset]:
    """Every preset by name: shipped ones, then the user's (``config_dir/presets``) over them."""
    presets: dict[str, Preset] = {}
    for folder in (shipped or shipped_folder(), config_dir / "presets"):
        if folder.is_dir():
            for path in sorted(folder.glob("*.toml")):
                for preset in _read_file(path):
                    presets[preset.name] = preset
    return presets


def find_preset(presets: dict[str, Preset], name: str) -> Preset:
    preset = presets.get(name)
    if preset is None:
        known = ", ".join(sorted(presets)) or "none"
        raise PresetError(f"preset = {name!r}: unknown; known: {known}")
    return preset


def _read_file(path: Path) -> list[Preset]:
    doc = read_toml(path, max_bytes=MAX_FILE_BYTES, error=PresetError)
    out = []
    for name, table in doc.items():
        if not isinstance(table, dict):
            raise PresetError(f"{path}: {name} = {table!r}: each preset is a [table]")
        if not name or set(name) - _NAME_CHARS:
            raise PresetError(f"{path}: [{name}]: a preset name uses a-z, 0-9, '-' and '_'")
        out.append(_read_preset(path, name, table))
    return out


def _read_preset(path: Path, name: str, table: dict[str, object]) -> Preset:
    where = f"{path}: [{name}]"
    options: dict[str, Value] = {}
    params: dict[str, Value] = {}
    description, prompt, operation = "", "", None
    for key, value in table.items():
        try:
            if key in ("description", "prompt"):
                text = checks.text(key, value, empty_ok=True)
                description, prompt = (text, prompt) if key == "description" else (description, text)
            elif key == "operation":
                operation = Operation(checks.choice(key, value, [op.value for op in Operation]))
            elif key in _OPTION_KEYS:
                options[key] = check_option(key, value)
            elif key in _PARAM_KEYS:
                params[key] = checks.integer(key, value) if isinstance(value, int) else checks.number(key, value)
            elif key == "params":
                if not isinstance(value, dict):
                    raise BadValue(key, value, "must be a table of model parameters")
                params.update({k: check_option(k, v) for k, v in value.items()})
            else:
                known = ", ".join(sorted(_OWN_KEYS | _OPTION_KEYS | _PARAM_KEYS | {"params"}))
                raise BadValue(key, value, f"unknown key; presets take {known}")
        except BadValue as exc:
            raise PresetError(f"{where} {exc}") from exc
    return Preset(name, path, description, operation, prompt, options, params)
