"""Scheduled digests and watches: when they are due, and the one scheduler task that runs them.

Pure time computation first: :func:`next_run` gives the next wall-clock ``HH:MM`` in an IANA time
zone strictly after an instant, with :mod:`zoneinfo`, so it stays at 09:00 local across DST
changes (a time skipped by a spring-forward gap runs at the first valid time after it; a time that
happens twice in autumn runs at its first occurrence only).

Then :class:`Scheduler`: one task on the event loop, sleeping until the earliest due job (or a
wake-up when one is added), with an injected :class:`Clock` so tests control time.  A job is run
only after it is *claimed* in storage (compare-and-set on its due time, see
:mod:`core.storage.server_rows`), and the claim moves it to its next time *after now*: a run
missed while the bot was down runs once when it is back, never twice, and never once per missed day.
A job whose channel is gone or unreadable pauses itself with the reason (:class:`JobAccessLostError`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as wall_time
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.digest.errors import ScheduleError
from core.errors import IntelError
from core.storage.server_rows import NewSchedule, ScheduleRow, ScheduleRows

__all__ = [
    "WEEKDAYS",
    "Clock",
    "JobAccessLostError",
    "ScheduleRunner",
    "Scheduler",
    "SystemClock",
    "every_code",
    "next_run",
    "parse_at",
    "parse_timezone",
    "period_of",
]

_log = logging.getLogger(__name__)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: The scheduler re-reads storage at least this often, so a job added by another process is seen.
MAX_SLEEP_SECONDS = 300.0


class Clock(Protocol):
    """Wall-clock time in seconds since the epoch, and a way to wait until a moment.

    A deadline, not a duration: a duration read after the clock moved would wait too long."""

    def now(self) -> float: ...

    async def sleep_until(self, moment: float) -> None: ...


class SystemClock:
    """The real clock."""

    def now(self) -> float:
        return time.time()

    async def sleep_until(self, moment: float) -> None:
        await asyncio.sleep(max(0.0, moment - time.time()))


class JobAccessLostError(IntelError):
    """A scheduled job's channel is gone or the bot lost access: the job pauses with this reason."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


# --- time computation ---------------------------------------------------------------------------


def parse_timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"timezone: {name!r} is not an IANA time zone name such as Europe/Paris or UTC.") from None


def parse_at(text: str) -> str:
    """``9:05`` or ``09:05`` -> ``09:05``; anything else refused."""
    hours, _, minutes = text.strip().partition(":")
    if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2 and int(hours) < 24 and int(minutes) < 60):
        raise ScheduleError(f"at: {text!r} is not a time of day; use HH:MM such as 09:00 or 17:30.")
    return f"{int(hours):02d}:{minutes}"


def every_code(every: str, *, day: str | None = None) -> str:
    """``daily`` or ``weekly-<day>`` (Monday when no day is given)."""
    if every == "daily":
        return "daily"
    if every == "weekly":
        weekday = (day or "mon")[:3].lower()
        if weekday not in WEEKDAYS:
            raise ScheduleError(f"day: {day!r} is not a day of the week.")
        return f"weekly-{weekday}"
    raise ScheduleError("every: daily or weekly.")


def period_of(every: str) -> timedelta:
    return timedelta(days=1) if every == "daily" else timedelta(days=7)


def next_run(*, every: str, at_time: str, timezone: str, after: float) -> float:
    """The first ``at_time`` (local, in ``timezone``) on a matching day strictly after ``after``."""
    zone = parse_timezone(timezone)
    hour, minute = (int(part) for part in at_time.split(":"))
    local_day = datetime.fromtimestamp(after, tz=zone).date()
    weekday = None if every == "daily" else WEEKDAYS.index(every.removeprefix("weekly-"))
    for offset in range(0, 9):
        day = local_day + timedelta(days=offset)
        if weekday is not None and day.weekday() != weekday:
            continue
        instant = _local_instant(day, hour, minute, zone)
        if instant > after:
            return instant
    raise AssertionError("a daily or weekly time always recurs within 8 days")


def _local_instant(day: date, hour: int, minute: int, zone: ZoneInfo) -> float:
    """The instant of a local wall time: its first occurrence if it happens twice (fold=0); if a DST
    gap skips it, the wall time read with the offset before the gap (09:00 stays 09:00; 02:30 in a
    02:00-03:00 gap becomes 03:30)."""
    local = datetime.combine(day, wall_time(hour, minute), tzinfo=zone)
    return local.astimezone(UTC).timestamp()


# --- the scheduler ------------------------------------------------------------------------------


class ScheduleRunner(Protocol):
    """What a front end does when a schedule is due: read, digest, post.  Raises
    :class:`JobAccessLostError` when the channel is gone or unreadable."""

    async def run_schedule(self, schedule: ScheduleRow, *, since: float) -> None: ...


DueJobs = Callable[[float], Awaitable[float | None]]
"""An extra kind of job (watches): run what is due at ``now``; return when it is next due."""


class Scheduler:
    """One task on the loop running due schedules (and other due jobs, see :meth:`add_jobs`).

    ``start()`` from the bot's ``setup_hook`` (or a cog's ``cog_load``), ``await close()`` on the way
    out.  :meth:`wake` makes it re-read storage now (a schedule was added, resumed or removed).
    """

    def __init__(self, rows: ScheduleRows, *, clock: Clock | None = None) -> None:
        self._rows = rows
        self.clock: Clock = clock or SystemClock()
        self._runner: ScheduleRunner | None = None
        self._extra: list[DueJobs] = []
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self.runs = 0
        self.passes = 0
        """Completed passes over due jobs (:meth:`wait_for_passes` waits on it)."""
        self._passed = asyncio.Condition()

    def set_runner(self, runner: ScheduleRunner | None) -> None:
        self._runner = runner
        self.wake()

    def add_jobs(self, jobs: DueJobs) -> None:
        self._extra.append(jobs)
        self.wake()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._loop(), name="intel-scheduler")

    def wake(self) -> None:
        self._wake.set()

    async def wait_for_passes(self, count: int) -> None:
        """Return once :attr:`passes` reaches ``count`` (tests: "the scheduler has looked at its jobs")."""
        async with self._passed:
            await self._passed.wait_for(lambda: self.passes >= count)

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # --- schedules ---------------------------------------------------------------------------

    async def add(self, schedule: NewSchedule) -> ScheduleRow:
        row = await self._rows.add(schedule)
        self.wake()
        return row

    def first_run(self, *, every: str, at_time: str, timezone: str) -> float:
        return next_run(every=every, at_time=at_time, timezone=timezone, after=self.clock.now())

    async def resume(self, row: ScheduleRow) -> bool:
        """Unpause, due at its next time from now (runs missed while paused are not made up)."""
        upcoming = next_run(every=row.every, at_time=row.at_time, timezone=row.timezone, after=self.clock.now())
        changed = await self._rows.set_paused(row.guild_id, row.schedule_id, paused=False, next_run_at=upcoming)
        self.wake()
        return changed

    async def run_due(self) -> float | None:
        """Run every due job once; returns when the next one is due (``None``: nothing scheduled)."""
        now = self.clock.now()
        if self._runner is not None:
            for row in await self._rows.due(now=now):
                await self._run_one(row, now=now)
        upcoming = [await self._rows.next_due_at()] if self._runner is not None else []
        for jobs in self._extra:
            upcoming.append(await jobs(now))
        times = [moment for moment in upcoming if moment is not None]
        return min(times) if times else None

    async def _run_one(self, row: ScheduleRow, *, now: float) -> None:
        assert self._runner is not None
        upcoming = next_run(every=row.every, at_time=row.at_time, timezone=row.timezone, after=now)
        if not await self._rows.claim(row.schedule_id, due_at=row.next_run_at, next_run_at=upcoming, now=now):
            return  # another process (or an earlier pass) ran it
        period = period_of(row.every).total_seconds()
        since = max(row.last_run_at, now - period) if row.last_run_at else now - period
        self.runs += 1
        try:
            await self._runner.run_schedule(row, since=since)
        except JobAccessLostError as lost:
            _log.warning("schedule %d paused: %s", row.schedule_id, lost.reason)
            await self._rows.set_paused(row.guild_id, row.schedule_id, paused=True, reason=lost.reason)
        except Exception:  # one broken run must not stop the scheduler
            _log.exception("scheduled digest %d failed", row.schedule_id)

    async def _loop(self) -> None:
        while True:
            self._wake.clear()
            try:
                upcoming = await self.run_due()
            except Exception:  # storage down: try again later
                _log.exception("the scheduler could not run due jobs")
                upcoming = None
            self.passes += 1
            async with self._passed:
                self._passed.notify_all()
            latest = self.clock.now() + MAX_SLEEP_SECONDS
            deadline = latest if upcoming is None else min(latest, upcoming)
            if deadline > self.clock.now():
                await self._sleep_or_wake(deadline)

    async def _sleep_or_wake(self, deadline: float) -> None:
        sleeper = asyncio.ensure_future(self.clock.sleep_until(deadline))
        waker = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in (sleeper, waker):
                waiter.cancel()
            await asyncio.gather(sleeper, waker, return_exceptions=True)
