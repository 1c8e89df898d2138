"""A clock the test moves by hand, for :class:`core.schedules.Scheduler`."""

from __future__ import annotations

import asyncio

__all__ = ["ManualClock"]


class ManualClock:
    """``now()`` is what the test set; ``sleep_until()`` returns once the test has moved time that far."""

    def __init__(self, start: float) -> None:
        self._now = start
        self._moved = asyncio.Condition()

    def now(self) -> float:
        return self._now

    async def sleep_until(self, moment: float) -> None:
        async with self._moved:
            await self._moved.wait_for(lambda: self._now >= moment)

    async def set(self, moment: float) -> None:
        self._now = moment
        async with self._moved:
            self._moved.notify_all()

    async def advance(self, seconds: float) -> None:
        await self.set(self._now + seconds)
