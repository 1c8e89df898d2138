"""A monitor of event-loop lag: how late the loop runs a callback that was due at a known time.

Everything in this bot shares one asyncio loop, so one blocking call (embedding on the loop thread,
a synchronous SQLite query, a big JSON parse) freezes every command and the gateway heartbeat.
:class:`LoopLagMonitor` makes that visible: a small task sleeps ``interval`` seconds at a time and
measures how much later than asked it woke up.  Lag over ``stall_threshold`` is recorded as a
:class:`LoopStall`.  The end-to-end tests assert on it; metrics can read :meth:`LoopLagMonitor.snapshot`.

Use it as ``async with LoopLagMonitor() as monitor: ...``; ``stop()`` is idempotent.
"""

from __future__ import annotations

import asyncio
import logging
import time

from pydantic import BaseModel, Field

__all__ = ["LoopLagMonitor", "LoopLagSnapshot", "LoopStall"]

_log = logging.getLogger(__name__)

_MAX_RECORDED_STALLS = 100


class LoopStall(BaseModel):
    """One wake-up that came later than the threshold."""

    at: float = Field(description="Wall-clock time (time.time()) of the late wake-up")
    lag_seconds: float = Field(ge=0)


class LoopLagSnapshot(BaseModel):
    """What the monitor has seen so far."""

    samples: int = Field(ge=0)
    max_lag_seconds: float = Field(ge=0)
    mean_lag_seconds: float = Field(ge=0)
    last_lag_seconds: float = Field(ge=0)
    stall_threshold_seconds: float
    stalls: list[LoopStall] = Field(default_factory=list)
    stall_count: int = Field(ge=0, description="All stalls, even beyond the recorded list's cap")


class LoopLagMonitor:
    """Samples the running loop's lag every ``interval`` seconds.

    ``stall_threshold`` is the lag that counts as a stall (100 ms by default: the budget for any
    single callback on this bot's loop).  At most 100 stalls are kept; ``stall_count`` counts all.
    """

    def __init__(self, *, interval: float = 0.02, stall_threshold: float = 0.1) -> None:
        if interval <= 0:
            raise ValueError("interval must be positive")
        if stall_threshold <= 0:
            raise ValueError("stall_threshold must be positive")
        self.interval = interval
        self.stall_threshold = stall_threshold
        self._task: asyncio.Task[None] | None = None
        self._samples = 0
        self._total_lag = 0.0
        self._max_lag = 0.0
        self._last_lag = 0.0
        self._stall_count = 0
        self._stalls: list[LoopStall] = []

    async def __aenter__(self) -> LoopLagMonitor:
        self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start sampling on the running loop.  Idempotent."""
        if self.running:
            return
        self._task = asyncio.get_running_loop().create_task(self._sample_forever(), name="loop-lag-monitor")

    async def stop(self) -> None:
        """Stop sampling; the figures stay readable.  Idempotent."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass

    def reset(self) -> None:
        """Forget everything seen so far (keeps running)."""
        self._samples = 0
        self._total_lag = self._max_lag = self._last_lag = 0.0
        self._stall_count = 0
        self._stalls = []

    def snapshot(self) -> LoopLagSnapshot:
        return LoopLagSnapshot(
            samples=self._samples,
            max_lag_seconds=self._max_lag,
            mean_lag_seconds=self._total_lag / self._samples if self._samples else 0.0,
            last_lag_seconds=self._last_lag,
            stall_threshold_seconds=self.stall_threshold,
            stalls=list(self._stalls),
            stall_count=self._stall_count,
        )

    async def _sample_forever(self) -> None:
        while True:
            asked = time.perf_counter()
            await asyncio.sleep(self.interval)
            self.record(time.perf_counter() - asked - self.interval)

    def record(self, lag_seconds: float) -> None:
        """Add one measured lag (negative values, from timer granularity, count as zero)."""
        lag_seconds = max(0.0, lag_seconds)
        self._samples += 1
        self._total_lag += lag_seconds
        self._last_lag = lag_seconds
        self._max_lag = max(self._max_lag, lag_seconds)
        if lag_seconds > self.stall_threshold:
            self._stall_count += 1
            if len(self._stalls) < _MAX_RECORDED_STALLS:
                self._stalls.append(LoopStall(at=time.time(), lag_seconds=lag_seconds))
            _log.warning("event loop stalled for %.0f ms", lag_seconds * 1000)
