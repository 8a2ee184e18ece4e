"""Retries and backoff at the unit level: httpx's MockTransport and an injected clock, nothing sleeps."""

from __future__ import annotations

import asyncio
import email.utils
from collections.abc import Callable

import httpx
import pytest

from bridge.engines.http import IDEMPOTENT, SUBMIT, Clock, RetryPolicy, send
from bridge.errors import EngineTimeout, EngineUnreachable

NOW = 1_800_000_000.0

Answer = Callable[[httpx.Request], httpx.Response]


def exchange(answers: list[Answer | Exception], policy: RetryPolicy) -> tuple[httpx.Response | Exception,
                                                                              int, list[float]]:
    """Send once under ``policy`` against scripted answers: the outcome, the requests made, the waits."""
    waits: list[float] = []
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        answer = answers[min(calls, len(answers) - 1)]
        calls += 1
        if isinstance(answer, Exception):
            raise answer
        return answer(request)

    async def wait(seconds: float) -> None:
        waits.append(seconds)

    async def main() -> httpx.Response | Exception:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            try:
                return await send(client, "POST", "https://queue.example/job", service="fal", what="submit",
                                  policy=policy, clock=Clock(sleep=wait, now=lambda: NOW))
            except Exception as exc:  # the outcome under test
                return exc

    outcome = asyncio.run(main())
    return outcome, calls, waits


def status(code: int, **headers: str) -> Answer:
    return lambda request: httpx.Response(code, headers=headers)


def test_a_rate_limited_submit_waits_as_told_and_is_sent_again() -> None:
    outcome, calls, waits = exchange([status(429, **{"retry-after": "3"}), status(200)], SUBMIT)
    assert isinstance(outcome, httpx.Response) and outcome.status_code == 200
    assert calls == 2 and waits == [3.0]


def test_retry_after_as_a_date_and_capped_at_a_minute() -> None:
    when = email.utils.formatdate(NOW + 12, usegmt=True)
    _, _, waits = exchange([status(503, **{"retry-after": when}), status(200)], IDEMPOTENT)
    assert waits == [12.0]
    _, _, waits = exchange([status(503, **{"retry-after": "3600"}), status(200)], IDEMPOTENT)
    assert waits == [60.0]


def test_backoff_doubles_with_jitter_up_to_its_cap() -> None:
    outcome, calls, waits = exchange([status(503)], IDEMPOTENT)
    assert isinstance(outcome, httpx.Response) and outcome.status_code == 503  # the last answer, after every try
    assert calls == IDEMPOTENT.attempts and len(waits) == IDEMPOTENT.attempts - 1
    for attempt, wait in enumerate(waits):
        nominal = min(IDEMPOTENT.base_s * 2**attempt, IDEMPOTENT.cap_s)
        assert 0.75 * nominal <= wait <= 1.25 * nominal


def test_a_submit_that_may_have_arrived_is_never_sent_again() -> None:
    request = httpx.Request("POST", "https://queue.example/job")
    for failure in (httpx.ReadTimeout("read", request=request), httpx.RemoteProtocolError("dropped", request=request)):
        outcome, calls, waits = exchange([failure], SUBMIT)
        assert isinstance(outcome, Exception) and "not re-sent" in str(outcome)
        assert calls == 1 and waits == []
    outcome, calls, _ = exchange([status(500)], SUBMIT)
    assert isinstance(outcome, httpx.Response) and outcome.status_code == 500 and calls == 1


def test_a_submit_that_never_connected_is_sent_again() -> None:
    request = httpx.Request("POST", "https://queue.example/job")
    outcome, calls, waits = exchange([httpx.ConnectError("refused", request=request), status(200)], SUBMIT)
    assert isinstance(outcome, httpx.Response) and calls == 2 and len(waits) == 1
    outcome, calls, _ = exchange([httpx.ConnectError("refused", request=request)], SUBMIT)
    assert isinstance(outcome, EngineUnreachable) and f"after {SUBMIT.attempts} attempts" in str(outcome)
    assert calls == SUBMIT.attempts


def test_idempotent_requests_survive_timeouts_but_report_them_in_the_end() -> None:
    request = httpx.Request("GET", "https://queue.example/status")
    outcome, calls, _ = exchange([httpx.ReadTimeout("read", request=request), status(200)], IDEMPOTENT)
    assert isinstance(outcome, httpx.Response) and calls == 2
    outcome, calls, _ = exchange([httpx.ReadTimeout("read", request=request)], IDEMPOTENT)
    assert isinstance(outcome, EngineTimeout) and calls == IDEMPOTENT.attempts


@pytest.mark.parametrize("code", [400, 401, 404, 422])
def test_client_errors_are_answered_at_once(code: int) -> None:
    outcome, calls, waits = exchange([status(code)], IDEMPOTENT)
    assert isinstance(outcome, httpx.Response) and outcome.status_code == code and calls == 1 and waits == []
