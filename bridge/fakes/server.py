"""A small real HTTP server on loopback, with a route table and fault injection.

Each fake service is one :class:`FakeServer`: stdlib ``ThreadingHTTPServer`` in a
background thread, routes as ``(method, pattern, handler)`` rows, and a :class:`Faults`
list that makes the next requests of a kind fail the way the real services fail
(gateway errors without the service's headers, 429, dropped connections, slow answers).
"""

from __future__ import annotations

import json
import re
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

__all__ = ["Faults", "FakeServer", "Reply", "Request", "Seen", "StreamDropped", "json_reply"]


_NGINX = ("<html><head><title>{code}</title></head><body><center><h1>{code}</h1></center>"
          "<hr><center>nginx</center></body></html>")


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes
    match: re.Match[str]

    def json(self) -> object:
        return json.loads(self.body or b"null")


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    drop: bool = False
    """Close the connection without answering."""
    chunks: Iterable[bytes] | None = None
    """A streamed body, sent chunk by chunk as it is produced (``Transfer-Encoding: chunked``); raising
    :class:`StreamDropped` from it closes the connection mid-stream, as a proxy that gives up does."""


class StreamDropped(Exception):
    """Raised by a streamed body to cut the connection without ending the stream."""


@dataclass(frozen=True)
class Seen:
    """A request the server answered: its route kind, path, body size and time spent on it."""

    kind: str
    path: str
    bytes_in: int
    seconds: float


def json_reply(status: int, body: object, headers: Mapping[str, str] | None = None) -> Reply:
    return Reply(status, json.dumps(body).encode(), {"Content-Type": "application/json", **(headers or {})})


Handler = Callable[[Request], Reply]


class Faults:
    """Faults queued per request kind, consumed one per request (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queued: dict[str, list[str]] = {}
        self.slow_s = 1.0

    def add(self, kind: str, fault: str, times: int = 1) -> None:
        with self._lock:
            self._queued.setdefault(kind, []).extend([fault] * times)

    def take(self, kind: str) -> str | None:
        with self._lock:
            queue = self._queued.get(kind)
            return queue.pop(0) if queue else None


def generic_fault(fault: str, request_id_header: str | None) -> Reply | None:
    """The reply for a fault every service shows, or ``None`` for one the service handles itself."""
    if fault.startswith("ingress_"):
        code = int(fault.split("_")[1])
        return Reply(code, _NGINX.format(code=code).encode(), {"Content-Type": "text/html"})
    if fault == "rate_limit":
        return json_reply(429, {"detail": "Too many requests"}, {"Retry-After": "1"})
    if fault == "server_error":
        headers = {request_id_header: "fault"} if request_id_header else {}
        return json_reply(500, {"detail": "Internal server error", "error_type": "internal_error"}, headers)
    if fault == "drop":
        return Reply(0, drop=True)
    return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # a client that went away (a cancelled job, a closed client): nothing to report
        super().handle_error(request, client_address)  # type: ignore[arg-type]


class FakeServer:
    """An HTTP server on ``127.0.0.1`` serving ``routes``; ``kind_of`` names each route for faults."""

    def __init__(self, routes: list[tuple[str, str, str, Handler]], *, port: int = 0,
                 on_fault: Callable[[str, str, Request], Reply | None] | None = None) -> None:
        self.routes = [(method, re.compile(pattern), kind, handler) for method, pattern, kind, handler in routes]
        self.faults = Faults()
        self.on_fault = on_fault
        self.requests: list[Seen] = []
        self._lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", port), self._handler_class())
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name=f"fake-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def count(self, kind: str) -> int:
        with self._lock:
            return sum(1 for seen in self.requests if seen.kind == kind)

    def dispatch(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Reply:
        parts = urlsplit(target)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        for route_method, pattern, kind, handler in self.routes:
            match = pattern.fullmatch(parts.path)
            if route_method != method or match is None:
                continue
            t0 = time.perf_counter()
            try:
                return self._answer(Request(method, parts.path, query, headers, body, match), kind, handler)
            finally:
                with self._lock:
                    self.requests.append(Seen(kind, parts.path, len(body), time.perf_counter() - t0))
        return json_reply(404, {"detail": f"Path {parts.path} not found"})

    def _answer(self, request: Request, kind: str, handler: Handler) -> Reply:
        fault = self.faults.take(kind)
        if fault == "slow":
            time.sleep(self.faults.slow_s)
        elif fault is not None:
            reply = self.on_fault(fault, kind, request) if self.on_fault else None
            reply = reply or generic_fault(fault, None)
            if reply is not None:
                return reply
        return handler(request)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # headers and body go out in separate writes: without this, Nagle's algorithm
                # and the client's delayed ACK stall every small answer by ~40 ms
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    reply = server.dispatch(self.command, self.path, headers, body)
                except Exception as exc:  # a fake's own bug answers 500, loudly
                    reply = json_reply(500, {"detail": f"fake server error: {type(exc).__name__}: {exc}"})
                if reply.drop:
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.chunks is not None:
                    self._stream(reply.chunks)
                    return
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            def _stream(self, chunks: Iterable[bytes]) -> None:
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                try:
                    for chunk in chunks:
                        if chunk:
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                            self.wfile.flush()
                except StreamDropped:
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                except OSError:  # the client went away: nothing to finish
                    self.close_connection = True
                    return
                self.wfile.write(b"0\r\n\r\n")

            do_GET = do_POST = do_PUT = do_DELETE = _serve

            def log_message(self, format: str, *args: object) -> None:
                return None

        return _Handler
