"""Schedule times across DST, and the scheduler on a real SQLite file with a hand-moved clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from core.digest.errors import ScheduleError
from core.schedules import JobAccessLostError, Scheduler, every_code, next_run, parse_at, parse_timezone
from core.storage import Storage
from core.storage.server_rows import NewSchedule, ScheduleRow
from core.storage.sqlite import SqliteBackend
from tests.fakes.clock import ManualClock

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")


def at(zone: ZoneInfo, *parts: int) -> float:
    return datetime(*parts, tzinfo=zone).timestamp()  # type: ignore[misc]


def utc(moment: float) -> datetime:
    return datetime.fromtimestamp(moment, UTC)


def test_daily_time_stays_at_local_nine_across_the_spring_change() -> None:
    before = next_run(every="daily", at_time="09:00", timezone="Europe/Paris", after=at(PARIS, 2026, 3, 28, 8))
    after = next_run(every="daily", at_time="09:00", timezone="Europe/Paris", after=before)

    assert utc(before) == datetime(2026, 3, 28, 8, 0, tzinfo=UTC)  # CET, UTC+1
    assert utc(after) == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)  # CEST, UTC+2
    assert datetime.fromtimestamp(after, PARIS).hour == 9


def test_a_time_skipped_by_the_spring_gap_runs_just_after_it() -> None:
    moment = next_run(every="daily", at_time="02:30", timezone="Europe/Paris", after=at(PARIS, 2026, 3, 29, 0))

    assert utc(moment) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 CEST
    assert datetime.fromtimestamp(moment, PARIS).strftime("%H:%M") == "03:30"


def test_a_time_that_happens_twice_in_autumn_runs_once() -> None:
    first = next_run(every="daily", at_time="01:30", timezone="America/New_York", after=at(NEW_YORK, 2026, 11, 1, 0))
    following = next_run(every="daily", at_time="01:30", timezone="America/New_York", after=first)

    assert utc(first) == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT, the first of the two
    assert utc(following) == datetime(2026, 11, 2, 6, 30, tzinfo=UTC)  # the next day, EST


def test_weekly_runs_on_its_day() -> None:
    moment = next_run(every=every_code("weekly", day="friday"), at_time="17:00", timezone="UTC",
                      after=datetime(2026, 3, 2, 12, tzinfo=UTC).timestamp())  # a Monday

    assert utc(moment) == datetime(2026, 3, 6, 17, 0, tzinfo=UTC)


@pytest.mark.parametrize("text", ["24:00", "9", "09:5", "noon", "12:60"])
def test_bad_times_of_day_are_refused(text: str) -> None:
    with pytest.raises(ScheduleError, match="is not a time of day"):
        parse_at(text)


def test_unknown_time_zones_are_refused_and_known_ones_normalised() -> None:
    with pytest.raises(ScheduleError, match="not an IANA time zone"):
        parse_timezone("Mars/Olympus")
    assert parse_at("9:05") == "09:05"
    assert parse_timezone(" Europe/Paris ").key == "Europe/Paris"


# --- the scheduler -------------------------------------------------------------------------------

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC).timestamp()


class RecordingRunner:
    def __init__(self, *, lost: str | None = None) -> None:
        self.runs: list[tuple[int, float]] = []
        self.lost = lost

    async def run_schedule(self, schedule: ScheduleRow, *, since: float) -> None:
        self.runs.append((schedule.schedule_id, since))
        if self.lost:
            raise JobAccessLostError(self.lost)


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    async with Storage(SqliteBackend(tmp_path / "intel.db")) as opened:
        yield opened


async def _daily_at_nine(scheduler: Scheduler) -> ScheduleRow:
    first = scheduler.first_run(every="daily", at_time="09:00", timezone="UTC")
    return await scheduler.add(NewSchedule(
        guild_id=1, source_channel_id=2, post_channel_id=3, every="daily", at_time="09:00", timezone="UTC",
        created_by=4, created_at=START, next_run_at=first))


async def test_a_run_missed_for_days_runs_once_and_then_waits_for_its_next_time(storage: Storage) -> None:
    clock = ManualClock(START)
    scheduler = Scheduler(storage.schedules, clock=clock)
    runner = RecordingRunner()
    scheduler.set_runner(runner)
    row = await _daily_at_nine(scheduler)

    assert await scheduler.run_due() == row.next_run_at and runner.runs == []
    await clock.set(START + 3 * 86_400)  # the bot was down for three days
    upcoming = await scheduler.run_due()
    await scheduler.run_due()

    assert [schedule_id for schedule_id, _ in runner.runs] == [row.schedule_id]
    assert upcoming == datetime(2026, 3, 5, 9, 0, tzinfo=UTC).timestamp()
    assert runner.runs[0][1] == START + 2 * 86_400  # a daily digest covers the last day


async def test_a_run_that_lost_its_channel_pauses_with_the_reason(storage: Storage) -> None:
    clock = ManualClock(START)
    scheduler = Scheduler(storage.schedules, clock=clock)
    scheduler.set_runner(RecordingRunner(lost="the channel to digest was deleted"))
    row = await _daily_at_nine(scheduler)

    await clock.set(row.next_run_at)
    assert await scheduler.run_due() is None
    paused = await storage.schedules.get(1, row.schedule_id)

    assert paused is not None and paused.paused and paused.paused_reason == "the channel to digest was deleted"
