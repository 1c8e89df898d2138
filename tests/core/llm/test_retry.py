"""Backoff delays, Retry-After, and the total time budget, with an injected sleep."""

from __future__ import annotations

import random

import pytest

from core.errors import LLMAuthError, LLMTransientError, LLMUnavailableError
from core.llm import Retrier, RetryPolicy
from core.llm.client import parse_retry_after
from core.llm.retry import Deadline
from tests.core.llm.conftest import ManualClock, RecordingSleep


def failing_then(result: str, *errors: Exception):
    queue = list(errors)
    seen: list[float] = []

    async def attempt(timeout_seconds: float) -> str:
        seen.append(timeout_seconds)
        if queue:
            raise queue.pop(0)
        return result

    return attempt, seen


async def test_full_jitter_delays_stay_under_the_exponential_ceiling(sleep: RecordingSleep) -> None:
    retrier = Retrier(RetryPolicy(max_attempts=6, base_delay_seconds=1, max_delay_seconds=8), sleep=sleep,
                      rng=random.Random(1))
    attempt, _ = failing_then("done", *[LLMTransientError("HTTP 502", status=502)] * 5)

    assert await retrier.run(attempt, deadline=Deadline(600)) == "done"

    ceilings = [1, 2, 4, 8, 8]
    assert len(sleep.delays) == 5
    assert all(0 <= delay <= ceiling for delay, ceiling in zip(sleep.delays, ceilings, strict=True))
    assert len(set(sleep.delays)) == 5  # jittered, not fixed


async def test_retry_after_is_used_as_the_delay(sleep: RecordingSleep) -> None:
    retrier = Retrier(RetryPolicy(), sleep=sleep)
    attempt, _ = failing_then("done", LLMTransientError("rate limited", status=429, retry_after=12.5))

    await retrier.run(attempt, deadline=Deadline(600))

    assert sleep.delays == [12.5]


async def test_gives_up_when_the_wait_would_pass_the_deadline(sleep: RecordingSleep) -> None:
    retrier = Retrier(RetryPolicy(), sleep=sleep)
    attempt, _ = failing_then("done", LLMTransientError("rate limited", status=429, retry_after=120))

    with pytest.raises(LLMUnavailableError) as caught:
        await retrier.run(attempt, deadline=Deadline(60))

    assert sleep.delays == []
    assert caught.value.last_reason == "rate limited"


async def test_attempt_timeout_shrinks_to_what_the_deadline_leaves(sleep: RecordingSleep) -> None:
    clock = ManualClock()
    retrier = Retrier(RetryPolicy(attempt_timeout_seconds=60), sleep=sleep)
    attempt, timeouts = failing_then("done")

    await retrier.run(attempt, deadline=Deadline(20, clock=clock))

    assert timeouts == [20]


async def test_refusals_are_never_retried(sleep: RecordingSleep) -> None:
    retrier = Retrier(RetryPolicy(), sleep=sleep)
    attempt, seen = failing_then("done", LLMAuthError(status=401))

    with pytest.raises(LLMAuthError):
        await retrier.run(attempt, deadline=Deadline(600))

    assert len(seen) == 1 and sleep.delays == []


async def test_stops_after_max_attempts(sleep: RecordingSleep) -> None:
    retrier = Retrier(RetryPolicy(max_attempts=3), sleep=sleep)
    attempt, seen = failing_then("done", *[LLMTransientError("HTTP 500", status=500)] * 5)

    with pytest.raises(LLMUnavailableError) as caught:
        await retrier.run(attempt, deadline=Deadline(600))

    assert len(seen) == 3 and caught.value.attempts == 3
    assert str(caught.value) == "the LLM service is unavailable (HTTP 500)"


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    now = 1_700_000_000.0

    assert parse_retry_after("7", now=lambda: now) == 7.0
    assert parse_retry_after("Tue, 14 Nov 2023 22:13:40 GMT", now=lambda: now) == pytest.approx(20.0)
    assert parse_retry_after("Tue, 14 Nov 2023 22:00:00 GMT", now=lambda: now) == 0.0
    assert parse_retry_after("soon", now=lambda: now) is None
    assert parse_retry_after(None) is None
