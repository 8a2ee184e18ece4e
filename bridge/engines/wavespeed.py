"""The ``wavespeed`` engine: WaveSpeedAI's API v3 (remote-apis.md §2).

Submit ``POST /api/v3/{model}`` with Bearer auth, poll
``GET /api/v3/predictions/{id}/result`` every 0.1 s at first, at most every 0.5 s, until
``completed`` (whose answer carries the outputs: no second fetch) or ``failed``; the excerpt goes
through the media upload (``/api/v3/media/upload/binary``) and the model reads it from the
``audio`` field. Answers come in a ``{"code", "message", "data"}`` envelope whose ``code``
is checked as well as the HTTP status. The API has no cancel: at a deadline the bridge
stops waiting and says so.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping

import httpx

from bridge.engines.base import Capabilities, EngineJob, Progress
from bridge.engines.http import IDEMPOTENT, SUBMIT, send
from bridge.engines.models import ModelSpec, models_of
from bridge.engines.remote import Clock, HostedEngine, RemoteJob
from bridge.errors import EngineError, EngineRejected, EngineUnavailable
from bridge.model import Operation, Value

__all__ = ["WaveSpeedEngine", "WaveSpeedWire", "envelope"]

DEFAULT_URL = "https://api.wavespeed.ai"
POLL_FIRST_S = 0.1
POLL_MAX_S = 0.5
SERVICE = "wavespeed"

CAPABILITIES = Capabilities(
    name="wavespeed",
    description="WaveSpeedAI hosted Stable Audio 3: inpainting and audio-to-audio",
    operations=frozenset({Operation.INPAINT, Operation.TRANSFORM}),
    min_duration_s=0.01,
    max_duration_s=max(m.max_input_s for m in models_of(SERVICE)),  # each model's own limit rules
    default_context_s=12.0,
    max_context_s=60.0,
    uses_prompt=True,
    needs_key=True,
    models=tuple(m.id for m in models_of(SERVICE)),
)


def envelope(response: httpx.Response, what: str) -> Mapping[str, object]:
    """The ``data`` of a WaveSpeed answer, or the error it carries, in the service's words."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    message = ""
    if isinstance(body, Mapping):
        message = str(body.get("message") or body.get("error") or "")
    if response.status_code == 401:
        raise EngineUnavailable(f"{SERVICE}: {what}: {message or 'unauthorised'} (check WAVESPEED_API_KEY)")
    if response.status_code in (400, 422):
        raise EngineRejected(f"{SERVICE}: {what}: {message or response.text[:300]}")
    if response.status_code != 200 or not isinstance(body, Mapping):
        raise EngineError(f"{SERVICE}: {what}: HTTP {response.status_code} {message or response.text[:200]}")
    code = body.get("code", 200)
    data = body.get("data")
    if code != 200 or not isinstance(data, Mapping):
        raise EngineError(f"{SERVICE}: {what}: {message or 'no data'} (code {code})")
    return data


class WaveSpeedWire:
    def __init__(self, client: httpx.AsyncClient, key: str | None, base_url: str) -> None:
        self.client = client
        self._key = key
        self.base_url = base_url.rstrip("/")
        self._completed: dict[str, Mapping[str, object]] = {}
        """The completed poll answers not yet fetched, by prediction id: they carry the outputs."""

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._key}"}

    async def send_audio(self, data: bytes, clock: Clock, job: EngineJob) -> str:
        """The current upload (a ticket, then a signed PUT without the key), or the binary upload where
        the service does not offer tickets."""
        response = await send(
            self.client, "POST", f"{self.base_url}/api/v3/media/uploads", service=SERVICE,
            what="ask for an upload ticket", policy=IDEMPOTENT, headers=self._headers(),
            json={"filename": "excerpt.wav", "size": len(data), "content_type": "audio/wav"},
        )
        if response.status_code in (404, 405):
            return await self._send_binary(data)
        ticket = envelope(response, "ask for an upload ticket")
        upload, url = ticket.get("upload"), ticket.get("download_url")
        if not isinstance(upload, dict) or not isinstance(upload.get("url"), str) or not isinstance(url, str):
            raise EngineError(f"{SERVICE}: the upload ticket has no upload.url or download_url")
        given = upload.get("headers")
        headers = given if isinstance(given, dict) else {}
        put = await send(
            self.client, str(upload.get("method", "PUT")), upload["url"], service=SERVICE, what="upload the excerpt",
            policy=IDEMPOTENT, content=data, headers={str(k): str(v) for k, v in headers.items()},
            timeout=httpx.Timeout(None, connect=10.0),
        )
        if not 200 <= put.status_code < 300:
            raise EngineError(f"{SERVICE}: upload the excerpt: HTTP {put.status_code}")
        return url

    async def _send_binary(self, data: bytes) -> str:
        response = await send(
            self.client, "POST", f"{self.base_url}/api/v3/media/upload/binary", service=SERVICE,
            what="upload the excerpt", policy=IDEMPOTENT, files={"file": ("excerpt.wav", data, "audio/wav")},
            headers=self._headers(), timeout=httpx.Timeout(None, connect=10.0),
        )
        url = envelope(response, "upload the excerpt").get("download_url")
        if not isinstance(url, str):
            raise EngineError(f"{SERVICE}: upload answer has no download_url")
        return url

    async def submit(self, spec: ModelSpec, inputs: dict[str, Value]) -> RemoteJob:
        response = await send(
            self.client, "POST", f"{self.base_url}/api/v3/{spec.id}", service=SERVICE, what=f"submit to {spec.id}",
            policy=SUBMIT, json=inputs, headers=self._headers(),
        )
        data = envelope(response, f"submit to {spec.id}")
        if not isinstance(data.get("id"), str):
            raise EngineError(f"{SERVICE}: submit answer has no data.id")
        return self.resume(spec, str(data["id"]))

    def resume(self, spec: ModelSpec, request_id: str) -> RemoteJob:
        url = f"{self.base_url}/api/v3/predictions/{request_id}/result"
        return RemoteJob(request_id, url, url, None)

    async def wait(self, remote: RemoteJob, clock: Clock, job: EngineJob) -> None:
        interval = POLL_FIRST_S
        while True:
            response = await send(
                self.client, "GET", remote.status_url, service=SERVICE, what="poll the job", policy=IDEMPOTENT,
                headers=self._headers(),
            )
            data = envelope(response, "poll the job")
            status = str(data.get("status", ""))
            if status == "completed":
                self._completed[remote.request_id] = data
                return
            if status in {"failed", "cancelled", "timeout"}:
                raise EngineError(f"{SERVICE}: prediction {remote.request_id} {status}: {data.get('error') or '-'}")
            job.report(Progress("queued" if status == "created" else "running", clock.elapsed(),
                                request_id=remote.request_id))
            await asyncio.sleep(interval)
            interval = min(POLL_MAX_S, interval * 1.5)

    async def fetch(self, spec: ModelSpec, remote: RemoteJob) -> tuple[str, Mapping[str, object]]:
        data = self._completed.pop(remote.request_id, None)
        if data is None:
            response = await send(
                self.client, "GET", remote.result_url, service=SERVICE, what="fetch the result", policy=IDEMPOTENT,
                headers=self._headers(),
            )
            data = envelope(response, "fetch the result")
        outputs = data.get("outputs")
        if not isinstance(outputs, list) or not outputs or not isinstance(outputs[0], str):
            raise EngineError(f"{SERVICE}: prediction {remote.request_id} completed without an output")
        return outputs[0], {}

    async def cancel(self, remote: RemoteJob) -> str:
        """WaveSpeed has no cancel endpoint; the prediction finishes on its own, and is billed."""
        return (f"WaveSpeed has no cancel: prediction {remote.request_id} goes on at the service and is billed;"
                f" inpaint-bridge resume {remote.request_id} --engine wavespeed (or the daemon, for its own jobs)"
                " can still collect it")


class WaveSpeedEngine(HostedEngine):
    """WaveSpeedAI, with a client-side limit on concurrent jobs (new accounts run 2)."""

    def __init__(self, *, key: str | None, base_url: str = DEFAULT_URL, concurrency: int = 2,
                 client: httpx.AsyncClient | None = None) -> None:
        super().__init__(SERVICE, key=key, key_variable="WAVESPEED_API_KEY", concurrency=concurrency, client=client)
        self.wire = WaveSpeedWire(self.client, key, base_url)
        self.endpoint = base_url

    @property
    def capabilities(self) -> Capabilities:
        return CAPABILITIES
