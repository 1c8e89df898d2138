"""Retries with exponential backoff and full jitter, inside a total time budget.

Only :class:`~core.errors.LLMTransientError` is retried (429, 5xx, timeouts, connection errors);
every other error passes straight through.  A ``Retry-After`` from the server is honoured as
given.  The sleep function, the random source and the clock are injected so tests can check the
delays without waiting for them.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field

from core.errors import LLMTransientError, LLMUnavailableError

__all__ = ["Deadline", "Retrier", "RetryPolicy"]

_log = logging.getLogger(__name__)

T = TypeVar("T")

Sleep = Callable[[float], Awaitable[None]]


class RetryPolicy(BaseModel):
    """How often and how long to retry one call."""

    model_config = ConfigDict(frozen=True)

    max_attempts: int = Field(default=4, ge=1)
    base_delay_seconds: float = Field(default=1.0, gt=0)
    max_delay_seconds: float = Field(default=20.0, gt=0)
    attempt_timeout_seconds: float = Field(default=60.0, gt=0)


class Deadline:
    """The moment by which a whole command must be done (monotonic seconds)."""

    def __init__(self, seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.at = clock() + seconds

    def remaining(self) -> float:
        return max(0.0, self.at - self._clock())


class Retrier:
    """Runs one attempt function until it succeeds, fails for good, or time runs out."""

    def __init__(
        self,
        policy: RetryPolicy,
        *,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.policy = policy
        self._sleep = sleep
        self._rng = rng or random.Random()

    def backoff_seconds(self, attempt: int, error: LLMTransientError) -> float:
        """Delay after failed attempt number ``attempt`` (1-based)."""
        if error.retry_after is not None:
            return error.retry_after
        ceiling = min(self.policy.max_delay_seconds, self.policy.base_delay_seconds * 2 ** (attempt - 1))
        return self._rng.uniform(0.0, ceiling)

    async def run(self, attempt_fn: Callable[[float], Awaitable[T]], *, deadline: Deadline) -> T:
        """Call ``attempt_fn(timeout_seconds)``; the timeout shrinks to what the deadline leaves."""
        attempt = 0
        while True:
            attempt += 1
            timeout = min(self.policy.attempt_timeout_seconds, deadline.remaining())
            if timeout <= 0:
                raise LLMUnavailableError(attempts=attempt - 1, last_reason="out of time")
            try:
                return await attempt_fn(timeout)
            except LLMTransientError as error:
                delay = self._next_delay(attempt, error, deadline=deadline)
                _log.warning("LLM attempt %d failed (%s); retrying in %.2fs", attempt, error.reason, delay)
            await self._sleep(delay)

    def _next_delay(self, attempt: int, error: LLMTransientError, *, deadline: Deadline) -> float:
        if attempt >= self.policy.max_attempts:
            raise LLMUnavailableError(attempts=attempt, last_reason=error.reason) from error
        delay = self.backoff_seconds(attempt, error)
        if delay >= deadline.remaining():
            raise LLMUnavailableError(attempts=attempt, last_reason=error.reason) from error
        return delay
