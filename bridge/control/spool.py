"""The spool folder: the control surface for hosts without sockets (REAPER's Lua).

A client writes ``requests/<id>.json`` atomically (write elsewhere, then rename)::

    {"id": "r-1700000000-42", "address": "/bridge/inpaint",
     "args": ["/music/take3.wav", 12.4, 12.75, "rain on a tin roof", "engine", "fal"]}

The address and arguments are those of OSC, and go through the same router and checks.
The daemon removes the request and keeps ``results/<id>.json`` up to date, rewriting it
atomically at every change::

    {"id": ..., "address": ..., "replies": [["/bridge/accepted", ["ab12"]], ...],
     "jobs": {"ab12": {"state": "done", "fraction": 1.0, "engine": "local", "take_path": ..., "take_start": ...,
                       "take_end": ..., "seed": ..., "manifest_path": ..., "error": null}},
     "finished": true, "error": null}

``finished`` is true once every job has ended (or at once for requests that start none).
A request that cannot be read gets a result with ``error`` naming the problem.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bridge.control.notify import spool_job, to_osc
from bridge.control.replies import Accepted, Refused, Reply
from bridge.errors import ControlError
from bridge.files import write_text
from bridge.jobs.events import JobEvent

__all__ = ["Spool"]

log = logging.getLogger("bridge.spool")

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,80}\.json")
MAX_REQUEST_BYTES = 64 * 1024
POLL_S = 0.1
KEEP_RESULTS_S = 7 * 24 * 3600

Dispatch = Callable[[str, list[object]], list[Reply]]
"""A request's address and arguments in, the typed replies out."""


@dataclass
class _Pending:
    id: str
    address: str
    replies: list[list[object]] = field(default_factory=list)
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    error: str | None = None


@dataclass
class Spool:
    folder: Path
    dispatch: Dispatch
    redact: Callable[[str], str] = lambda text: text
    """Applied to every result written: no key is stored, whatever a service quoted."""
    pending: dict[str, _Pending] = field(default_factory=dict)
    """By job id: the request each job came from."""
    _task: asyncio.Task[None] | None = None

    @property
    def requests(self) -> Path:
        return self.folder / "requests"

    @property
    def results(self) -> Path:
        return self.folder / "results"

    def start(self) -> None:
        self.requests.mkdir(parents=True, exist_ok=True)
        self.results.mkdir(parents=True, exist_ok=True)
        self._recover()
        self._task = asyncio.get_running_loop().create_task(self._watch(), name="spool")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    async def _watch(self) -> None:
        await asyncio.to_thread(self._prune)
        while True:
            try:
                taken = await asyncio.to_thread(self._take_requests)
            except Exception:  # the watch must survive anything a folder can do
                log.exception("spool: reading requests failed")
                taken = []
            for name, text, problem in taken:
                try:
                    self._handle(name, text, problem)
                except Exception as exc:  # one request's failure is its own result, never the batch's
                    log.exception("spool request %s failed", name)
                    self._write(_Pending(name[: -len(".json")], "", error=f"request {name}: internal error:"
                                         f" {type(exc).__name__}"), finished=True)
            await asyncio.sleep(POLL_S)

    def _take_requests(self) -> list[tuple[str, str, str | None]]:
        """Read and remove every complete request file, oldest first; anything but a regular file
        (a FIFO would block the reader) is removed unread and answered with an error."""
        out = []
        entries = []
        for path in self.requests.iterdir() if self.requests.is_dir() else []:
            try:
                entries.append((path.lstat().st_mtime, path))
            except OSError:
                continue
        for _, path in sorted(entries):
            if path.name.startswith(".") or not path.name.endswith(".json"):
                continue
            problem = None if NAME.fullmatch(path.name) else "file name must be letters, digits, '-', '_', '.'"
            text = ""
            try:
                text = _read_regular(path)
            except ControlError as exc:
                problem = str(exc)
            try:
                path.unlink()
            except OSError:
                continue
            out.append((path.name, text, problem))
        return out

    def _handle(self, name: str, text: str, problem: str | None) -> None:
        request_id = name[: -len(".json")]
        if problem is None:
            try:
                doc = json.loads(text)
            except json.JSONDecodeError as exc:
                doc, problem = None, f"not valid JSON ({exc.msg} at line {exc.lineno})"
            except (RecursionError, ValueError) as exc:  # nested too deep, a number too long to read
                doc, problem = None, f"not usable JSON ({type(exc).__name__}: {str(exc)[:120]})"
            if problem is None:
                problem = _check(doc)
        if problem is not None:
            log.warning("spool request %s refused: %s", name, problem, extra={"event": "spool_refused"})
            self._write(_Pending(request_id, "", error=f"request {name}: {problem}"), finished=True)
            return
        address, args = str(doc["address"]), list(doc.get("args", []))
        entry = _Pending(str(doc.get("id", request_id)), address)
        for reply in self.dispatch(address, args):
            reply_address, reply_args = to_osc(reply)
            entry.replies.append([reply_address, reply_args])
            if isinstance(reply, Accepted):
                entry.jobs[reply.job_id] = {"state": "queued", "fraction": 0.0}
                self.pending[reply.job_id] = entry
            elif isinstance(reply, Refused):
                entry.error = reply.message
        self._write(entry, finished=not entry.jobs)

    def job_changed(self, event: JobEvent) -> None:
        """Called on every job state change: update the result of the request it came from."""
        entry = self.pending.get(event.job_id)
        if entry is None:
            return
        entry.jobs[event.job_id] = spool_job(event)
        finished = all(j["state"] in ("done", "failed", "cancelled") for j in entry.jobs.values())
        self._write(entry, finished=finished)
        if finished:
            for job_id in entry.jobs:
                self.pending.pop(job_id, None)

    def _write(self, entry: _Pending, *, finished: bool) -> None:
        doc = {"id": entry.id, "address": entry.address, "replies": entry.replies, "jobs": entry.jobs,
               "finished": finished, "error": entry.error, "updated": time.time()}
        try:
            write_text(self.results / f"{entry.id}.json", self.redact(json.dumps(doc, indent=1)))
        except Exception as exc:
            log.warning("spool: result %s cannot be written: %s", entry.id, exc)

    def _recover(self) -> None:
        """After a restart: unfinished results name the jobs they wait for, which resume."""
        for path in self.results.glob("*.json"):
            try:
                doc = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(doc, dict) and not doc.get("finished") and isinstance(doc.get("jobs"), dict):
                entry = _Pending(str(doc.get("id", path.stem)), str(doc.get("address", "")),
                                 list(doc.get("replies", [])), dict(doc["jobs"]), doc.get("error"))
                for job_id in entry.jobs:
                    self.pending[job_id] = entry

    def _prune(self) -> None:
        """Results nobody collected for a week are removed."""
        cutoff = time.time() - KEEP_RESULTS_S
        for path in self.results.glob("*.json"):
            try:
                if path.stat().st_mtime < cutoff:
                    os.unlink(path)
            except OSError:
                pass


def _check(doc: object) -> str | None:
    if not isinstance(doc, dict):
        return "must be a JSON object"
    address = doc.get("address")
    if not isinstance(address, str) or not address.startswith("/bridge/"):
        return f"address = {address!r}: must be a /bridge/... address"
    args = doc.get("args", [])
    if not isinstance(args, list) or not all(isinstance(a, str | int | float | bool) for a in args):
        return "args must be a list of strings, numbers and booleans"
    rid = doc.get("id")
    if rid is not None and (not isinstance(rid, str) or not NAME.fullmatch(rid + ".json")):
        return f"id = {rid!r}: must be letters, digits, '-', '_', '.'"
    return None


def _read_regular(path: Path) -> str:
    """The text of a regular file, opened without blocking (never a FIFO's writer wait)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise ControlError(f"cannot be read ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ControlError("is not a regular file (a FIFO, socket or device)")
        if info.st_size > MAX_REQUEST_BYTES:
            raise ControlError(f"larger than {MAX_REQUEST_BYTES} bytes")
        data = f.read(MAX_REQUEST_BYTES + 1)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ControlError("is not UTF-8 text") from None
