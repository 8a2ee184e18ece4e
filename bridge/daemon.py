"""``inpaint-bridge serve``: the long-running process beside the DAW.

Lifecycle: :meth:`Daemon.startup` (journal, engines, presets, roots, OSC socket, resume
unfinished jobs) → serve until SIGINT or SIGTERM → :meth:`Daemon.shutdown` (refuse new
requests, let running jobs finish within the grace period, cancel the rest at their
services and tell their requesters, close the socket, the HTTP client and the journal). A second signal exits at
once. Nothing slow runs on the event loop: audio work is in threads, and handlers only
check arguments and queue jobs.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import multiprocessing
import os
import signal
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bridge.config import Settings
from bridge.control import live, queries, requests, state
from bridge.control.context import Context, job_event
from bridge.control.midi_map import ControllerMap
from bridge.control.osc import OscEndpoint, Outgoing
from bridge.control.roots import Roots
from bridge.control.routes import Route, Router
from bridge.control.spool import Spool
from bridge.engines.base import Engine
from bridge.engines.http import TIMEOUT
from bridge.engines.registry import engine_names, make_engine
from bridge.errors import BadValue
from bridge.jobs.journal import Journal
from bridge.jobs.presets import load_presets
from bridge.jobs.runner import Job, Runner

__all__ = ["ROUTES", "Daemon", "ServeOptions", "address_table"]

log = logging.getLogger("bridge.daemon")

ROUTES: list[Route] = [*requests.ROUTES, *state.ROUTES, *live.ROUTES, *queries.ROUTES]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 9130
    allow: tuple[Network, ...] = ()
    media_roots: tuple[Path, ...] = ()
    output_roots: tuple[Path, ...] = ()
    grace_s: float = 10.0
    local_workers: int = 2
    midi: bool = False
    midi_in: str | None = None
    midi_out: str | None = None
    midi_api: str | None = None
    midi_map: str = "generic"
    spool: Path | None = None
    """The spool folder (default: the data folder's ``spool``)."""

    def __post_init__(self) -> None:
        try:
            loopback = ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            raise BadValue("--listen", self.host, "must be an IP address") from None
        if not loopback and not self.allow:
            raise BadValue("--listen", self.host, "a non-loopback address needs --allow CIDR for the senders to accept")
        if not 0 <= self.port <= 65535:
            raise BadValue("--osc-port", self.port, "must be in range 0..65535")


@dataclass
class Daemon:
    settings: Settings
    options: ServeOptions = field(default_factory=ServeOptions)
    engines: Mapping[str, Engine] | None = None
    should_exit: asyncio.Event = field(default_factory=asyncio.Event)
    context: Context | None = None
    endpoint: OscEndpoint | None = None
    _transport: asyncio.DatagramTransport | None = None
    _client: httpx.AsyncClient | None = None
    _journal: Journal | None = None
    _pool: ProcessPoolExecutor | None = None
    spool: Spool | None = None
    _signals: int = 0

    @property
    def osc_address(self) -> tuple[str, int]:
        assert self._transport is not None
        host, port = self._transport.get_extra_info("sockname")[:2]
        return str(host), int(port)

    async def serve(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._on_signal, sig)
        try:
            await self.startup()
            await self.should_exit.wait()
        finally:
            await self.shutdown()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

    def _on_signal(self, sig: signal.Signals) -> None:
        self._signals += 1
        if self._signals > 1:
            log.warning("second %s: exiting now", sig.name, extra={"event": "forced_exit"})
            logging.shutdown()
            os._exit(130)
        log.info("%s: shutting down (jobs get %g s to finish; a second signal exits at once)", sig.name,
                 self.options.grace_s, extra={"event": "stopping"})
        self.should_exit.set()

    async def startup(self) -> None:
        settings = self.settings
        self._journal = Journal(settings.data_dir / "jobs.sqlite")
        if self.engines is None:
            self._client = httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=True)
            self._pool = _fill_pool(self.options.local_workers)
            self.engines = {name: make_engine(name, settings, self._client, self._pool) for name in engine_names()}
        roots = Roots.create(list(self.options.media_roots) or [Path.home()],
                             list(self.options.output_roots) or [settings.data_dir / "takes"])
        runner = Runner(settings, self._journal, self.engines, notify=self._notify,
                        fallback_local=settings.fallback_local, local_workers=self.options.local_workers)
        presets = load_presets(settings.config_dir)
        self.context = Context(settings=settings, runner=runner, roots=roots, presets=presets,
                               stats=self._stats)
        router = Router(ROUTES)
        context = self.context

        def handle(address: str, params: list[object], sender: tuple[str, int]) -> list[Outgoing]:
            return [(sender, reply, args) for reply, args in router.dispatch(context, address, params, sender)]

        context.announce = self._notify
        context.send = lambda to, address, args: self._send_all([to], address, args)
        if self.options.midi:
            self._start_midi(router)
        self.spool = Spool(self.options.spool or settings.data_dir / "spool",
                           lambda address, args: router.dispatch(context, address, args, None))

        self.endpoint = OscEndpoint(handle, allow=self.options.allow)
        endpoint = self.endpoint
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: endpoint,
                                                           local_addr=(self.options.host, self.options.port))
        self._transport = transport
        host, port = self.osc_address
        ready = ", ".join(f"{n}{'' if e.readiness() is None else ' (not ready)'}" for n, e in self.engines.items())
        log.info("listening for OSC on %s:%d; engines: %s; media roots: %s; takes in %s", host, port, ready,
                 ", ".join(map(str, roots.media)), roots.output[0], extra={"event": "ready"})
        self.spool.start()
        log.info("spool folder %s", self.spool.folder, extra={"event": "spool_ready"})
        resumed = runner.resume()
        if resumed:
            log.info("resumed %d unfinished jobs from the journal", len(resumed), extra={"event": "resumed"})

    def _start_midi(self, router: Router) -> None:
        from bridge.control.midi import MidiControl, MidiUnavailable, open_ports
        from bridge.control.midi_map import Mapper

        context = self.context
        assert context is not None
        controller, save_to = find_controller_map(self.options.midi_map, self.settings.config_dir)
        control = MidiControl(Mapper(controller), lambda address, args: router.dispatch(context, address, args, None),
                              save_to=save_to)
        control.attach(asyncio.get_running_loop())
        try:
            control.ports = open_ports(api=self.options.midi_api, in_name=self.options.midi_in,
                                       out_name=self.options.midi_out, want_output=controller.feedback is not None,
                                       callback=control.on_bytes)
        except MidiUnavailable as exc:
            log.warning("MIDI unavailable, running without it: %s", exc, extra={"event": "midi_unavailable"})
            return
        context.midi = control
        log.info("MIDI via %s: input %r, LED output %r, map %r", control.ports.api, *control.ports.names,
                 controller.name, extra={"event": "midi_ready"})

    def _stats(self) -> dict[str, int]:
        return dict(self.endpoint.stats.__dict__) if self.endpoint else {}

    def _notify(self, job: Job) -> None:
        context = self.context
        if context is None or self.endpoint is None:
            return
        if context.midi is not None:
            context.midi.job_state(job.id, job.state.value)
        if self.spool is not None:
            self.spool.job_changed(job)
        if job.state.value == "queued":
            if job.reply is None:  # MIDI and spool jobs: subscribers hear them begin (OSC senders got a reply)
                self._send_all(context.destinations(job), "/bridge/accepted", [job.id])
            return
        address, args = job_event(job)
        wait = context.midi.clock.until_next_bar() if context.midi is not None and address == "/bridge/done" \
            and context.session.options.get("quantize") else None
        destinations = context.destinations(job)
        if wait:
            asyncio.get_running_loop().call_later(wait, self._send_all, destinations, address, args)
        else:
            self._send_all(destinations, address, args)
        context.forget(job)

    def _send_all(self, destinations: list[tuple[str, int]], address: str, args: list[object]) -> None:
        if self.endpoint is not None:
            for dest in destinations:
                self.endpoint.send(dest, address, args)

    async def shutdown(self) -> None:
        if self.spool is not None:
            await self.spool.stop()
        if self.endpoint is not None:
            self.endpoint.closing = True
        if self.context is not None:
            await self.context.runner.shutdown(self.options.grace_s)
        if self._transport is not None:
            self._transport.close()
        if self.engines is not None:
            for engine in self.engines.values():
                await engine.aclose()
        if self._client is not None:
            await self._client.aclose()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        if self.context is not None and self.context.midi is not None:
            self.context.midi.close()
        if self._journal is not None:
            self._journal.close()
        log.info("stopped", extra={"event": "stopped"})


def find_controller_map(name: str, config_dir: Path) -> tuple[ControllerMap, Path]:
    """A controller map by name (the user's ``controllers/`` first) or path, and where learn saves it."""
    from bridge.control.midi_map import load_map
    from bridge.jobs.presets import shipped_folder

    user = config_dir / "controllers"
    candidates = [Path(name)] if name.endswith(".toml") else [user / f"{name}.toml",
                                                              shipped_folder() / "controllers" / f"{name}.toml"]
    for path in candidates:
        if path.is_file():
            controller = load_map(path)
            return controller, path if path.parent == user or name.endswith(".toml") else user / path.name
    known = sorted({p.stem for folder in (user, shipped_folder() / "controllers") if folder.is_dir()
                    for p in folder.glob("*.toml")})
    raise BadValue("--midi-map", name, f"no such controller map; known: {', '.join(known) or 'none'}")


def address_table() -> str:
    """The OSC address table in Markdown, as the README carries it."""
    rows = ["| Address | Arguments | Replies | Description |", "|---|---|---|---|"]
    for route in ROUTES:
        rows.append(f"| `{route.address}` | {route.arguments or '-'} | {route.replies} | {route.description} |")
    return "\n".join(rows)


def _fill_pool(workers: int) -> ProcessPoolExecutor | None:
    """Processes for the local engine's fills, started now (spawned: the daemon has threads)."""
    try:
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_follow_parent, initargs=(os.getpid(),))
        for _ in range(workers):
            pool.submit(_warm_up)
    except (OSError, RuntimeError) as exc:
        log.warning("no process pool for local fills (%s); they run in threads", exc)
        return None
    return pool


def _follow_parent(parent: int) -> None:
    """In a fill worker: exit when the daemon is gone (even after kill -9), never linger."""
    import threading
    import time

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="follow-daemon", daemon=True).start()


def _warm_up() -> None:
    """Import the fill's modules in a worker before the first job needs them."""
    import bridge.audio.fill  # noqa: F401


def parse_networks(values: Sequence[str]) -> tuple[Network, ...]:
    out = []
    for value in values:
        try:
            out.append(ipaddress.ip_network(value, strict=False))
        except ValueError:
            raise BadValue("--allow", value, "must be an address or CIDR such as 192.168.1.0/24") from None
    return tuple(out)
