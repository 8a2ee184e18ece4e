"""The ``fal`` engine: fal.ai's queue API (remote-apis.md §1).

Submit to the model's full id; follow the ``status_url``, ``response_url`` and
``cancel_url`` the submit returns (rebuilt from ``owner/app`` only when resuming a stored
request id). The job is followed on the status stream (server-sent events on
``{status_url}/stream``, one status per event), so the result is fetched the moment the
job is COMPLETED; when the stream breaks the status is polled once and the stream
reopened, and a service without the stream is polled with backoff from 0.25 to 1 s. The
audio is downloaded as soon as the result names it (or read from the result, with
``sync_mode``: a third more bytes, as base64, for one request less). Excerpts up to
:data:`DATA_URI_MAX` bytes travel as a data URI, larger ones through the storage upload
(initiate, then PUT).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

import httpx

from bridge.engines.base import Capabilities, EngineJob, Progress
from bridge.engines.http import IDEMPOTENT, SUBMIT, data_uri, send
from bridge.engines.models import ModelSpec, models_of
from bridge.engines.remote import Clock, HostedEngine, RemoteJob
from bridge.errors import EngineError, EngineRejected, EngineUnavailable
from bridge.model import Operation, Value

__all__ = ["FalEngine", "FalWire", "describe_error", "parse_status", "read_events"]

DEFAULT_QUEUE_URL = "https://queue.fal.run"
DEFAULT_REST_URL = "https://rest.fal.ai"
DATA_URI_MAX = 2_000_000
POLL_FIRST_S = 0.25
POLL_MAX_S = 1.0
STREAM_IDLE_S = 30.0
"""A stream silent this long is closed, the status polled and the stream reopened."""
STREAM_FAILURES = 3
"""Streams in a row that end without a single status before the job is followed by polling alone."""
SERVICE = "fal"

CAPABILITIES = Capabilities(
    name="fal",
    description="fal.ai hosted Stable Audio: SA3 inpainting and audio-to-audio, SA 2.5 inpainting, SA Open",
    operations=frozenset({Operation.INPAINT, Operation.TRANSFORM, Operation.GENERATE}),
    min_duration_s=0.01,
    max_duration_s=max(m.max_input_s for m in models_of(SERVICE)),  # each model's own limit rules
    default_context_s=12.0,
    max_context_s=60.0,
    uses_prompt=True,
    needs_key=True,
    models=tuple(m.id for m in models_of(SERVICE)),
)


@dataclass(frozen=True)
class Status:
    """One status answer."""

    state: str
    queue_position: int | None
    message: str | None
    error: str | None


def describe_error(response: httpx.Response) -> str:
    """The service's own words for a failed response: ``detail`` as a string or a list of field errors."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        text = response.text.strip()
        if "nginx" in text.lower() or text.startswith("<"):
            return f"HTTP {response.status_code} from the service's gateway"
        return f"HTTP {response.status_code}: {text[:300]}"
    detail = body.get("detail", body) if isinstance(body, Mapping) else body
    if isinstance(detail, list):
        parts = []
        for item in detail:
            if isinstance(item, Mapping):
                loc = [str(x) for x in item.get("loc", []) if x != "body"]
                parts.append(f"{'.'.join(loc) or 'input'}: {item.get('msg', item)}")
            else:
                parts.append(str(item))
        detail = "; ".join(parts)
    kind = body.get("error_type") if isinstance(body, Mapping) else None
    kind = kind or response.headers.get("x-fal-error-type")
    return f"{detail} ({kind})" if kind else str(detail)


def parse_status(body: object) -> Status:
    """A status body: IN_QUEUE with ``queue_position``, IN_PROGRESS or COMPLETED with ``logs``."""
    if not isinstance(body, Mapping):
        raise EngineError(f"{SERVICE}: a job status that is not an object: {str(body)[:80]!r}")
    state = str(body.get("status", ""))
    if state not in {"IN_QUEUE", "IN_PROGRESS", "COMPLETED"}:
        raise EngineError(f"{SERVICE}: unknown job status {state!r}")
    logs = body.get("logs") or []
    message = None
    if logs and isinstance(logs[-1], Mapping):
        message = str(logs[-1].get("message", ""))[:200] or None
    error = body.get("error")
    if error:
        kind = body.get("error_type")
        error = f"{error} ({kind})" if kind else str(error)
    position = body.get("queue_position")
    return Status(state, int(position) if isinstance(position, int) else None, message, error)


async def read_events(lines: AsyncIterator[str]) -> AsyncIterator[str]:
    """The ``data`` of each server-sent event (lines joined), skipping comments and other fields."""
    data: list[str] = []
    async for line in lines:
        if not line:
            if data:
                yield "\n".join(data)
                data = []
            continue
        name, _, value = line.partition(":")
        if name == "data":
            data.append(value[1:] if value.startswith(" ") else value)
    if data:
        yield "\n".join(data)


class _NoStream(Exception):
    """The service does not offer the status stream."""


def _check_auth(response: httpx.Response, what: str) -> None:
    if response.status_code == 401:
        raise EngineUnavailable(f"{SERVICE}: {what}: {describe_error(response)} (check FAL_KEY)")
    if response.status_code == 403:
        raise EngineUnavailable(f"{SERVICE}: {what}: {describe_error(response)}")


class FalWire:
    """fal's queue and storage protocol over one httpx client."""

    def __init__(self, client: httpx.AsyncClient, key: str | None, queue_url: str, rest_url: str) -> None:
        self.client = client
        self._key = key
        self.queue_url = queue_url.rstrip("/")
        self.rest_url = rest_url.rstrip("/")
        self.streaming = True
        """False once the service has shown it offers no status stream."""

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Key {self._key}", "Accept": "application/json"}

    async def send_audio(self, data: bytes, clock: Clock, job: EngineJob) -> str:
        if len(data) <= DATA_URI_MAX:
            return data_uri(data, "audio/wav")
        response = await send(
            self.client, "POST", f"{self.rest_url}/storage/upload/initiate", service=SERVICE,
            what="upload the excerpt", policy=IDEMPOTENT, params={"storage_type": "gcs"},
            json={"file_name": "excerpt.wav", "content_type": "audio/wav"}, headers=self._headers(),
        )
        _check_auth(response, "upload the excerpt")
        if response.status_code != 200:
            raise EngineError(f"{SERVICE}: upload the excerpt: {describe_error(response)}")
        target = response.json()
        put = await send(
            self.client, "PUT", str(target["upload_url"]), service=SERVICE, what="upload the excerpt",
            policy=IDEMPOTENT, content=data, headers={"Content-Type": "audio/wav"},
            timeout=httpx.Timeout(None, connect=10.0),
        )
        if not 200 <= put.status_code < 300:
            raise EngineError(f"{SERVICE}: upload the excerpt: {describe_error(put)}")
        return str(target["file_url"])

    async def submit(self, spec: ModelSpec, inputs: dict[str, Value]) -> RemoteJob:
        response = await send(
            self.client, "POST", f"{self.queue_url}/{spec.id}", service=SERVICE, what=f"submit to {spec.id}",
            policy=SUBMIT, json=inputs, headers=self._headers(),
        )
        _check_auth(response, f"submit to {spec.id}")
        if response.status_code == 422:
            raise EngineRejected(f"{SERVICE}: {spec.id} refused the request: {describe_error(response)}")
        if not 200 <= response.status_code < 300:
            raise EngineError(f"{SERVICE}: submit to {spec.id}: {describe_error(response)}")
        body = response.json()
        try:
            return RemoteJob(str(body["request_id"]), str(body["status_url"]), str(body["response_url"]),
                             str(body["cancel_url"]))
        except KeyError as exc:
            raise EngineError(f"{SERVICE}: submit answer lacks {exc.args[0]!r}") from exc

    def resume(self, spec: ModelSpec, request_id: str) -> RemoteJob:
        """Status, result and cancel URLs of a stored request: under ``owner/app`` only."""
        app = "/".join(spec.id.split("/")[:2])
        base = f"{self.queue_url}/{app}/requests/{request_id}"
        return RemoteJob(request_id, f"{base}/status", base, f"{base}/cancel")

    async def wait(self, remote: RemoteJob, clock: Clock, job: EngineJob) -> None:
        """Until the job is COMPLETED: on the status stream while the service offers one, else by polling."""
        failures = 0
        interval = POLL_FIRST_S
        while True:
            if self.streaming and failures < STREAM_FAILURES:
                try:
                    seen = await self._follow_stream(remote, clock, job)
                except _NoStream:
                    self.streaming = False
                else:
                    if seen is None:
                        return
                    failures = 0 if seen else failures + 1
            status = await self._poll(remote)
            if self._finished(status, remote):
                return
            self._report(status, remote, clock, job)
            await asyncio.sleep(interval)  # also between reopened streams, so a flapping stream stays cheap
            interval = min(POLL_MAX_S, interval * 1.5)

    async def _follow_stream(self, remote: RemoteJob, clock: Clock, job: EngineJob) -> int | None:
        """Follow the status stream: ``None`` once the job is COMPLETED, else how many statuses came
        before the stream ended, broke or fell silent. Raises :class:`_NoStream` when there is none."""
        seen = 0
        try:
            async with self.client.stream("GET", f"{remote.status_url}/stream", params={"logs": "1"},
                                          headers={**self._headers(), "Accept": "text/event-stream"},
                                          timeout=httpx.Timeout(STREAM_IDLE_S, connect=10.0)) as response:
                if response.status_code in {401, 403}:
                    await response.aread()
                    _check_auth(response, "follow the job")
                kind = response.headers.get("content-type", "")
                if response.status_code in {404, 405, 501} or (
                        200 <= response.status_code < 300 and not kind.startswith("text/event-stream")):
                    raise _NoStream
                if not 200 <= response.status_code < 300:
                    return 0
                async for data in read_events(response.aiter_lines()):
                    try:
                        status = parse_status(json.loads(data))
                    except (json.JSONDecodeError, EngineError):
                        return seen  # a garbled event: the poll that follows says where the job is
                    seen += 1
                    if self._finished(status, remote):
                        return None
                    self._report(status, remote, clock, job)
        except httpx.TransportError:
            pass  # dropped, or silent for STREAM_IDLE_S: the poll that follows says where the job is
        return seen

    async def _poll(self, remote: RemoteJob) -> Status:
        response = await send(
            self.client, "GET", remote.status_url, service=SERVICE, what="poll the job", policy=IDEMPOTENT,
            params={"logs": "1"}, headers=self._headers(),
        )
        _check_auth(response, "poll the job")
        if response.status_code == 404:
            raise EngineError(f"{SERVICE}: request {remote.request_id} is unknown or expired")
        if not 200 <= response.status_code < 300:
            raise EngineError(f"{SERVICE}: poll the job: {describe_error(response)}")
        return parse_status(response.json())

    @staticmethod
    def _finished(status: Status, remote: RemoteJob) -> bool:
        if status.state != "COMPLETED":
            return False
        if status.error:
            raise EngineError(f"{SERVICE}: request {remote.request_id} failed: {status.error}")
        return True

    @staticmethod
    def _report(status: Status, remote: RemoteJob, clock: Clock, job: EngineJob) -> None:
        state = "queued" if status.state == "IN_QUEUE" else "running"
        job.report(Progress(state, clock.elapsed(), request_id=remote.request_id,
                            queue_position=status.queue_position, message=status.message))

    async def fetch(self, spec: ModelSpec, remote: RemoteJob) -> tuple[str, Mapping[str, object]]:
        response = await send(
            self.client, "GET", remote.result_url, service=SERVICE, what="fetch the result", policy=IDEMPOTENT,
            headers=self._headers(),
        )
        _check_auth(response, "fetch the result")
        if response.status_code == 422:
            raise EngineRejected(f"{SERVICE}: {spec.id} refused the request: {describe_error(response)}")
        if response.status_code == 404:
            raise EngineError(f"{SERVICE}: the result of {remote.request_id} is gone (results expire)")
        if response.status_code != 200:
            raise EngineError(f"{SERVICE}: {spec.id}: {describe_error(response)}")
        body = await asyncio.to_thread(response.json)  # megabytes, when the audio comes inline
        output = body.get(spec.output_key)
        url = output.get("url") if isinstance(output, Mapping) else output  # SA 2.5 may give a plain URL
        if not isinstance(url, str):
            raise EngineError(f"{SERVICE}: {spec.id}: the result has no {spec.output_key}.url")
        said: dict[str, object] = {}
        if (units := response.headers.get("x-fal-billable-units")) is not None:
            said["billed_units"] = units
        for key in ("seed", "prompt"):  # what the model used (SA 3 reports its seed, and an expanded prompt)
            if key in body:
                said[f"service_{key}"] = body[key]
        return url, said

    async def cancel(self, remote: RemoteJob) -> str:
        if not remote.cancel_url:
            return f"fal gave request {remote.request_id} no cancel address; it may still run and be billed"
        response = await self.client.put(remote.cancel_url, headers=self._headers(), timeout=5.0)
        status = ""
        with contextlib.suppress(ValueError, AttributeError):
            status = str(response.json().get("status", ""))
        if response.status_code == 202 or status == "CANCELLATION_REQUESTED":
            return f"fal stops request {remote.request_id} (CANCELLATION_REQUESTED)"
        if status == "ALREADY_COMPLETED":
            return (f"fal had already finished request {remote.request_id} (ALREADY_COMPLETED): it is billed;"
                    f" inpaint-bridge resume {remote.request_id} collects the result")
        return (f"fal answered the cancel of request {remote.request_id} with HTTP {response.status_code}"
                f" {status or ''}".rstrip() + "; it may still run and be billed")


class FalEngine(HostedEngine):
    """fal.ai, with a client-side limit on concurrent jobs (fal starts accounts at 2)."""

    def __init__(self, *, key: str | None, queue_url: str = DEFAULT_QUEUE_URL, rest_url: str = DEFAULT_REST_URL,
                 concurrency: int = 2, client: httpx.AsyncClient | None = None) -> None:
        super().__init__(SERVICE, key=key, key_variable="FAL_KEY", concurrency=concurrency, client=client)
        self.wire = FalWire(self.client, key, queue_url, rest_url)
        self.endpoint = queue_url

    @property
    def capabilities(self) -> Capabilities:
        return CAPABILITIES

    def readiness(self) -> str | None:
        reason = super().readiness()
        if reason is None and self._key is not None and ":" not in self._key:
            return "FAL_KEY is not of the form <key_id>:<key_secret>"
        return reason
