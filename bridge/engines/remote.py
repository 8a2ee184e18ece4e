"""What the hosted engines share: checking a job against a model, building the model's
input, the concurrency limit and deadline, and decoding the answer.

A vendor module supplies only its wire protocol (:class:`Wire`): how to send
the excerpt, submit, follow the job, fetch the result and cancel.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import httpx

from bridge.audio.io import EncodedAudio
from bridge.engines.base import EngineJob, EngineResult, Progress
from bridge.engines.http import TIMEOUT, download
from bridge.engines.models import MaskStyle, ModelSpec, find_model
from bridge.engines.plan import RequestPlan, check_plan, encode_excerpt, plan_request
from bridge.errors import AudioParameterError, BadValue, EngineError, EngineTimeout, EngineUnavailable
from bridge.model import Value

__all__ = ["Clock", "HostedEngine", "PreparedJob", "RemoteJob", "Wire", "prepare"]

CANCEL_WAIT_S = 5.0


@dataclass(frozen=True)
class PreparedJob:
    """A job checked against its model, with the model's input built except for the audio."""

    spec: ModelSpec
    plan: RequestPlan
    inputs: dict[str, Value]
    excerpt: bytes | None
    """44.1 kHz stereo WAV of the excerpt, or ``None`` for text-to-audio."""


@dataclass
class Clock:
    """Elapsed time of one job, for progress reports."""

    started: float = field(default_factory=time.monotonic)

    def elapsed(self) -> float:
        return round(time.monotonic() - self.started, 3)


@dataclass(frozen=True)
class RemoteJob:
    """A job the service accepted: enough to poll, fetch, cancel or resume it."""

    request_id: str
    status_url: str
    result_url: str
    cancel_url: str | None


def prepare(job: EngineJob, service: str) -> PreparedJob:
    """Check ``job`` against its model and build the input, before anything is sent or paid.

    Raises :class:`BadValue` naming the field and the allowed range.
    """
    spec = find_model(service, job.model, job.operation)
    if not job.prompt.strip() and job.resume_id is None:  # a resumed request was sent with its prompt
        raise BadValue("prompt", job.prompt, f"{spec.id} needs a prompt describing the sound")
    params = spec.resolve(job.params)
    plan = plan_request(spec, frames=len(job.audio), sr=job.sr, start=job.start, end=job.end, fade=job.fade)
    check_plan(spec, plan, frames=len(job.audio), sr=job.sr, start=job.start, end=job.end)
    inputs: dict[str, Value] = {"prompt": job.prompt, **params}
    if spec.negative_prompt and job.negative_prompt:
        inputs["negative_prompt"] = job.negative_prompt
    if spec.seed:
        inputs["seed"] = job.seed
    if plan.mask is not None:
        names = ("mask_start_seconds", "mask_end_seconds") if spec.mask is MaskStyle.SECONDS else (
            "mask_start", "mask_end")
        values = plan.mask if spec.mask is MaskStyle.SECONDS else tuple(int(v) for v in plan.mask)
        inputs.update(zip(names, values, strict=True))
    if spec.duration_field and plan.duration is not None:
        is_int = spec.mask is MaskStyle.WHOLE_SECONDS or spec.operation.value == "generate"
        inputs[spec.duration_field] = int(plan.duration) if is_int else plan.duration
    excerpt = encode_excerpt(job.audio[plan.lo : plan.hi], job.sr, spec) if spec.audio_field else None
    return PreparedJob(spec, plan, inputs, excerpt)


class Wire(Protocol):
    """A vendor's wire protocol, as the shared flow in :class:`HostedEngine` drives it."""

    async def send_audio(self, data: bytes, clock: Clock, job: EngineJob) -> str: ...

    async def submit(self, spec: ModelSpec, inputs: dict[str, Value]) -> RemoteJob: ...

    def resume(self, spec: ModelSpec, request_id: str) -> RemoteJob: ...

    async def wait(self, remote: RemoteJob, clock: Clock, job: EngineJob) -> None: ...

    async def fetch(self, spec: ModelSpec, remote: RemoteJob) -> tuple[str, Mapping[str, object]]:
        """The result's audio URL, and what the service said about it (billed units, the seed it used)."""
        ...

    async def cancel(self, remote: RemoteJob) -> str:
        """Ask the service to stop the job; returns what happened there, in words for the user."""
        ...


class HostedEngine:
    """The flow every hosted engine follows; the vendor protocol fills in the wire steps."""

    service: str
    wire: Wire
    client: httpx.AsyncClient

    def __init__(self, service: str, *, key: str | None, key_variable: str, concurrency: int,
                 client: httpx.AsyncClient | None) -> None:
        self.service = service
        self._key = key
        self._key_variable = key_variable
        self._slots = asyncio.Semaphore(max(1, concurrency))
        self._own_client = client is None
        self.client = client or httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=True)

    def readiness(self) -> str | None:
        if not self._key:
            return f"no key: set {self._key_variable} (or the key in the config file's [{self.service}] section)"
        return None

    def require_key(self) -> str:
        reason = self.readiness()
        if reason is not None:
            raise EngineUnavailable(f"{self.service}: {reason}")
        assert self._key is not None
        return self._key

    async def aclose(self) -> None:
        if self._own_client:
            await self.client.aclose()

    async def render(self, job: EngineJob) -> EngineResult:
        prepared = await asyncio.to_thread(prepare, job, self.service)
        self.require_key()
        clock = Clock()
        cancelled: list[str] = []
        try:
            async with asyncio.timeout(job.deadline_s), self._slots:
                return await self._run(job, prepared, clock, cancelled)
        except TimeoutError as exc:
            raise EngineTimeout(
                f"{self.service}: {prepared.spec.id}: no answer within the deadline of {job.deadline_s:g} s; "
                + (cancelled[0] if cancelled else "nothing had been sent")
            ) from exc

    async def _run(self, job: EngineJob, prepared: PreparedJob, clock: Clock, cancelled: list[str]) -> EngineResult:
        spec = prepared.spec
        if job.resume_id:
            remote = self.wire.resume(spec, job.resume_id)
        else:
            inputs = dict(prepared.inputs)
            if prepared.excerpt is not None and spec.audio_field:
                job.report(Progress("uploading", clock.elapsed()))
                inputs[spec.audio_field] = await self.wire.send_audio(prepared.excerpt, clock, job)
            job.report(Progress("submitting", clock.elapsed()))  # journalled before anything billable is sent
            remote = await self.wire.submit(spec, inputs)
        job.report(Progress("submitted", clock.elapsed(), request_id=remote.request_id))
        async with self._cancelled_on_exit(remote, job, clock, cancelled):
            await self.wire.wait(remote, clock, job)
            url, said = await self.wire.fetch(spec, remote)
        job.report(Progress("downloading", clock.elapsed(), request_id=remote.request_id))
        data = await download(self.client, url, service=self.service)
        try:
            audio = await asyncio.to_thread(EncodedAudio, data)
        except AudioParameterError as exc:
            raise EngineError(f"{self.service}: {spec.id}: {exc}") from exc
        details: dict[str, object] = {"inputs": {k: v for k, v in prepared.inputs.items() if k != spec.audio_field},
                                      "excerpt_frames": [prepared.plan.lo, prepared.plan.hi],
                                      "superset_mask": prepared.plan.superset,
                                      "uploaded_bytes": len(prepared.excerpt or b""), **said}
        notes = () if spec.seed else (f"{spec.id} takes no seed: the result cannot be reproduced",)
        plan = prepared.plan
        regenerated = None if plan.mask is None else (plan.lo + round(plan.mask[0] * job.sr),
                                                      min(plan.hi, plan.lo + round(plan.mask[1] * job.sr)))
        return EngineResult(audio=audio, sr=audio.sr, fit=plan.fit, model=spec.id, lo=plan.lo, hi=plan.hi,
                            request_id=remote.request_id, details=details, notes=notes, regenerated=regenerated,
                            seeded=spec.seed)

    @contextlib.asynccontextmanager
    async def _cancelled_on_exit(self, remote: RemoteJob, job: EngineJob, clock: Clock,
                                 cancelled: list[str]) -> AsyncIterator[None]:
        """Cancel the remote job when the wait ends by deadline or cancellation, and say what the service
        did: stopped it, had already finished it (billed), or has no cancel at all."""
        try:
            yield
        except (asyncio.CancelledError, TimeoutError):
            outcome = f"the cancel of request {remote.request_id} got no answer; it may still run and be billed"
            with contextlib.suppress(Exception):
                outcome = await asyncio.shield(asyncio.wait_for(self.wire.cancel(remote), CANCEL_WAIT_S))
            cancelled.append(outcome)
            job.report(Progress("cancelling", clock.elapsed(), request_id=remote.request_id, message=outcome))
            raise
