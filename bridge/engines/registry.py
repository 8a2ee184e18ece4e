"""Engines by name, built from the settings."""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor

import httpx

from bridge.config import Settings
from bridge.engines.base import Engine
from bridge.engines.fal import FalEngine
from bridge.engines.local import LocalEngine
from bridge.engines.wavespeed import WaveSpeedEngine
from bridge.errors import BadValue
from bridge.model import ENGINE_NAMES

__all__ = ["engine_names", "fill_pool", "make_engine"]

log = logging.getLogger("bridge.engines")

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


assert tuple(sorted(_FACTORIES)) == ENGINE_NAMES, "model.ENGINE_NAMES must list every engine"


def engine_names() -> list[str]:
    return list(ENGINE_NAMES)


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


FILL_NICENESS = 10
"""How much lower the fill processes' CPU priority is: a DAW, its audio thread and the daemon's
replies come first on a machine whose cores the fills keep busy."""


def fill_pool(workers: int) -> ProcessPoolExecutor | None:
    """Processes for the local engine's fills, started now (spawned: the daemon has threads)."""
    try:
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_fill_worker, initargs=(os.getpid(),))
        for _ in range(workers):
            pool.submit(_warm_up)
    except (OSError, RuntimeError) as exc:
        log.warning("no process pool for local fills (%s); they run in threads", exc)
        return None
    return pool


def _fill_worker(parent: int) -> None:
    """In a fill worker: yield the CPU to everything else, and exit when the daemon is gone (even after
    kill -9), never linger."""
    import contextlib
    import threading
    import time

    with contextlib.suppress(OSError, AttributeError):  # no nice() on Windows
        os.nice(FILL_NICENESS)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="follow-daemon", daemon=True).start()


def _warm_up() -> None:
    """Import the fill's modules in a worker before the first job needs them."""
    import bridge.audio.fill  # noqa: F401
