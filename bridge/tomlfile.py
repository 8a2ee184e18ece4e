"""Reading the project's TOML files (config, presets, controller maps) with one set of checks."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from bridge.errors import BridgeError

__all__ = ["read_toml"]


def read_toml(path: Path, *, max_bytes: int, error: type[BridgeError]) -> dict[str, Any]:
    """The document in ``path``; an unreadable, oversized or invalid file raises ``error`` naming it."""
    try:
        if path.stat().st_size > max_bytes:
            raise error(f"{path}: larger than {max_bytes} bytes")
        with path.open("rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: not valid TOML ({exc})") from exc
    except OSError as exc:
        raise error(f"{path}: cannot be read ({exc.strerror})") from exc
