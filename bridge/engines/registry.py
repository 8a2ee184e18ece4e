"""Engines by name."""

from __future__ import annotations

from collections.abc import Callable

from bridge.config import Settings
from bridge.engines.base import Engine
from bridge.engines.local import LocalEngine
from bridge.errors import BadValue

__all__ = ["engine_names", "make_engine"]

_FACTORIES: dict[str, Callable[[Settings], Engine]] = {
    "local": lambda settings: LocalEngine(),
}


def engine_names() -> list[str]:
    return sorted(_FACTORIES)


def make_engine(name: str, settings: Settings) -> Engine:
    """The engine called ``name``, configured from ``settings``."""
    factory = _FACTORIES.get(name)
    if factory is None:
        raise BadValue("engine", name, f"unknown engine; known: {', '.join(engine_names())}")
    return factory(settings)
