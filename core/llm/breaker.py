"""A circuit breaker per LLM endpoint: closed, open, half-open.

*Closed*: calls go through; the breaker opens after ``failure_threshold`` consecutive failures,
or when the failure rate over the last ``window_size`` calls reaches ``failure_rate_threshold``
(once at least ``min_window_calls`` were seen).  *Open*: calls are refused at once with
:class:`~core.errors.LLMCircuitOpenError`.  After ``cooldown_seconds`` it is *half-open*: exactly
one probe call is let through; its success closes the breaker, its failure opens it again.

Only failures that say the endpoint is unhealthy count (transient errors: 429, 5xx, timeouts,
connection errors).  A refusal (401, 404) or an unusable answer proves the endpoint is up, so it
counts as a success.  The clock is injected; state changes are logged.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from core.errors import LLMCircuitOpenError, LLMTransientError, LLMUnavailableError

__all__ = ["BreakerPolicy", "BreakerSnapshot", "BreakerState", "CircuitBreaker"]

_log = logging.getLogger(__name__)

T = TypeVar("T")

BreakerState = Literal["closed", "open", "half_open"]


class BreakerPolicy(BaseModel):
    model_config = ConfigDict(frozen=True)

    failure_threshold: int = Field(default=5, ge=1)
    failure_rate_threshold: float = Field(default=0.5, gt=0, le=1)
    window_size: int = Field(default=20, ge=1)
    min_window_calls: int = Field(default=10, ge=1)
    cooldown_seconds: float = Field(default=30.0, gt=0)


class BreakerSnapshot(BaseModel):
    """What ``/status`` shows about one endpoint."""

    endpoint: str
    state: BreakerState
    consecutive_failures: int
    failure_rate: float
    window_calls: int
    retry_in_seconds: float
    times_opened: int


class CircuitBreaker:
    """State machine guarding one endpoint.  Not thread-safe: use it on the event loop only."""

    def __init__(
        self, endpoint: str, *, policy: BreakerPolicy | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.endpoint = endpoint
        self.policy = policy or BreakerPolicy()
        self._clock = clock
        self._state: BreakerState = "closed"
        self._opened_at = 0.0
        self._consecutive_failures = 0
        self._window: deque[bool] = deque(maxlen=self.policy.window_size)
        self._probe_in_flight = False
        self._times_opened = 0

    @property
    def state(self) -> BreakerState:
        if self._state == "open" and self._retry_in() <= 0:
            return "half_open"
        return self._state

    def _retry_in(self) -> float:
        return max(0.0, self._opened_at + self.policy.cooldown_seconds - self._clock())

    def snapshot(self) -> BreakerSnapshot:
        failures = sum(1 for ok in self._window if not ok)
        return BreakerSnapshot(
            endpoint=self.endpoint,
            state=self.state,
            consecutive_failures=self._consecutive_failures,
            failure_rate=failures / len(self._window) if self._window else 0.0,
            window_calls=len(self._window),
            retry_in_seconds=self._retry_in() if self._state == "open" else 0.0,
            times_opened=self._times_opened,
        )

    def check(self) -> None:
        """Raise :class:`LLMCircuitOpenError` if a call now would be refused; changes nothing."""
        state = self.state
        if state == "open" or (state == "half_open" and self._probe_in_flight):
            raise LLMCircuitOpenError(endpoint=self.endpoint, retry_in_seconds=self._retry_in())

    async def call(self, fn: Callable[[], Awaitable[T]]) -> T:
        """Run one call under the breaker: refused while open, one probe while half-open."""
        self._admit()
        try:
            result = await fn()
        except (LLMTransientError, LLMUnavailableError):
            self._record(success=False)
            raise
        except BaseException:
            # A refusal, bad output or cancellation says nothing bad about the endpoint's health.
            self._record(success=True)
            raise
        self._record(success=True)
        return result

    def trip(self, why: str) -> None:
        """Open now, whatever the counts say: the endpoint hung for a whole request's budget.

        A hang costs every waiting user the full LLM budget, so one is enough to pause the endpoint;
        the next requests go straight to local analysis until the cool-down's probe succeeds.
        """
        self._probe_in_flight = False
        if self._state != "open" or self._retry_in() <= 0:
            self._open(why)

    def _admit(self) -> None:
        self.check()
        if self.state == "half_open":
            self._probe_in_flight = True
            self._transition("half_open", "cool-down over, letting one probe through")

    def _record(self, *, success: bool) -> None:
        probing, self._probe_in_flight = self._probe_in_flight, False
        self._window.append(success)
        if success:
            self._consecutive_failures = 0
            if probing:
                self._window.clear()
                self._transition("closed", "probe succeeded")
            return
        self._consecutive_failures += 1
        if probing:
            self._open("probe failed")
        elif self._state == "closed" and self._should_open():
            self._open(f"{self._consecutive_failures} consecutive failures, rate {self._rate():.0%}")

    def _rate(self) -> float:
        return sum(1 for ok in self._window if not ok) / len(self._window) if self._window else 0.0

    def _should_open(self) -> bool:
        if self._consecutive_failures >= self.policy.failure_threshold:
            return True
        enough = len(self._window) >= self.policy.min_window_calls
        return enough and self._rate() >= self.policy.failure_rate_threshold

    def _open(self, why: str) -> None:
        self._opened_at = self._clock()
        self._times_opened += 1
        self._transition("open", f"{why}; refusing calls for {self.policy.cooldown_seconds:g}s")

    def _transition(self, state: BreakerState, why: str) -> None:
        previous, self._state = self._state, state
        level = logging.WARNING if state == "open" else logging.INFO
        _log.log(level, "LLM circuit %s -> %s for %s: %s", previous, state, self.endpoint, why)
