"""A faithful fake of WaveSpeedAI's API v3 (remote-apis.md §2, §6).

``Authorization: Bearer <key>``; every answer in the ``{"code", "message", "data"}``
envelope; ``POST /api/v3/{model}`` creates a prediction (``status: created``) that moves
to ``processing`` and then ``completed`` (``outputs: [url]``) or ``failed`` (``error``)
as it is polled at ``/api/v3/predictions/{id}/result``; uploads through
``/api/v3/media/upload/binary`` (multipart ``file``) and are served back under ``/media``.

Faults (``fake.server.faults.add(kind, fault)``, kinds ``submit``, ``result``, ``upload``,
``media``): those of :mod:`bridge.fakes.server`; job faults (``fake.job_faults.add("job",
"failed")``) make the prediction fail.
"""

from __future__ import annotations

import email.parser
import email.policy
import threading
import uuid
from dataclasses import dataclass
from typing import Any

from bridge.fakes.model import fake_inpaint, fake_transform, read_input, write_output
from bridge.fakes.server import FakeServer, Faults, Reply, Request, json_reply

__all__ = ["TEST_KEY", "FakeWaveSpeed"]

TEST_KEY = "fake-wavespeed-key"

MODELS = {
    "stability-ai/stable-audio-3/audio-inpainting": "inpaint",
    "stability-ai/stable-audio-3/audio-to-audio": "transform",
}
_RANGES = {"num_inference_steps": (1, 100), "guidance_scale": (0, 25), "init_noise_level": (0, 1),
           "duration": (1, 120), "mask_start_seconds": (0, 380), "mask_end_seconds": (0, 380)}


def _envelope(data: object, code: int = 200, message: str = "success") -> Reply:
    return json_reply(code if code != 200 else 200, {"code": code, "message": message, "data": data})


@dataclass
class _Prediction:
    id: str
    model: str
    body: dict[str, Any]
    polls: int = 0
    status: str = "created"
    outputs: tuple[str, ...] = ()
    error: str = ""
    fault: str | None = None


class FakeWaveSpeed:
    """WaveSpeedAI on loopback; ``url`` goes into the bridge's settings."""

    def __init__(self, *, key: str = TEST_KEY, created_polls: int = 1, processing_polls: int = 1,
                 delay: int = 0, gain_db: float = -1.5, port: int = 0) -> None:
        self.key = key
        self.created_polls = created_polls
        self.processing_polls = processing_polls
        self.delay = delay
        self.gain_db = gain_db
        self.job_faults = Faults()
        self.predictions: dict[str, _Prediction] = {}
        self.media: dict[str, tuple[bytes, str]] = {}
        self.tickets: dict[str, tuple[str, int, str]] = {}
        self.legacy_only = False
        """A service without the ticket upload (``POST /api/v3/media/uploads``): it answers 404."""
        self.accepted: list[str] = []
        self._lock = threading.Lock()
        self.server = FakeServer([
            ("POST", r"/api/v3/media/upload/binary", "upload", self._upload),
            ("POST", r"/api/v3/media/uploads", "ticket", self._ticket),
            ("PUT", r"/signed/(?P<token>[\w-]+)", "put", self._put),
            ("GET", r"/api/v3/predictions/(?P<id>[\w-]+)(?:/result)?", "result", self._result),
            ("GET", r"/media/(?P<token>[\w-]+)/(?P<name>[\w.-]+)", "media", self._media),
            ("POST", r"/api/v3/(?P<model>.+)", "submit", self._submit),
        ], port=port)

    @property
    def url(self) -> str:
        return self.server.url

    def start(self) -> FakeWaveSpeed:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> FakeWaveSpeed:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def submits(self) -> int:
        with self._lock:
            return len(self.accepted)

    def _auth(self, request: Request) -> Reply | None:
        if request.headers.get("authorization", "") != f"Bearer {self.key}":
            return json_reply(401, {"code": 401, "message": "Unauthorized: invalid authentication", "data": None})
        return None

    def _upload(self, request: Request) -> Reply:
        if (denied := self._auth(request)) is not None:
            return denied
        content_type = request.headers.get("content-type", "")
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + request.body
        )
        for part in message.iter_parts() if message.is_multipart() else []:
            if part.get_param("name", header="content-disposition") == "file":
                data = part.get_payload(decode=True)
                name = part.get_filename() or "upload.bin"
                token = uuid.uuid4().hex
                self.media[token] = (bytes(data), part.get_content_type())
                return _envelope({"type": "audio", "download_url": f"{self.url}/media/{token}/{name}",
                                  "filename": name, "size": len(data)})
        return json_reply(400, {"code": 400, "message": "file is required", "data": None})

    def _ticket(self, request: Request) -> Reply:
        """The current upload: a ticket naming a signed PUT, then the bytes go there without the key."""
        if self.legacy_only:
            return json_reply(404, {"code": 404, "message": "not found", "data": None})
        if (denied := self._auth(request)) is not None:
            return denied
        body = request.json()
        if not isinstance(body, dict) or not isinstance(body.get("filename"), str) or not isinstance(
                body.get("size"), int) or not isinstance(body.get("content_type"), str):
            return json_reply(400, {"code": 400, "message": "filename, size and content_type are required",
                                    "data": None})
        if body["size"] > 50 * 1024 * 1024:
            return json_reply(400, {"code": 400, "message": "audio files are limited to 50 MB", "data": None})
        token = uuid.uuid4().hex
        self.tickets[token] = (body["filename"], body["size"], body["content_type"])
        return _envelope({"type": "audio", "download_url": f"{self.url}/media/{token}/{body['filename']}",
                          "filename": body["filename"], "size": body["size"],
                          "upload": {"method": "PUT", "url": f"{self.url}/signed/{token}?signature=fake",
                                     "headers": {"Content-Type": body["content_type"]}}})

    def _put(self, request: Request) -> Reply:
        ticket = self.tickets.pop(request.match["token"], None)
        if ticket is None:
            return Reply(403, b"<Error>signature does not match</Error>")
        name, size, content_type = ticket
        if "authorization" in request.headers:  # a signed URL is the credential; a key must not travel there
            return Reply(400, b"<Error>unexpected Authorization header</Error>")
        if request.headers.get("content-type") != content_type or len(request.body) != size:
            return Reply(403, b"<Error>the upload does not match its ticket</Error>")
        self.media[request.match["token"]] = (request.body, content_type)
        return Reply(200)

    def _media(self, request: Request) -> Reply:
        entry = self.media.get(request.match["token"])
        if entry is None:
            return Reply(404, b"Not Found")
        return Reply(200, entry[0], {"Content-Type": entry[1]})

    def _submit(self, request: Request) -> Reply:
        if (denied := self._auth(request)) is not None:
            return denied
        model = request.match["model"]
        if model not in MODELS:
            return json_reply(404, {"code": 404, "message": f"model {model} not found", "data": None})
        body = request.json()
        if not isinstance(body, dict):
            return json_reply(400, {"code": 400, "message": "invalid JSON body", "data": None})
        problem = self._validate(model, body)
        if problem:
            return json_reply(400, {"code": 400, "message": problem, "data": None})
        pred = _Prediction(f"pred_{uuid.uuid4().hex[:16]}", model, body, fault=self.job_faults.take("job"))
        with self._lock:
            self.predictions[pred.id] = pred
            self.accepted.append(pred.id)
        return _envelope(self._data(pred))

    def _validate(self, model: str, body: dict[str, Any]) -> str | None:
        for name in ("audio", "prompt"):
            if not isinstance(body.get(name), str) or not body[name]:
                return f"{name} is required"
        if "seed" in body:  # the model pages document no seed: a client must not count on one
            return "seed is not a parameter of this model"
        for name, (low, high) in _RANGES.items():
            value = body.get(name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)
                                      or not low <= value <= high):
                return f"{name} must be between {low} and {high}"
        if MODELS[model] == "inpaint" and body.get("mask_end_seconds", 5) <= body.get("mask_start_seconds", 0):
            return "mask_end_seconds must be greater than mask_start_seconds"
        return None

    def _data(self, pred: _Prediction) -> dict[str, Any]:
        return {"id": pred.id, "model": pred.model, "outputs": list(pred.outputs),
                "urls": {"get": f"{self.url}/api/v3/predictions/{pred.id}/result"}, "has_nsfw_contents": [],
                "status": pred.status, "created_at": "2026-01-01T12:00:00.000Z", "error": pred.error,
                "timings": {"inference": 10}}

    def _result(self, request: Request) -> Reply:
        if (denied := self._auth(request)) is not None:
            return denied
        pred = self.predictions.get(request.match["id"])
        if pred is None:
            return json_reply(404, {"code": 404, "message": "prediction not found", "data": None})
        with self._lock:
            pred.polls += 1
            if pred.status in {"created", "processing"}:
                if pred.polls > self.created_polls + self.processing_polls:
                    self._finish(pred)
                elif pred.polls > self.created_polls:
                    pred.status = "processing"
        return _envelope(self._data(pred))

    def _finish(self, pred: _Prediction) -> None:
        if pred.fault == "failed":
            pred.status, pred.error = "failed", "inference failed: CUDA out of memory"
            return
        body = pred.body
        url = str(body["audio"])
        token = url.rstrip("/").split("/")[-2] if "/media/" in url else ""
        if not url.startswith(self.url) or token not in self.media:
            pred.status, pred.error = "failed", "could not download audio"
            return
        try:
            audio = read_input(self.media[token][0])
        except ValueError as exc:
            pred.status, pred.error = "failed", str(exc)
            return
        seed = int(body.get("seed", 7))
        if MODELS[pred.model] == "inpaint":
            mask = (float(body.get("mask_start_seconds", 0)), float(body.get("mask_end_seconds", 5)))
            out = fake_inpaint(audio, mask, seed=seed, delay=self.delay, gain_db=self.gain_db)
        else:
            out = fake_transform(audio, duration=float(body.get("duration", 30)),
                                 strength=float(body.get("init_noise_level", 0.9)), seed=seed)
        data, mime, fmt = write_output(out, str(body.get("output_format", "mp3")))
        token = uuid.uuid4().hex
        self.media[token] = (data, mime)
        pred.status, pred.outputs = "completed", (f"{self.url}/media/{token}/output.{fmt}",)
