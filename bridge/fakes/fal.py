"""A faithful fake of fal.ai: queue API, storage upload and file CDN (remote-apis.md §1, §6).

Two servers, as fal has two hosts: ``queue`` (submit, status, result, cancel, and sync
runs under ``/sync``) and ``rest`` (``/storage/upload/initiate``, the signed ``PUT``, and
file downloads for uploads and outputs).

What it does as fal does: ``Authorization: Key id:secret`` (401 otherwise, 403 when the
balance is exhausted); status and result URLs under ``owner/app`` only, whatever the
model's path; 202 with ``queue_position`` while queued, ``logs`` while running, 200 once
COMPLETED, or over the status stream (server-sent events on ``…/status/stream``, one status
per event, ending after COMPLETED); input validation against each model's schema reported as a 422 with a
pydantic ``detail`` list at *result* time (the queue accepts anything); failures as
COMPLETED with ``error``/``error_type``; results that expire; cancel as PUT.

Faults (``fake.queue.faults.add(kind, fault)``, kinds ``submit``, ``status``, ``result``,
``cancel``, ``initiate``, ``upload``, ``file``): ``ingress_502/503/504`` (nginx HTML, no
``x-fal-request-id``), ``rate_limit`` (429 with ``Retry-After``), ``server_error``,
``user_timeout`` (504 with ``X-Fal-Request-Timeout-Type: user``), ``drop``, ``slow``, and
for ``submit`` also ``drop_after_accept`` (the job is queued, the answer is lost), for ``stream``
also ``drop_midway`` (one event, then the connection is cut), for ``file`` also ``truncated`` (the
first half of the file, with a 200).
Job faults (``fake.job_faults.add("job", ...)``): ``runner_disconnected``, ``request_timeout``.

A job moves on by status polls (``queue_polls``, ``progress_polls``; each stream event counts
as one), or, with ``run_s``, by the clock: the model runs as the job is submitted and the job
is COMPLETED ``run_s`` seconds later, whenever that is observed (``completed_at`` is that moment).
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bridge.fakes.fal_schemas import SCHEMAS, field_error, validate
from bridge.fakes.model import SR, fake_generate, fake_inpaint, fake_transform, read_input, write_output
from bridge.fakes.server import FakeServer, Faults, Reply, Request, StreamDropped, json_reply

__all__ = ["UNSEEDED", "FakeFal", "TEST_KEY"]

TEST_KEY = "fake-key-id:fake-key-secret"
UNSEEDED = 12345
"""The seed a fake model uses when the request has none (Stable Audio Open takes none)."""

@dataclass
class _Job:
    id: str
    model: str
    body: dict[str, Any]
    polls: int = 0
    state: str = "IN_QUEUE"
    completed_at: float | None = None
    output: dict[str, Any] | None = None
    error: tuple[int, dict[str, Any]] | None = None
    cancelled: bool = False
    fault: str | None = None
    logs: list[dict[str, str]] = field(default_factory=list)
    ready_at: float | None = None
    """With ``run_s``: when the job completes."""
    outcome: tuple[dict[str, Any] | None, tuple[int, dict[str, Any]] | None] | None = None


class FakeFal:
    """fal.ai on loopback. ``queue_url`` and ``rest_url`` go into the bridge's settings."""

    def __init__(self, *, key: str = TEST_KEY, queue_polls: int = 2, progress_polls: int = 1,
                 delay: int = 0, gain_db: float = -1.5, result_ttl_s: float = 360.0, queue_port: int = 0,
                 rest_port: int = 0, run_s: float | None = None, stream: bool = True,
                 stream_step_s: float = 0.05) -> None:
        self.key = key
        self.run_s = run_s
        self.stream = stream
        self.stream_step_s = stream_step_s
        self.locked = False
        self.queue_polls = queue_polls
        self.progress_polls = progress_polls
        self.delay = delay
        self.gain_db = gain_db
        self.garbled = False
        self.result_ttl_s = result_ttl_s
        self.job_faults = Faults()
        self.jobs: dict[str, _Job] = {}
        self.files: dict[str, tuple[bytes, str]] = {}
        self.accepted: list[str] = []
        self.cancels: list[str] = []
        self._lock = threading.Lock()
        app = r"(?P<owner>[\w.-]+)/(?P<app>[\w.-]+)"
        self.queue = FakeServer([
            ("GET", rf"/{app}/requests/(?P<id>[\w-]+)/status", "status", self._status),
            ("GET", rf"/{app}/requests/(?P<id>[\w-]+)/status/stream", "stream", self._stream),
            ("GET", rf"/{app}/requests/(?P<id>[\w-]+)", "result", self._result),
            ("PUT", rf"/{app}/requests/(?P<id>[\w-]+)/cancel", "cancel", self._cancel),
            ("POST", r"/sync/(?P<model>.+)", "sync", self._sync),
            ("POST", r"/(?P<model>.+)", "submit", self._submit),
        ], on_fault=self._fault, port=queue_port)
        self.rest = FakeServer([
            ("POST", r"/storage/upload/initiate", "initiate", self._initiate),
            ("PUT", r"/uploads/(?P<token>[\w-]+)", "upload", self._upload),
            ("GET", r"/files/(?P<token>[\w-]+)/(?P<name>[\w.-]+)", "file", self._file),
        ], on_fault=self._fault, port=rest_port)

    # ------------------------------------------------------------------ lifecycle

    @property
    def queue_url(self) -> str:
        return self.queue.url

    @property
    def rest_url(self) -> str:
        return self.rest.url

    def start(self) -> FakeFal:
        self.queue.start()
        self.rest.start()
        return self

    def stop(self) -> None:
        self.queue.stop()
        self.rest.stop()

    def __enter__(self) -> FakeFal:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def submits(self, model: str | None = None) -> int:
        """Jobs accepted (the paid submits), for one model or all."""
        with self._lock:
            return sum(1 for j in self.accepted if model is None or self.jobs[j].model == model)

    # ------------------------------------------------------------------ faults and auth

    def _fault(self, fault: str, kind: str, request: Request) -> Reply | None:
        if fault == "user_timeout":
            return json_reply(504, {"detail": "Request timed out", "error_type": "request_timeout"},
                              {"X-Fal-Request-Timeout-Type": "user", "x-fal-request-id": "timeout"})
        if fault == "drop_after_accept" and kind == "submit":
            self._submit(request)
            return Reply(0, drop=True)
        if fault == "drop_midway" and kind == "stream":
            return self._stream(request, cut_after=1)
        if fault == "truncated" and kind == "file":  # a CDN that ends the file early, and says it is whole
            whole = self._file(request)
            body = whole.body[: len(whole.body) // 2]
            return Reply(whole.status, body, whole.headers)
        return None

    def _auth(self, request: Request) -> Reply | None:
        header = request.headers.get("authorization", "")
        scheme, _, key = header.partition(" ")
        if scheme != "Key" or ":" not in key:
            detail = "Invalid Key Authorization header format. Expected '<key_id>:<key_secret>'."
            return json_reply(401, {"detail": detail})
        if key != self.key:
            return json_reply(401, {"detail": "No user found for Key ID and Secret"})
        if self.locked:
            return json_reply(403, {"detail": "User is locked. Reason: Exhausted balance. Top up your balance at"
                                              " fal.ai/dashboard/billing"})
        return None

    # ------------------------------------------------------------------ queue

    def _urls(self, job: _Job) -> dict[str, str]:
        app = "/".join(job.model.split("/")[:2])
        base = f"{self.queue_url}/{app}/requests/{job.id}"
        return {"request_id": job.id, "response_url": base, "status_url": f"{base}/status",
                "cancel_url": f"{base}/cancel"}

    def _submit(self, request: Request) -> Reply:
        if (denied := self._auth(request)) is not None:
            return denied
        model = request.match["model"]
        if model not in SCHEMAS:
            return json_reply(404, {"detail": f"Path /{model} not found"})
        try:
            body = request.json()
        except ValueError:
            return json_reply(422, {"detail": [{"loc": ["body"], "msg": "JSON decode error", "type": "json_invalid"}]})
        job = _Job(str(uuid.uuid4()), model, body if isinstance(body, dict) else {}, fault=self.job_faults.take("job"))
        if self.run_s is not None:
            job.outcome = self._outcome(job)
            job.ready_at = time.monotonic() + self.run_s
        with self._lock:
            self.jobs[job.id] = job
            self.accepted.append(job.id)
            position = sum(1 for j in self.jobs.values() if j.state == "IN_QUEUE") - 1
        return json_reply(200, {"status": "IN_QUEUE", "queue_position": position, **self._urls(job)},
                          {"x-fal-request-id": job.id})

    def _job(self, request: Request) -> _Job | None:
        job = self.jobs.get(request.match["id"])
        if job is None or "/".join(job.model.split("/")[:2]) != f"{request.match['owner']}/{request.match['app']}":
            return None
        return job

    def _status(self, request: Request) -> Reply:
        if (denied := self._auth(request)) is not None:
            return denied
        job = self._job(request)
        if job is None:
            return json_reply(404, {"detail": "Request not found"})
        with self._lock:
            self._advance(job)
            body = self._status_body(job, logs=request.query.get("logs") in {"1", "true"})
        return json_reply(200 if job.state == "COMPLETED" else 202, body, {"x-fal-request-id": job.id})

    def _stream(self, request: Request, cut_after: int | None = None) -> Reply:
        """The status stream: an event per status until COMPLETED (``text/event-stream``)."""
        if not self.stream:
            return json_reply(404, {"detail": f"Path {request.path} not found"})
        if (denied := self._auth(request)) is not None:
            return denied
        job = self._job(request)
        if job is None:
            return json_reply(404, {"detail": "Request not found"})
        logs = request.query.get("logs") in {"1", "true"}

        def events() -> Iterator[bytes]:
            sent = 0
            while True:
                with self._lock:
                    self._advance(job)
                    body = self._status_body(job, logs=logs)
                yield f"data: {json.dumps(body)}\n\n".encode()
                sent += 1
                if job.state == "COMPLETED":
                    return
                if cut_after is not None and sent >= cut_after:
                    raise StreamDropped
                step = self.stream_step_s
                if job.ready_at is not None:
                    step = max(0.0, min(step, job.ready_at - time.monotonic()))
                time.sleep(step)

        return Reply(200, chunks=events(), headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
                                                    "x-fal-request-id": job.id})

    def _status_body(self, job: _Job, *, logs: bool) -> dict[str, Any]:
        body: dict[str, Any] = {"status": job.state, "request_id": job.id, **self._urls(job)}
        if job.state == "IN_QUEUE":
            body["queue_position"] = max(0, self.queue_polls - job.polls)
        else:
            body["logs"] = job.logs if logs else None
        if job.state == "COMPLETED":
            body["metrics"] = {"inference_time": 0.01}
            if job.error is not None and job.error[0] >= 500:
                body["error"] = job.error[1]["detail"]
                body["error_type"] = job.error[1].get("error_type")
        return body

    def _advance(self, job: _Job) -> None:
        job.polls += 1
        if job.state == "COMPLETED":
            return
        if job.cancelled:
            self._complete(job, error=(400, {"detail": "Request was cancelled", "error_type": "request_cancelled"}))
        elif job.ready_at is not None:
            if time.monotonic() >= job.ready_at:
                self._complete(job)
                job.completed_at = job.ready_at
            else:
                job.state = "IN_PROGRESS"
        elif job.polls > self.queue_polls + self.progress_polls:
            self._complete(job)
        elif job.polls > self.queue_polls:
            job.state = "IN_PROGRESS"
            job.logs.append({"message": f"step {job.polls - self.queue_polls}/{self.progress_polls}",
                             "level": "INFO", "source": "USER", "timestamp": "2026-01-01T00:00:00Z"})

    def _complete(self, job: _Job, error: tuple[int, dict[str, Any]] | None = None) -> None:
        job.state = "COMPLETED"
        job.completed_at = time.monotonic()
        if error is None:
            job.output, error = job.outcome or self._outcome(job)
        job.error = error

    def _outcome(self, job: _Job) -> tuple[dict[str, Any] | None, tuple[int, dict[str, Any]] | None]:
        """What the model makes of the job: its output, or the error the service reports."""
        if job.fault == "runner_disconnected":
            return None, (503, {"detail": "Runner disconnected", "error_type": "runner_disconnected"})
        if job.fault == "request_timeout":
            return None, (504, {"detail": "Request timed out", "error_type": "request_timeout"})
        problems = validate(job.model, job.body)
        if problems:
            return None, (422, {"detail": problems})
        try:
            return self._run_model(job.model, job.body), None
        except _ModelError as exc:
            return None, (422, {"detail": [field_error(exc.field, exc.message, "value_error", None)]})

    def _result(self, request: Request) -> Reply:
        if (denied := self._auth(request)) is not None:
            return denied
        job = self._job(request)
        if job is None:
            return json_reply(404, {"detail": "Request not found"})
        if job.state != "COMPLETED":
            return json_reply(400, {"detail": "Request is still in progress"})
        assert job.completed_at is not None
        if time.monotonic() - job.completed_at > self.result_ttl_s:
            return json_reply(404, {"detail": "Request not found"})
        if job.error is not None:
            status, body = job.error
            headers = {"x-fal-request-id": job.id, "x-fal-billable-units": "0"}
            if "error_type" in body:
                headers["x-fal-error-type"] = body["error_type"]
            return json_reply(status, body, headers)
        return json_reply(200, job.output, {"x-fal-request-id": job.id, "x-fal-billable-units": "1"})

    def _cancel(self, request: Request) -> Reply:
        if (denied := self._auth(request)) is not None:
            return denied
        job = self._job(request)
        if job is None:
            return json_reply(404, {"status": "NOT_FOUND"})
        with self._lock:
            self.cancels.append(job.id)
            if job.state == "COMPLETED":
                return json_reply(400, {"status": "ALREADY_COMPLETED"})
            job.cancelled = True
        return json_reply(202, {"status": "CANCELLATION_REQUESTED"})

    def _sync(self, request: Request) -> Reply:
        if (denied := self._auth(request)) is not None:
            return denied
        model = request.match["model"]
        if model not in SCHEMAS:
            return json_reply(404, {"detail": f"Path /{model} not found"})
        body = request.json()
        problems = validate(model, body)
        if problems:
            return json_reply(422, {"detail": problems}, {"x-fal-billable-units": "0"})
        assert isinstance(body, dict)
        try:
            return json_reply(200, self._run_model(model, body))
        except _ModelError as exc:
            return json_reply(422, {"detail": [field_error(exc.field, exc.message, "value_error", None)]})

    # ------------------------------------------------------------------ the model

    def _fetch_input(self, url: str) -> np.ndarray:
        if url.startswith("data:"):
            data = base64.b64decode(url.partition(",")[2])
        else:
            token = url.rstrip("/").split("/")[-2] if "/files/" in url else ""
            if not url.startswith(self.rest_url) or token not in self.files:
                raise _ModelError("audio_url", "could not fetch the file at audio_url")
            data = self.files[token][0]
        try:
            return read_input(data)
        except ValueError as exc:
            raise _ModelError("audio_url", str(exc)) from exc

    def _run_model(self, model: str, body: dict[str, Any]) -> dict[str, Any]:
        schema = SCHEMAS[model]
        seed = int(body.get("seed", UNSEEDED))
        kind = schema["kind"]
        if kind == "generate":
            out = fake_generate(float(body.get("seconds_total", 30)), seed=seed)
        else:
            audio = self._fetch_input(str(body["audio_url"]))
            seconds = len(audio) / SR
            if seconds > schema["max_s"] or seconds < schema["min_s"]:
                raise _ModelError("audio_url", f"audio must be {schema['min_s']:g} to {schema['max_s']:g} s long,"
                                               f" got {seconds:.2f} s")
            if kind == "transform":
                out = fake_transform(audio, duration=float(body.get("duration", 30.0)),
                                     strength=float(body.get("init_noise_level", 0.9)), seed=seed)
            else:
                if kind == "inpaint25":
                    mask = (float(body.get("mask_start", 30)), float(body.get("mask_end", 190)))
                    total = float(body.get("seconds_total", round(seconds)))
                    if total > seconds + 1e-6:
                        raise _ModelError("seconds_total", f"seconds_total ({total:g}) is longer than the audio"
                                                           f" ({seconds:.2f} s)")
                    if mask[1] > total:
                        raise _ModelError("mask_end", f"mask_end ({mask[1]:g}) is after seconds_total ({total:g})")
                    audio = audio[: round(total * SR)]
                else:
                    mask = (float(body["mask_start_seconds"]), float(body["mask_end_seconds"]))
                if mask[1] > seconds + 1e-6:
                    raise _ModelError("mask_end_seconds" if kind == "inpaint" else "mask_end",
                                      f"mask ends at {mask[1]:g} s, after the audio ({seconds:.2f} s)")
                out = fake_inpaint(audio, mask, seed=seed, delay=self.delay, gain_db=self.gain_db)
                if self.garbled:  # a model that does not reproduce the context: the fit must refuse it
                    out = fake_generate(len(out) / SR, seed=seed)
        default = "mp3" if "stable-audio-3" in model else "wav"
        data, mime, fmt = write_output(out, str(body.get("output_format", default)))
        name = f"output.{fmt}"
        if body.get("sync_mode"):
            url = f"data:{mime};base64,{base64.b64encode(data).decode()}"
        else:
            token = uuid.uuid4().hex
            self.files[token] = (data, mime)
            url = f"{self.rest_url}/files/{token}/{name}"
        file = {"url": url, "content_type": mime, "file_name": name, "file_size": len(data)}
        # SA 2.5's documented output: the audio "may be a plain URL string as well as a file object"
        result: dict[str, Any] = {schema["out"]: url if kind == "inpaint25" else file}
        if kind != "generate":
            result["seed"] = seed
        if "stable-audio-3" in model:  # SA 3 says which prompt it used: expanded, when asked to
            expanded = body.get("enable_prompt_expansion")
            result["prompt"] = f"{body['prompt']}, rich and detailed" if expanded else body.get("prompt", "")
        return result

    # ------------------------------------------------------------------ storage

    def _initiate(self, request: Request) -> Reply:
        if (denied := self._auth(request)) is not None:
            return denied
        body = request.json()
        name = str(body.get("file_name", "upload.bin")) if isinstance(body, dict) else "upload.bin"
        token = uuid.uuid4().hex
        return json_reply(200, {"upload_url": f"{self.rest_url}/uploads/{token}",
                                "file_url": f"{self.rest_url}/files/{token}/{name}"})

    def _upload(self, request: Request) -> Reply:
        self.files[request.match["token"]] = (request.body, request.headers.get("content-type", ""))
        return Reply(200)

    def _file(self, request: Request) -> Reply:
        entry = self.files.get(request.match["token"])
        if entry is None:
            return Reply(404, b"Not Found")
        return Reply(200, entry[0], {"Content-Type": entry[1] or "application/octet-stream"})


class _ModelError(Exception):
    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message
