"""The job runner: every edit the daemon makes, from accepted to done, failed or cancelled.

* States ``queued → rendering → submitted → running → fitting → done | failed |
  cancelled``, each written to the journal before it is announced.
* Concurrency: ``local`` jobs run at most :attr:`Runner.local_workers` at once (CPU-bound,
  in threads); hosted engines hold their own per-service limits.
* Supersede: a request for a range overlapping an active job on the same source cancels
  that job (at the service too) unless it says ``keep``; variations of one request never
  supersede each other.
* Variations: ``variations N`` makes N jobs with consecutive seeds, each delivered.
* Fallback: when a hosted service cannot be reached and the settings allow it, an
  inpainting job runs on ``local`` instead and its manifest says so.
* Restart: :meth:`Runner.resume` picks up what the journal holds. Jobs a service had
  accepted resume polling by request id; jobs never submitted run again; a hosted job that
  may have been submitted without the answer being stored is failed, never re-sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field, replace

from bridge.config import Settings, redact
from bridge.engines.base import Engine, Progress
from bridge.errors import BadValue, BridgeError, EngineUnreachable, JobError
from bridge.jobs.cost import check_budget, estimate
from bridge.jobs.edit import check_request, run_edit
from bridge.jobs.events import FINAL, FRACTION, JobEvent, JobState
from bridge.jobs.journal import JobRecord, Journal
from bridge.model import MAX_SEED, EditRequest, Operation, Quantize, TakeInfo, default_seed

__all__ = ["Job", "Runner"]

log = logging.getLogger("bridge.jobs")


_STEP_STATE = {"reading": JobState.RENDERING, "uploading": JobState.RENDERING, "submitting": JobState.RENDERING,
               "submitted": JobState.SUBMITTED,
               "queued": JobState.RUNNING, "running": JobState.RUNNING, "downloading": JobState.RUNNING,
               "fitting": JobState.FITTING, "writing": JobState.FITTING}


@dataclass(eq=False)
class Job:
    """One job: a request with its seed, where replies go, and how far it got."""

    id: str
    request: EditRequest
    group: str
    keep: bool = False
    reply: tuple[str, int] | None = None
    state: JobState = JobState.QUEUED
    fraction: float = 0.0
    remote_id: str | None = None
    take: TakeInfo | None = None
    error: str | None = None
    engine: str = ""
    cancel_reason: str | None = None
    cost_usd: float | None = 0.0
    """Estimated, from the price table (0 for local, ``None`` when unknown)."""
    model_id: str | None = None
    cancel_outcome: str | None = None
    """What the service said to our cancel (stopped, already billed, no cancel at all)."""
    quantize: Quantize | None = None
    """Announce the take on this boundary of the beat (Link or MIDI clock), not at once."""
    hold: bool = False
    """The finished take waits in the bank until it is selected."""
    task: asyncio.Task[None] | None = field(default=None, repr=False)

    @property
    def seed(self) -> int:
        assert self.request.seed is not None
        return self.request.seed

    @property
    def active(self) -> bool:
        return self.state not in FINAL

    def event(self) -> JobEvent:
        """The job's current state, as the rest of the daemon hears it."""
        return JobEvent(self.id, self.state, self.fraction, self.seed, self.engine, self.reply, self.take,
                        self.error if self.state in (JobState.FAILED, JobState.CANCELLED) else None, self.cost_usd,
                        self.quantize, held=self.hold)


Notify = Callable[[JobEvent], None]


class Runner:
    """Runs jobs on the event loop's worker tasks; the daemon owns it."""

    def __init__(self, settings: Settings, journal: Journal, engines: Mapping[str, Engine], *, notify: Notify,
                 fallback_local: bool = False, local_workers: int = 2, max_active: int = 500) -> None:
        self.settings = settings
        self.journal = journal
        self.engines = engines
        self.notify = notify
        self.fallback_local = fallback_local
        self.local_workers = local_workers
        self.max_active = max_active
        self.jobs: dict[str, Job] = {}
        self.last_group: list[Job] = []
        self._local = asyncio.Semaphore(local_workers)
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    # ------------------------------------------------------------------ intake

    def check(self, request: EditRequest) -> None:
        """Refuse a request its engine cannot take, before it is queued (and before anything is paid)."""
        engine = self.engines.get(request.engine)
        if engine is None:
            raise BadValue("engine", request.engine, f"unknown engine; known: {', '.join(sorted(self.engines))}")
        check_request(request, engine)

    def accept(self, request: EditRequest, *, variations: int = 1, keep: bool = False,
               reply: tuple[str, int] | None = None, quantize: Quantize | None = None,
               hold: bool = False) -> list[Job]:
        """Queue ``variations`` jobs for ``request`` (consecutive seeds) and start them."""
        if self._closed:
            raise JobError("the daemon is shutting down; no new jobs")
        self.check(request)
        cost = estimate(request, self.settings, jobs=variations)
        check_budget(cost, self.settings.budget, spent_today=self.journal.spent_today())
        active = sum(1 for j in self.jobs.values() if j.active)
        if active + variations > self.max_active:
            raise JobError(f"queue full: {active} jobs active (at most {self.max_active})")
        if not keep:
            self._supersede(request)
        group = uuid.uuid4().hex[:8]
        generative = self.engines[request.engine].capabilities.uses_prompt
        first = request.seed if request.seed is not None else default_seed(generative)
        jobs = []
        for i in range(variations):
            job = Job(id=uuid.uuid4().hex[:12], request=replace(request, seed=(first + i) % (MAX_SEED + 1)),
                      group=group, keep=keep, reply=reply, engine=request.engine, cost_usd=cost.per_job,
                      model_id=cost.model, quantize=quantize, hold=hold)
            self.journal.add(job_id=job.id, request=job.request.to_json(), engine=job.engine, prompt=request.prompt,
                             seed=job.seed, group_id=group, reply=reply)
            self.jobs[job.id] = job
            jobs.append(job)
        self.last_group = jobs
        for job in jobs:
            log.info("job %s: queued (%s %s, seed %d)", job.id, job.engine, request.operation.value, job.seed,
                     extra={"event": "job_state", "job_id": job.id, "state": "queued"})
            self.notify(job.event())
            self._start(job)
        self._trim()
        return jobs

    def regenerate(self, job_id: str | None, reply: tuple[str, int] | None) -> list[Job]:
        """Repeat a job (default: the last one) with the next seed."""
        if job_id is None:
            if not self.last_group:
                raise JobError("regenerate: no job yet to repeat")
            base = self.last_group[-1]
            request, seed, quantize = base.request, base.seed, base.quantize
        else:
            known = self.jobs.get(job_id)
            record = None if known else self.journal.get(job_id)
            if known is None and record is None:
                raise JobError(f"job = {job_id!r}: unknown")
            request = known.request if known else EditRequest.from_json(record.request)  # type: ignore[union-attr]
            seed, quantize = request.seed or 0, known.quantize if known else None
        return self.accept(replace(request, seed=(seed + 1) % (MAX_SEED + 1)), reply=reply, quantize=quantize)

    def refill(self, slot: int) -> Job:
        """A new variation in place of slot ``slot`` (0-based) of the bank (the last request's jobs), with
        the seed after the bank's highest; the bank stays the last request."""
        bank = list(self.last_group)
        base = bank[slot]
        seed = (max(job.seed for job in bank) + 1) % (MAX_SEED + 1)
        [job] = self.accept(replace(base.request, seed=seed), keep=True, reply=base.reply, quantize=base.quantize,
                            hold=base.hold)
        bank[slot] = job
        self.last_group = bank
        return job

    def cancel(self, job_id: str | None) -> list[Job]:
        """Cancel one job, or without an id every active job of the last request."""
        if job_id is None:
            targets = [j for j in self.last_group if j.active]
        else:
            job = self.jobs.get(job_id)
            if job is None:
                raise JobError(f"job = {job_id!r}: unknown or already finished")
            targets = [job] if job.active else []
        for job in targets:
            self._cancel(job, "cancelled on request")
        return targets

    def _supersede(self, request: EditRequest) -> None:
        source = request.source.resolve()
        for job in list(self.jobs.values()):
            other = job.request
            if (job.active and other.source.resolve() == source and other.start < request.end
                    and request.start < other.end):
                self._cancel(job, "superseded by a newer request for an overlapping range")

    def _cancel(self, job: Job, reason: str) -> None:
        job.cancel_reason = reason
        if job.task is not None and not job.task.done():
            job.task.cancel(reason)

    # ------------------------------------------------------------------ running

    def _start(self, job: Job) -> None:
        task = asyncio.get_running_loop().create_task(self._run(job), name=f"job-{job.id}")
        job.task = task
        self._tasks.add(task)
        task.add_done_callback(lambda done: self._ended(job, done))

    def _ended(self, job: Job, task: asyncio.Task[None]) -> None:
        """Every accepted job reaches a final state: one cancelled before its task began never ran ``_run``."""
        self._tasks.discard(task)
        if job.active:
            self._set(job, JobState.CANCELLED, error=job.cancel_reason or "cancelled")

    async def _run(self, job: Job) -> None:
        try:
            take = await self._render(job)
        except asyncio.CancelledError:
            reason = job.cancel_reason or "cancelled"
            self._set(job, JobState.CANCELLED,
                      error=f"{reason}; {job.cancel_outcome}" if job.cancel_outcome else reason)
            raise
        except BridgeError as exc:
            self._set(job, JobState.FAILED, error=str(exc))
        except Exception as exc:  # a bug must fail the job, never the daemon
            log.exception("job %s: internal error", job.id)
            self._set(job, JobState.FAILED, error=f"internal error: {type(exc).__name__}: {exc}")
        else:
            job.take = take
            self._set(job, JobState.DONE, take_path=str(take.path), manifest_path=str(take.manifest_path),
                      take_start=take.take_start, take_end=take.take_end)

    async def _render(self, job: Job) -> TakeInfo:
        engine = self.engines[job.request.engine]
        try:
            async with self._slot(engine):
                self._set(job, JobState.RENDERING)
                return await run_edit(job.request, engine, self.settings, on_progress=lambda p: self._step(job, p),
                                      resume_id=job.remote_id)
        except EngineUnreachable as exc:
            if not (self.fallback_local and job.request.operation is Operation.INPAINT and "local" in self.engines
                    and job.remote_id is None):
                raise
            note = f"{job.request.engine} could not be reached ({exc}); filled by the local engine instead"
            log.warning("job %s: %s", job.id, note, extra={"event": "fallback", "job_id": job.id})
            job.request = replace(job.request, engine="local", model=None, params={})
            job.engine = "local"
            local = self.engines["local"]
            async with self._slot(local):
                return await run_edit(job.request, local, self.settings, on_progress=lambda p: self._step(job, p),
                                      notes=(note,))

    @contextlib.asynccontextmanager
    async def _slot(self, engine: Engine) -> AsyncIterator[None]:
        if engine.capabilities.uses_prompt:
            yield
        else:
            async with self._local:
                yield

    def _step(self, job: Job, progress: Progress) -> None:
        if progress.state == "cancelling":
            job.cancel_outcome = progress.message
            return
        state = _STEP_STATE.get(progress.state)
        if state is None or not job.active:
            return
        if progress.state == "submitting":
            self.journal.update(job.id, job.state, job.fraction, submitting=True)
            if job.model_id is not None:
                self.journal.spend(job.cost_usd or 0.0, model=job.model_id, origin="daemon")
        elif progress.state == "submitted" and progress.request_id:
            job.remote_id = progress.request_id
            self._set(job, state, remote_id=progress.request_id)
        elif state != job.state:
            self._set(job, state)

    def _set(self, job: Job, state: JobState, **fields: object) -> None:
        """Journal first, then announce."""
        job.state = state
        job.fraction = FRACTION[state]
        if "error" in fields:  # a service's error text may quote the request's headers: never store a key
            fields["error"] = job.error = redact(str(fields["error"]), self.settings.secrets)
        self.journal.update(job.id, state, job.fraction, engine=job.engine, **fields)
        detail = f": {job.error}" if state in (JobState.FAILED, JobState.CANCELLED) else ""
        level = logging.WARNING if state is JobState.FAILED else logging.INFO
        log.log(level, "job %s: %s%s", job.id, state.value, detail,
                extra={"event": "job_state", "job_id": job.id, "state": state.value,
                       "remote_id": job.remote_id})
        self.notify(job.event())

    def _trim(self, keep: int = 1000) -> None:
        finished = [j for j in self.jobs.values() if not j.active]
        for job in finished[: max(0, len(finished) - keep)]:
            del self.jobs[job.id]

    # ------------------------------------------------------------------ restart and shutdown

    def resume(self) -> list[Job]:
        """Take up the jobs the journal holds unfinished (after a crash or kill)."""
        resumed = []
        for record in reversed(self.journal.jobs(states=[s for s in JobState if s not in FINAL])):
            try:
                job = self._from_record(record)
            except (BridgeError, ValueError, TypeError, KeyError) as exc:
                error = f"job {record.id}: its journal row cannot be used ({exc}); it is not resumed"
                log.warning("%s", error, extra={"event": "job_unusable", "job_id": record.id})
                self.journal.update(record.id, JobState.FAILED, FRACTION[JobState.FAILED], error=error)
                continue
            hosted = job.engine in self.engines and self.engines[job.engine].capabilities.uses_prompt
            if hosted and job.remote_id is None and record.submitting:
                self._set(job, JobState.FAILED, error="interrupted while being submitted; not sent again, to avoid"
                          " paying twice (check the service's dashboard)")
                continue
            if job.engine not in self.engines:
                self._set(job, JobState.FAILED, error=f"engine {job.engine!r} is not available any more")
                continue
            log.info("job %s: resumed (%s%s)", job.id, record.state,
                     f", request {job.remote_id}" if job.remote_id else "",
                     extra={"event": "job_resumed", "job_id": job.id, "state": record.state})
            self._start(job)
            resumed.append(job)
        return resumed

    def _from_record(self, record: JobRecord) -> Job:
        request = EditRequest.from_json(record.request)
        reply = (record.reply_host, record.reply_port) if record.reply_host and record.reply_port else None
        cost = estimate(request, self.settings)  # a job sent again after a restart is paid for again
        job = Job(id=record.id, request=request, group=record.group_id, reply=reply, state=record.state,
                  fraction=record.fraction, remote_id=record.remote_id, engine=record.engine, cost_usd=cost.per_job,
                  model_id=cost.model)
        self.jobs[job.id] = job
        return job

    def active_tasks(self) -> list[asyncio.Task[None]]:
        return [t for t in self._tasks if not t.done()]

    async def shutdown(self, grace_s: float) -> None:
        """Stop intake, let running jobs finish within ``grace_s``, then cancel the rest (at the service too)."""
        self._closed = True
        pending = self.active_tasks()
        if pending:
            _, still = await asyncio.wait(pending, timeout=grace_s)
            for task in still:
                job = next((j for j in self.jobs.values() if j.task is task), None)
                if job is not None:
                    self._cancel(job, "cancelled: the daemon is shutting down")
                else:
                    task.cancel()
            for task in still:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
