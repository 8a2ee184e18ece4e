"""Engines by name, built from the settings."""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from multiprocessing.context import BaseContext

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
    """Processes for the local engine's fills, started now.

    They are forked from a fork server that has the fill's modules loaded (where the system has
    one: a daemon with threads must not fork itself), so a worker costs milliseconds, not the
    second or two of an interpreter importing numpy and scipy; elsewhere they are spawned.
    """
    try:
        context: BaseContext = multiprocessing.get_context("spawn")
        if "forkserver" in multiprocessing.get_all_start_methods():
            context = multiprocessing.get_context("forkserver")
            multiprocessing.set_forkserver_preload(["bridge.engines.local", "bridge.audio.fill"])
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_fill_worker)
        for _ in range(workers):
            pool.submit(_warm_up)
    except (OSError, RuntimeError) as exc:
        log.warning("no process pool for local fills (%s); they run in threads", exc)
        return None
    return pool


def _fill_worker() -> None:
    """In a fill worker: yield the CPU to everything else, and exit when the daemon is gone (even after
    kill -9), never linger. (The fork server then ends too: it lasts as long as the daemon's workers.)"""
    import contextlib
    import threading

    with contextlib.suppress(OSError, AttributeError):  # no nice() on Windows
        os.nice(FILL_NICENESS)
    daemon = multiprocessing.parent_process()  # the process that asked for this worker: the daemon

    def watch() -> None:
        if daemon is not None:
            daemon.join()  # its sentinel reads end-of-file once the daemon is gone, however it ended
        os._exit(0)

    threading.Thread(target=watch, name="follow-daemon", daemon=True).start()


def _warm_up() -> None:
    """Import the fill's modules in a worker before the first job needs them."""
    import bridge.audio.fill  # noqa: F401
