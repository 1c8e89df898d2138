"""Privacy opt-outs, digest schedules and page watches: one contract, run on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from core.storage import Storage
from core.storage.server_rows import NewSchedule, NewWatch, WatchResult
from tests.conftest import OpenStorage

NOW = 1_700_000_000.0
GUILD = 11
OTHER_GUILD = 22


def schedule(guild_id: int = GUILD, *, next_run_at: float = NOW + 60) -> NewSchedule:
    return NewSchedule(guild_id=guild_id, source_channel_id=5, post_channel_id=6, every="daily", at_time="09:00",
                       timezone="Europe/Paris", created_by=7, created_at=NOW, next_run_at=next_run_at)


async def test_opt_out_is_per_guild_and_opt_in_undoes_it(storage: Storage) -> None:
    assert await storage.privacy.opt_out(GUILD, 1, now=NOW)
    assert not await storage.privacy.opt_out(GUILD, 1, now=NOW)

    assert await storage.privacy.opted_out(GUILD) == frozenset({1})
    assert await storage.privacy.opted_out(OTHER_GUILD) == frozenset()
    assert await storage.privacy.opt_in(GUILD, 1)
    assert not await storage.privacy.opt_in(GUILD, 1)
    assert await storage.privacy.opted_out(GUILD) == frozenset()


async def test_a_schedule_survives_a_restart(open_storage: OpenStorage) -> None:
    first = await open_storage()
    added = await first.schedules.add(schedule())
    await first.close()
    again = await open_storage()

    assert await again.schedules.get(GUILD, added.schedule_id) == added
    assert await again.schedules.get(OTHER_GUILD, added.schedule_id) is None


async def test_only_one_of_two_racing_claims_wins(open_storage: OpenStorage) -> None:
    one, two = await open_storage(), await open_storage()
    added = await one.schedules.add(schedule(next_run_at=NOW))

    results = await asyncio.gather(
        one.schedules.claim(added.schedule_id, due_at=NOW, next_run_at=NOW + 86_400, now=NOW),
        two.schedules.claim(added.schedule_id, due_at=NOW, next_run_at=NOW + 86_400, now=NOW),
    )

    assert sorted(results) == [False, True]
    assert await one.schedules.due(now=NOW + 10) == []


async def test_paused_schedules_are_never_due_and_keep_their_reason(storage: Storage) -> None:
    added = await storage.schedules.add(schedule(next_run_at=NOW))

    assert await storage.schedules.set_paused(GUILD, added.schedule_id, paused=True, reason="channel deleted")
    paused = await storage.schedules.get(GUILD, added.schedule_id)

    assert paused is not None and paused.paused and paused.paused_reason == "channel deleted"
    assert await storage.schedules.due(now=NOW + 1) == []
    assert await storage.schedules.next_due_at() is None
    assert not await storage.schedules.claim(added.schedule_id, due_at=NOW, next_run_at=NOW + 1, now=NOW)


async def test_schedules_are_listed_and_deleted_per_guild(storage: Storage) -> None:
    mine = await storage.schedules.add(schedule())
    await storage.schedules.add(schedule(OTHER_GUILD))

    assert [row.schedule_id for row in await storage.schedules.for_guild(GUILD)] == [mine.schedule_id]
    assert not await storage.schedules.delete(OTHER_GUILD, mine.schedule_id)
    assert await storage.schedules.delete(GUILD, mine.schedule_id)
    assert await storage.schedules.for_guild(GUILD) == []


async def test_a_watch_keeps_its_validators_and_snapshot(storage: Storage) -> None:
    added = await storage.watches.add(NewWatch(guild_id=GUILD, url="https://news.test/a", post_channel_id=6,
                                               every_minutes=15, created_by=7, created_at=NOW, next_check_at=NOW))
    assert await storage.watches.claim(added.watch_id, due_at=NOW, next_check_at=NOW + 900)
    assert not await storage.watches.claim(added.watch_id, due_at=NOW, next_check_at=NOW + 900)

    await storage.watches.record(added.watch_id, WatchResult(
        next_check_at=NOW + 900, checked_at=NOW, etag='"v1"', last_modified="Wed, 01 Jan 2026 00:00:00 GMT",
        text_hash="abc", snapshot='{"insights": []}'))
    [row] = await storage.watches.for_guild(GUILD)

    assert (row.etag, row.text_hash, row.failures, row.last_checked_at) == ('"v1"', "abc", 0, NOW)
    assert await storage.watches.next_due_at() == NOW + 900
    assert await storage.watches.due(now=NOW + 899) == []
