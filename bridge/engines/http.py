"""HTTP for the hosted engines: retries that never pay twice, and httpx errors translated once.

Two retry policies (remote-apis.md §5):

* :data:`SUBMIT`: a paid submit is sent again only when the connection provably never
  reached the server (connect refused or timed out) or the server turned it away with
  429. A read timeout or a dropped connection after the request went out is ambiguous:
  the job may exist, so it is reported, never re-sent.
* :data:`IDEMPOTENT`: polls, result fetches, cancels, uploads and downloads are retried on
  transport errors, 408, 429 and 5xx, with backoff (honouring ``Retry-After``).

Keys travel in headers only, never in URLs, and httpx's own request log is silenced.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import email.utils
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass

import httpx

from bridge.errors import EngineError, EngineRejected, EngineTimeout, EngineUnavailable, EngineUnreachable

__all__ = ["CLOCK", "IDEMPOTENT", "SUBMIT", "Clock", "RetryPolicy", "data_uri", "download", "read_data_uri", "send"]

logging.getLogger("httpx").setLevel(logging.WARNING)
logging.getLogger("httpcore").setLevel(logging.WARNING)

TIMEOUT = httpx.Timeout(60.0, connect=10.0)
MAX_DOWNLOAD_BYTES = 1 << 30


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int
    statuses: frozenset[int]
    connect_only: bool
    """Retry transport errors only when the request cannot have reached the server."""
    base_s: float = 0.5
    cap_s: float = 8.0


SUBMIT = RetryPolicy(attempts=5, statuses=frozenset({429}), connect_only=True)
IDEMPOTENT = RetryPolicy(attempts=8, statuses=frozenset({408, 429, 500, 502, 503, 504}), connect_only=False)

_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout)


@dataclass
class Clock:
    """What backoff waits with and reads the time from (tests inject their own, and never sleep)."""

    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    now: Callable[[], float] = time.time


CLOCK = Clock()


def _delay(policy: RetryPolicy, attempt: int, response: httpx.Response | None, now: float) -> float:
    if response is not None:
        after = _retry_after(response.headers.get("retry-after"), now)
        if after is not None:
            return min(after, 60.0)
    return float(min(policy.base_s * 2.0**attempt, policy.cap_s)) * random.uniform(0.75, 1.25)


def _retry_after(value: str | None, now: float) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, float(when.timestamp()) - now)


@contextlib.contextmanager
def _translated(service: str, what: str) -> Iterator[None]:
    """httpx errors become engine errors naming the service, the step and the cause (never a key)."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise EngineTimeout(f"{service}: {what}: timed out ({type(exc).__name__})") from exc
    except (httpx.ConnectError, httpx.UnsupportedProtocol) as exc:
        raise EngineUnreachable(f"{service}: {what}: {_cause(exc)}") from exc
    except httpx.TransportError as exc:
        raise EngineUnavailable(f"{service}: {what}: {_cause(exc)}") from exc
    except httpx.InvalidURL as exc:
        raise EngineUnavailable(f"{service}: {what}: invalid URL ({exc})") from exc


def _cause(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect ({exc or 'refused'})"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "the connection dropped before an answer came"
    return f"{type(exc).__name__} ({exc})"


async def send(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    service: str,
    what: str,
    policy: RetryPolicy,
    clock: Clock = CLOCK,
    **kwargs: object,
) -> httpx.Response:
    """Send one request under ``policy``; returns the last response (any status not retried).

    Raises :class:`EngineUnavailable` or :class:`EngineTimeout` when the service cannot be
    reached after the policy's attempts, or when an ambiguous failure hits a paid submit.
    """
    response: httpx.Response | None = None
    for attempt in range(policy.attempts):
        response = None
        try:
            with _translated(service, what):
                response = await client.request(method, url, **kwargs)  # type: ignore[arg-type]
        except (EngineUnavailable, EngineTimeout) as exc:
            cause = exc.__cause__
            retry = isinstance(cause, _NOT_SENT) or not policy.connect_only
            if not retry:
                raise type(exc)(
                    f"{exc}; the request may have reached the service, so it is not re-sent"
                    " (a second submit could be billed twice)"
                ) from cause
            if attempt == policy.attempts - 1:
                raise type(exc)(f"{exc}, after {policy.attempts} attempts") from cause
        else:
            if response.status_code not in policy.statuses or attempt == policy.attempts - 1:
                return response
        await clock.sleep(_delay(policy, attempt, response, clock.now()))
    assert response is not None
    return response


def data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def read_data_uri(uri: str) -> bytes:
    """The bytes of a ``data:<mime>;base64,<payload>`` URI."""
    head, sep, payload = uri.partition(",")
    if not sep or not head.startswith("data:") or not head.endswith(";base64"):
        raise EngineError("returned audio: a data URI that is not base64")
    try:
        return binascii.a2b_base64(payload, strict_mode=True)
    except binascii.Error as exc:
        raise EngineError(f"returned audio: bad base64 in data URI ({exc})") from exc


async def download(client: httpx.AsyncClient, url: str, *, service: str) -> bytes:
    """Fetch a result file at once (services expire them), from a URL or a data URI."""
    if url.startswith("data:"):
        return await asyncio.to_thread(read_data_uri, url)
    if not url.startswith(("http://", "https://")):
        raise EngineRejected(f"{service}: returned audio URL {url[:80]!r} is neither http(s) nor a data URI")
    response = await send(client, "GET", url, service=service, what="download the result", policy=IDEMPOTENT)
    if response.status_code != 200:
        raise EngineError(f"{service}: download the result: HTTP {response.status_code} for {url}")
    if len(response.content) > MAX_DOWNLOAD_BYTES:
        raise EngineError(f"{service}: result file is larger than {MAX_DOWNLOAD_BYTES >> 20} MB")
    return response.content
