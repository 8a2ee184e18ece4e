"""Engines by name, built from the settings."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor

import httpx

from bridge.config import Settings
from bridge.engines.base import Engine
from bridge.engines.fal import FalEngine
from bridge.engines.local import LocalEngine
from bridge.engines.wavespeed import WaveSpeedEngine
from bridge.errors import BadValue

__all__ = ["engine_names", "make_engine"]

Factory = Callable[[Settings, "httpx.AsyncClient | None", "Executor | None"], Engine]

_FACTORIES: dict[str, Factory] = {
    "local": lambda settings, client, executor: LocalEngine(executor),
    "fal": lambda settings, client, executor: FalEngine(
        key=settings.fal.key, queue_url=settings.fal.url, rest_url=settings.fal.rest_url or settings.fal.url,
        concurrency=settings.fal.concurrency, client=client,
    ),
    "wavespeed": lambda settings, client, executor: WaveSpeedEngine(
        key=settings.wavespeed.key, base_url=settings.wavespeed.url, concurrency=settings.wavespeed.concurrency,
        client=client,
    ),
}


def engine_names() -> list[str]:
    return sorted(_FACTORIES)


def make_engine(
    name: str, settings: Settings, client: httpx.AsyncClient | None = None, executor: Executor | None = None
) -> Engine:
    """The engine called ``name``, configured from ``settings``.

    Hosted engines may share ``client``; ``local`` runs its fills in ``executor`` when given.
    """
    factory = _FACTORIES.get(name)
    if factory is None:
        raise BadValue("engine", name, f"unknown engine; known: {', '.join(engine_names())}")
    return factory(settings, client, executor)
