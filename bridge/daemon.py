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
import contextlib
import ipaddress
import logging
import os
import signal
import sys
import threading
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from bridge import checks
from bridge.config import Settings, redact
from bridge.control.context import Context
from bridge.control.handlers import dispatch, handle_message
from bridge.control.notify import Notifier, to_osc
from bridge.control.osc import OscEndpoint, Outgoing
from bridge.control.roots import Roots
from bridge.control.spool import Spool
from bridge.engines.base import Engine
from bridge.engines.http import TIMEOUT
from bridge.engines.registry import engine_names, fill_pool, make_engine
from bridge.errors import BadValue, MidiUnavailable
from bridge.files import FolderLock
from bridge.jobs.journal import Journal
from bridge.jobs.presets import load_presets
from bridge.jobs.runner import Runner

if TYPE_CHECKING:
    from bridge.control.link import LinkTime

__all__ = ["Daemon", "Network", "ServeOptions"]

log = logging.getLogger("bridge.daemon")

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
    link: bool = False
    """Join the Ableton Link session: the beat for quantized delivery (MIDI clock otherwise)."""
    quantum: float = 4.0

    def __post_init__(self) -> None:
        try:
            loopback = ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            raise BadValue("--listen", self.host, "must be an IP address") from None
        if not loopback and not self.allow:
            raise BadValue("--listen", self.host, "a non-loopback address needs --allow CIDR for the senders to accept")
        if not 1 <= self.quantum <= 16:
            raise BadValue("--quantum", self.quantum, "must be 1..16 beats per bar")
        checks.integer("--osc-port", self.port, 0, 65535)


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
    _link: LinkTime | None = None
    spool: Spool | None = None
    _signals: int = 0
    _lock: FolderLock | None = None

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
        # the jobs' file and audio work runs in threads below the event loop's priority, so that a
        # pad press or a ping is answered at once however busy the jobs keep the cores
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(thread_name_prefix="job", initializer=_lower_thread_priority))
        self._lock = FolderLock(settings.data_dir)  # before the journal: one daemon per data folder
        self._journal = Journal(settings.data_dir / "jobs.sqlite", repair=True)
        self._journal.prune(keep_jobs=settings.history)
        if self.engines is None:
            self._client = httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=True)
            self._pool = fill_pool(self.options.local_workers)
            self.engines = {name: make_engine(name, settings, self._client, self._pool) for name in engine_names()}
        roots = Roots.create(list(self.options.media_roots) or [Path.home()],
                             list(self.options.output_roots) or [settings.data_dir / "takes"])
        journal = self._journal
        notifier = Notifier(send=self._send, subscribers=journal.subscribers)
        runner = Runner(settings, journal, self.engines, notify=notifier.job,
                        fallback_local=settings.fallback_local, local_workers=self.options.local_workers)
        context = Context(settings=settings, runner=runner, roots=roots, presets=load_presets(settings.config_dir),
                          notifier=notifier, stats=self._stats, notice=journal.notice)
        self.context = context
        if self.options.link:
            from bridge.control.link import LinkTime

            self._link = notifier.time = LinkTime(quantum=self.options.quantum)
            log.info("joined the Ableton Link session (quantum %g)", self.options.quantum, extra={"event": "link"})

        def on_osc(address: str, params: list[object], sender: tuple[str, int]) -> list[Outgoing]:
            return [(sender, *to_osc(reply)) for reply in handle_message(context, address, params, sender)]

        if self.options.midi:
            self._start_midi()
        secrets = settings.secrets

        def hide(text: str) -> str:
            return redact(text, secrets)

        self.spool = notifier.spool = Spool(self.options.spool or settings.data_dir / "spool",
                                            lambda address, args: handle_message(context, address, args, None),
                                            redact=hide)
        self.endpoint = OscEndpoint(on_osc, allow=self.options.allow, redact=hide)
        endpoint = self.endpoint
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: endpoint,
                                                           local_addr=(self.options.host, self.options.port))
        self._transport = transport
        host, port = self.osc_address
        self._lock.note(f"OSC port {port}")
        ready = ", ".join(f"{n}{'' if e.readiness() is None else ' (not ready)'}" for n, e in self.engines.items())
        log.info("listening for OSC on %s:%d; engines: %s; media roots: %s; takes in %s", host, port, ready,
                 ", ".join(map(str, roots.media)), roots.output[0], extra={"event": "ready"})
        self.spool.start()
        log.info("spool folder %s", self.spool.folder, extra={"event": "spool_ready"})
        resumed = runner.resume()
        if resumed:
            log.info("resumed %d unfinished jobs from the journal", len(resumed), extra={"event": "resumed"})

    def _start_midi(self) -> None:
        from bridge.control.midi import MidiControl, open_ports
        from bridge.control.midi_map import Mapper, find_controller_map

        context = self.context
        assert context is not None
        controller, save_to = find_controller_map(self.options.midi_map, self.settings.config_dir)
        control = MidiControl(Mapper(controller), lambda command: dispatch(context, command, None), save_to=save_to)
        control.attach(asyncio.get_running_loop())
        try:
            control.ports = open_ports(api=self.options.midi_api, in_name=self.options.midi_in,
                                       out_name=self.options.midi_out, want_output=controller.feedback is not None,
                                       callback=control.on_bytes)
        except MidiUnavailable as exc:
            log.warning("MIDI unavailable, running without it: %s", exc, extra={"event": "midi_unavailable"})
            return
        context.notifier.midi = control
        control.bank = lambda: ([job.event() for job in context.runner.last_group], context.selected)
        control.clock.quantum = self.options.quantum
        if context.notifier.time is None:  # Link, when on, gives the beat; MIDI clock otherwise
            context.notifier.time = control.clock
        log.info("MIDI via %s: input %r, LED output %r, map %r", control.ports.api, *control.ports.names,
                 controller.name, extra={"event": "midi_ready"})

    def _stats(self) -> dict[str, int]:
        return dict(self.endpoint.stats.__dict__) if self.endpoint else {}

    def _send(self, dest: tuple[str, int], address: str, args: list[object]) -> None:
        if self.endpoint is not None:
            self.endpoint.send(dest, address, args)

    async def shutdown(self) -> None:
        if self.context is not None:
            self.context.notifier.release()
        if self._link is not None:
            self._link.close()
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
        if self._lock is not None:
            self._lock.release()
        log.info("stopped", extra={"event": "stopped"})


JOB_NICENESS = 5


def _lower_thread_priority() -> None:
    """In a job thread: a lower CPU priority than the event loop's (Linux sets it per thread; elsewhere
    it would lower the whole process, so it is left alone)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), JOB_NICENESS)
