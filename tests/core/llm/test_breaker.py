"""The circuit breaker's state machine, on a manual clock."""

from __future__ import annotations

import logging

import pytest

from core.errors import LLMCircuitOpenError, LLMRejectedError, LLMTransientError
from core.llm import BreakerPolicy, CircuitBreaker
from tests.core.llm.conftest import ManualClock


async def fail() -> None:
    raise LLMTransientError("HTTP 500", status=500)


async def succeed() -> str:
    return "ok"


def breaker(clock: ManualClock, **policy: float) -> CircuitBreaker:
    values = {"failure_threshold": 3, "cooldown_seconds": 30.0, **policy}
    return CircuitBreaker("http://llm.test/v1", policy=BreakerPolicy(**values), clock=clock)  # type: ignore[arg-type]


async def trip(subject: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        with pytest.raises(LLMTransientError):
            await subject.call(fail)


async def test_opens_after_consecutive_failures_and_refuses_without_calling(clock: ManualClock) -> None:
    subject = breaker(clock)
    await trip(subject, 3)
    calls = 0

    async def counted() -> None:
        nonlocal calls
        calls += 1

    with pytest.raises(LLMCircuitOpenError) as caught:
        await subject.call(counted)

    assert subject.state == "open"
    assert calls == 0
    assert caught.value.retry_in_seconds == pytest.approx(30.0)


async def test_a_success_resets_the_consecutive_count(clock: ManualClock) -> None:
    subject = breaker(clock, min_window_calls=100)
    await trip(subject, 2)
    await subject.call(succeed)
    await trip(subject, 2)

    assert subject.state == "closed"


async def test_opens_on_failure_rate_over_the_window(clock: ManualClock) -> None:
    subject = breaker(clock, failure_threshold=100, window_size=10, min_window_calls=10,
                      failure_rate_threshold=0.5)
    for _ in range(5):
        await subject.call(succeed)
        await trip(subject, 1)

    assert subject.state == "open"
    assert subject.snapshot().failure_rate == pytest.approx(0.5)


async def test_half_open_lets_exactly_one_probe_through(clock: ManualClock) -> None:
    subject = breaker(clock)
    await trip(subject, 3)
    clock.advance(30)
    assert subject.state == "half_open"
    second_caller_refused = False

    async def probe() -> str:
        nonlocal second_caller_refused
        try:
            subject.check()
        except LLMCircuitOpenError:
            second_caller_refused = True
        return "ok"

    assert await subject.call(probe) == "ok"
    assert second_caller_refused
    assert subject.state == "closed"


async def test_failed_probe_opens_again_for_a_full_cooldown(clock: ManualClock) -> None:
    subject = breaker(clock)
    await trip(subject, 3)
    clock.advance(31)
    await trip(subject, 1)

    assert subject.state == "open"
    assert subject.snapshot().retry_in_seconds == pytest.approx(30.0)
    assert subject.snapshot().times_opened == 2


async def test_refusals_do_not_count_as_endpoint_failures(clock: ManualClock) -> None:
    subject = breaker(clock)

    async def rejected() -> None:
        raise LLMRejectedError("bad request", status=400)

    for _ in range(5):
        with pytest.raises(LLMRejectedError):
            await subject.call(rejected)

    assert subject.state == "closed"


async def test_transitions_are_logged(clock: ManualClock, caplog: pytest.LogCaptureFixture) -> None:
    subject = breaker(clock)
    with caplog.at_level(logging.INFO, logger="core.llm.breaker"):
        await trip(subject, 3)
        clock.advance(30)
        await subject.call(succeed)

    messages = [record.getMessage() for record in caplog.records]
    assert any("closed -> open" in message for message in messages)
    assert any("open -> half_open" in message for message in messages)
    assert any("half_open -> closed" in message for message in messages)


def test_snapshot_of_a_fresh_breaker_is_closed_and_empty(clock: ManualClock) -> None:
    snapshot = breaker(clock).snapshot()

    assert snapshot.state == "closed"
    assert snapshot.window_calls == 0 and snapshot.times_opened == 0
