"""The rows of issue 13's features: privacy opt-outs, scheduled digests and watched pages.

Same seam as :mod:`core.storage.protocols` / :mod:`core.storage.stores`: a small protocol per kind
of data, one SQL text for both backends (``$1`` placeholders, portable syntax), pydantic rows out.
Kept in its own module so the features can grow without touching the other stores.

A schedule's run and a watch's check are *claimed* with a compare-and-set on the time they were due
(:meth:`ScheduleRows.claim`, :meth:`WatchRows.claim`): whoever moves ``next_run_at`` from the value
it read runs the job, so a run can never happen twice, whatever restarts or processes race.
"""

from __future__ import annotations

import logging
from typing import Protocol

from pydantic import BaseModel, Field

from core.storage.base import Backend, Row

__all__ = [
    "NewSchedule",
    "NewWatch",
    "PrivacyRows",
    "ScheduleRow",
    "ScheduleRows",
    "SqlPrivacyRows",
    "SqlScheduleRows",
    "SqlWatchRows",
    "WatchResult",
    "WatchRow",
    "WatchRows",
]

_log = logging.getLogger(__name__)

#: ``daily`` or ``weekly-<day>`` (``weekly-mon`` ... ``weekly-sun``).
EVERY_PATTERN = r"^(daily|weekly-(mon|tue|wed|thu|fri|sat|sun))$"


class NewSchedule(BaseModel):
    guild_id: int
    source_channel_id: int
    post_channel_id: int
    every: str = Field(pattern=EVERY_PATTERN)
    at_time: str = Field(pattern=r"^\d{2}:\d{2}$")
    timezone: str
    created_by: int
    created_at: float
    next_run_at: float


class ScheduleRow(NewSchedule):
    schedule_id: int
    last_run_at: float | None = None
    paused: bool = False
    paused_reason: str | None = None


class NewWatch(BaseModel):
    guild_id: int
    url: str
    post_channel_id: int
    every_minutes: int = Field(ge=1)
    created_by: int
    created_at: float
    next_check_at: float


class WatchRow(NewWatch):
    watch_id: int
    etag: str | None = None
    last_modified: str | None = None
    text_hash: str | None = None
    snapshot: str | None = Field(default=None, description="JSON of the last report's insights and claims")
    failures: int = 0
    last_error: str | None = None
    last_checked_at: float | None = None


class WatchResult(BaseModel):
    """What one check of a watch leaves behind."""

    next_check_at: float
    checked_at: float
    etag: str | None = None
    last_modified: str | None = None
    text_hash: str | None = None
    snapshot: str | None = None
    failures: int = 0
    last_error: str | None = None


class PrivacyRows(Protocol):
    """Members of a guild who keep their messages out of digests and analyses."""

    async def opt_out(self, guild_id: int, user_id: int, *, now: float) -> bool:
        """``False`` if already opted out."""
        ...

    async def opt_in(self, guild_id: int, user_id: int) -> bool:
        """``False`` if not opted out."""
        ...

    async def opted_out(self, guild_id: int) -> frozenset[int]: ...


class ScheduleRows(Protocol):
    async def add(self, schedule: NewSchedule) -> ScheduleRow: ...

    async def get(self, guild_id: int, schedule_id: int) -> ScheduleRow | None: ...

    async def for_guild(self, guild_id: int) -> list[ScheduleRow]: ...

    async def delete(self, guild_id: int, schedule_id: int) -> bool: ...

    async def set_paused(
        self, guild_id: int, schedule_id: int, *, paused: bool, reason: str | None = None,
        next_run_at: float | None = None,
    ) -> bool: ...

    async def due(self, *, now: float) -> list[ScheduleRow]: ...

    async def next_due_at(self) -> float | None: ...

    async def claim(self, schedule_id: int, *, due_at: float, next_run_at: float, now: float) -> bool:
        """Move the schedule from ``due_at`` to ``next_run_at``; ``False`` if someone else did."""
        ...


class WatchRows(Protocol):
    async def add(self, watch: NewWatch) -> WatchRow: ...

    async def for_guild(self, guild_id: int) -> list[WatchRow]: ...

    async def delete(self, guild_id: int, watch_id: int) -> bool: ...

    async def due(self, *, now: float) -> list[WatchRow]: ...

    async def next_due_at(self) -> float | None: ...

    async def claim(self, watch_id: int, *, due_at: float, next_check_at: float) -> bool: ...

    async def record(self, watch_id: int, result: WatchResult) -> None: ...


class SqlPrivacyRows:
    """:class:`PrivacyRows` over a backend."""

    def __init__(self, backend: Backend) -> None:
        self._backend = backend

    async def opt_out(self, guild_id: int, user_id: int, *, now: float) -> bool:
        async with self._backend.transaction() as tx:
            changed = await tx.execute(
                "INSERT INTO privacy_optouts (guild_id, user_id, created_at) VALUES ($1, $2, $3) "
                "ON CONFLICT (guild_id, user_id) DO NOTHING", guild_id, user_id, float(now))
        return changed > 0

    async def opt_in(self, guild_id: int, user_id: int) -> bool:
        async with self._backend.transaction() as tx:
            changed = await tx.execute(
                "DELETE FROM privacy_optouts WHERE guild_id = $1 AND user_id = $2", guild_id, user_id)
        return changed > 0

    async def opted_out(self, guild_id: int) -> frozenset[int]:
        async with self._backend.reading() as db:
            rows = await db.fetch("SELECT user_id FROM privacy_optouts WHERE guild_id = $1", guild_id)
        return frozenset(int(row[0]) for row in rows)


_SCHEDULE_COLUMNS = (
    "id, guild_id, source_channel_id, post_channel_id, every, at_time, timezone, created_by, created_at, "
    "next_run_at, last_run_at, paused, paused_reason"
)


def _schedule(row: Row) -> ScheduleRow:
    return ScheduleRow(
        schedule_id=row["id"], guild_id=row["guild_id"], source_channel_id=row["source_channel_id"],
        post_channel_id=row["post_channel_id"], every=row["every"], at_time=row["at_time"],
        timezone=row["timezone"], created_by=row["created_by"], created_at=row["created_at"],
        next_run_at=row["next_run_at"], last_run_at=row["last_run_at"], paused=bool(row["paused"]),
        paused_reason=row["paused_reason"],
    )


class SqlScheduleRows:
    """:class:`ScheduleRows` over a backend."""

    def __init__(self, backend: Backend) -> None:
        self._backend = backend

    async def add(self, schedule: NewSchedule) -> ScheduleRow:
        async with self._backend.transaction() as tx:
            row = await tx.fetchrow(
                "INSERT INTO digest_schedules (guild_id, source_channel_id, post_channel_id, every, at_time, "
                "timezone, created_by, created_at, next_run_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
                f"RETURNING {_SCHEDULE_COLUMNS}",
                schedule.guild_id, schedule.source_channel_id, schedule.post_channel_id, schedule.every,
                schedule.at_time, schedule.timezone, schedule.created_by, float(schedule.created_at),
                float(schedule.next_run_at),
            )
        assert row is not None
        return _schedule(row)

    async def get(self, guild_id: int, schedule_id: int) -> ScheduleRow | None:
        async with self._backend.reading() as db:
            row = await db.fetchrow(f"SELECT {_SCHEDULE_COLUMNS} FROM digest_schedules WHERE guild_id = $1 AND id = $2",
                                    guild_id, schedule_id)
        return None if row is None else _schedule(row)

    async def for_guild(self, guild_id: int) -> list[ScheduleRow]:
        async with self._backend.reading() as db:
            rows = await db.fetch(f"SELECT {_SCHEDULE_COLUMNS} FROM digest_schedules WHERE guild_id = $1 ORDER BY id",
                                  guild_id)
        return [_schedule(row) for row in rows]

    async def delete(self, guild_id: int, schedule_id: int) -> bool:
        async with self._backend.transaction() as tx:
            changed = await tx.execute("DELETE FROM digest_schedules WHERE guild_id = $1 AND id = $2",
                                       guild_id, schedule_id)
        return changed > 0

    async def set_paused(
        self, guild_id: int, schedule_id: int, *, paused: bool, reason: str | None = None,
        next_run_at: float | None = None,
    ) -> bool:
        async with self._backend.transaction() as tx:
            changed = await tx.execute(
                "UPDATE digest_schedules SET paused = $3, paused_reason = $4, "
                "next_run_at = COALESCE($5, next_run_at) WHERE guild_id = $1 AND id = $2",
                guild_id, schedule_id, 1 if paused else 0, reason if paused else None,
                None if next_run_at is None else float(next_run_at),
            )
        return changed > 0

    async def due(self, *, now: float) -> list[ScheduleRow]:
        async with self._backend.reading() as db:
            rows = await db.fetch(
                f"SELECT {_SCHEDULE_COLUMNS} FROM digest_schedules WHERE paused = 0 AND next_run_at <= $1 "
                "ORDER BY next_run_at, id", float(now))
        return [_schedule(row) for row in rows]

    async def next_due_at(self) -> float | None:
        async with self._backend.reading() as db:
            found = await db.fetchval("SELECT MIN(next_run_at) FROM digest_schedules WHERE paused = 0")
        return None if found is None else float(found)

    async def claim(self, schedule_id: int, *, due_at: float, next_run_at: float, now: float) -> bool:
        async with self._backend.transaction() as tx:
            changed = await tx.execute(
                "UPDATE digest_schedules SET next_run_at = $3, last_run_at = $4 "
                "WHERE id = $1 AND next_run_at = $2 AND paused = 0",
                schedule_id, float(due_at), float(next_run_at), float(now))
        return changed == 1


_WATCH_COLUMNS = (
    "id, guild_id, url, post_channel_id, every_minutes, created_by, created_at, next_check_at, etag, "
    "last_modified, text_hash, snapshot, failures, last_error, last_checked_at"
)


def _watch(row: Row) -> WatchRow:
    return WatchRow(
        watch_id=row["id"], guild_id=row["guild_id"], url=row["url"], post_channel_id=row["post_channel_id"],
        every_minutes=row["every_minutes"], created_by=row["created_by"], created_at=row["created_at"],
        next_check_at=row["next_check_at"], etag=row["etag"], last_modified=row["last_modified"],
        text_hash=row["text_hash"], snapshot=row["snapshot"], failures=row["failures"],
        last_error=row["last_error"], last_checked_at=row["last_checked_at"],
    )


class SqlWatchRows:
    """:class:`WatchRows` over a backend."""

    def __init__(self, backend: Backend) -> None:
        self._backend = backend

    async def add(self, watch: NewWatch) -> WatchRow:
        async with self._backend.transaction() as tx:
            row = await tx.fetchrow(
                "INSERT INTO page_watches (guild_id, url, post_channel_id, every_minutes, created_by, created_at, "
                f"next_check_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {_WATCH_COLUMNS}",
                watch.guild_id, watch.url, watch.post_channel_id, watch.every_minutes, watch.created_by,
                float(watch.created_at), float(watch.next_check_at),
            )
        assert row is not None
        return _watch(row)

    async def for_guild(self, guild_id: int) -> list[WatchRow]:
        async with self._backend.reading() as db:
            rows = await db.fetch(f"SELECT {_WATCH_COLUMNS} FROM page_watches WHERE guild_id = $1 ORDER BY id", guild_id)
        return [_watch(row) for row in rows]

    async def delete(self, guild_id: int, watch_id: int) -> bool:
        async with self._backend.transaction() as tx:
            changed = await tx.execute("DELETE FROM page_watches WHERE guild_id = $1 AND id = $2", guild_id, watch_id)
        return changed > 0

    async def due(self, *, now: float) -> list[WatchRow]:
        async with self._backend.reading() as db:
            rows = await db.fetch(
                f"SELECT {_WATCH_COLUMNS} FROM page_watches WHERE next_check_at <= $1 ORDER BY next_check_at, id",
                float(now))
        return [_watch(row) for row in rows]

    async def next_due_at(self) -> float | None:
        async with self._backend.reading() as db:
            found = await db.fetchval("SELECT MIN(next_check_at) FROM page_watches")
        return None if found is None else float(found)

    async def claim(self, watch_id: int, *, due_at: float, next_check_at: float) -> bool:
        async with self._backend.transaction() as tx:
            changed = await tx.execute(
                "UPDATE page_watches SET next_check_at = $3 WHERE id = $1 AND next_check_at = $2",
                watch_id, float(due_at), float(next_check_at))
        return changed == 1

    async def record(self, watch_id: int, result: WatchResult) -> None:
        async with self._backend.transaction() as tx:
            await tx.execute(
                "UPDATE page_watches SET next_check_at = $2, last_checked_at = $3, etag = $4, last_modified = $5, "
                "text_hash = $6, snapshot = $7, failures = $8, last_error = $9 WHERE id = $1",
                watch_id, float(result.next_check_at), float(result.checked_at), result.etag, result.last_modified,
                result.text_hash, result.snapshot, result.failures, result.last_error,
            )
