"""Two processes on one PostgreSQL: what one changes, the other stops holding in memory within a second.

Each "process" is its own :class:`Storage` (its own pool and LISTEN connection) with its own
settings getter, cache (own index directory) and report library, all in this test process.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from pydantic import BaseModel

from core.cache import SemanticCache
from core.embedder import Embedder
from core.gate import WorkerGate
from core.guild_settings import GuildSettingsStore
from core.reports import ReportLibrary
from core.settings import Settings
from core.storage import ChangeEvent, Storage
from core.storage.postgres import PostgresBackend
from tests.postgres_server import psql
from tests.report_factory import url_report

GUILD = 4242
NS = "coherence:v1"


class Answer(BaseModel):
    schema_version: int = 1
    text: str


class Process:
    """What one bot process holds: storage, the settings getter, a cache and a report library."""

    def __init__(self, storage: Storage, settings: Settings, cache: SemanticCache, reports: ReportLibrary,
                 guild_settings: GuildSettingsStore) -> None:
        self.storage = storage
        self.settings = settings
        self.cache = cache
        self.reports = reports
        self.guild_settings = guild_settings


async def open_process(dsn: str, directory: Path, *, embedder: Embedder,
                       gate: WorkerGate) -> Process:
    settings = Settings(_env_file=None, data_dir=directory, database_url=dsn)  # type: ignore[call-arg]
    storage = Storage(PostgresBackend(dsn, reconnect_delay_seconds=0.05))  # a lost LISTEN is retried at once
    await storage.open()
    guild_settings = GuildSettingsStore(storage.guild_settings, settings)
    cache = SemanticCache(metadata=storage.cache, feedback=storage.feedback, gate=gate, embedder=embedder, guild_settings=guild_settings,
                          directory=directory / "cache")
    await cache.setup()
    reports = ReportLibrary(storage.reports, embedder=embedder, gate=gate)
    for listener in (guild_settings.on_change, cache.on_change, reports.on_change):
        storage.subscribe(listener)
    return Process(storage, settings, cache, reports, guild_settings)


@pytest.fixture
async def two_processes(
    postgres_dsn: str, tmp_path: Path, embedder: Embedder, gate: WorkerGate
) -> AsyncIterator[tuple[Process, Process]]:
    first = await open_process(postgres_dsn, tmp_path / "one", embedder=embedder, gate=gate)
    second = await open_process(postgres_dsn, tmp_path / "two", embedder=embedder, gate=gate)
    yield first, second
    for process in (first, second):
        await process.cache.close()
        await process.storage.close()


async def within_a_second(check: Callable[[], Awaitable[bool]]) -> float:
    """Seconds until ``check`` holds; fails the test if it does not within one second."""
    started = time.monotonic()
    while not await check():
        if time.monotonic() - started > 1.0:
            pytest.fail("the other process still held the old state after one second")
        await asyncio.sleep(0.02)
    return time.monotonic() - started


async def test_a_settings_change_in_one_process_is_seen_by_the_other(
    two_processes: tuple[Process, Process],
) -> None:
    first, second = two_processes
    assert (await second.guild_settings.effective(GUILD)).default_depth == "standard"  # now cached there

    await first.guild_settings.update(GUILD, default_depth="deep")

    async def second_sees_deep() -> bool:
        return (await second.guild_settings.effective(GUILD)).default_depth == "deep"

    await within_a_second(second_sees_deep)


async def test_an_entry_stored_by_one_process_is_a_semantic_hit_in_the_other(
    two_processes: tuple[Process, Process],
) -> None:
    first, second = two_processes
    await second.cache.store(GUILD, NS, "How tall is the Eiffel Tower?", Answer(text="330 m"))
    assert await second.cache.lookup(GUILD, NS, "What is the capital of Peru?", model=Answer) is None  # index loaded

    await first.cache.store(GUILD, NS, "What is the capital city of Peru?", Answer(text="Lima"))

    async def second_serves_lima() -> bool:
        hit = await second.cache.lookup(GUILD, NS, "Which city is the capital of Peru?", model=Answer)
        return hit is not None and hit.value.text == "Lima"

    await within_a_second(second_serves_lima)


async def test_a_cleared_cache_is_dropped_from_the_other_process(two_processes: tuple[Process, Process]) -> None:
    first, second = two_processes
    await second.cache.store(GUILD, NS, "What is the capital city of Peru?", Answer(text="Lima"))
    assert await second.cache.lookup(GUILD, NS, "Which city is the capital of Peru?", model=Answer) is not None

    assert await first.cache.clear(GUILD) == 1

    async def second_dropped_its_index() -> bool:
        return not (await second.cache.stats(GUILD)).index_loaded

    await within_a_second(second_dropped_its_index)
    assert await second.cache.lookup(GUILD, NS, "Which city is the capital of Peru?", model=Answer) is None
    assert await second.cache.indexed_entry_ids(GUILD) == set()


async def test_a_forgotten_entry_leaves_the_other_process_index(two_processes: tuple[Process, Process]) -> None:
    first, second = two_processes
    entry_id = await first.cache.store(GUILD, NS, "What is the capital city of Peru?", Answer(text="Lima"))
    assert await second.cache.indexed_entry_ids(GUILD) == {entry_id}

    assert await first.cache.forget(GUILD, entry_id)

    async def second_forgot() -> bool:
        return await second.cache.indexed_entry_ids(GUILD) == set()

    await within_a_second(second_forgot)


async def test_a_report_added_by_one_process_answers_ask_in_the_other(two_processes: tuple[Process, Process]) -> None:
    first, second = two_processes
    assert await second.reports.search(guild_id=GUILD, query="curtailment of solar output at midday") == []

    report_id = await first.reports.add(guild_id=GUILD, user_id=1, report=url_report(
        "Solar power growth", "https://example.org/solar",
        "Solar capacity in Spain doubled between 2020 and 2024. Cheaper panels drove most of the growth.",
        ["Grid operators in Spain now curtail solar output at midday because of oversupply."],
    ))

    async def second_finds_it() -> bool:
        hits = await second.reports.search(guild_id=GUILD, query="curtailment of solar output at midday")
        return bool(hits) and hits[0].report_id == report_id

    await within_a_second(second_finds_it)


async def test_a_lost_listen_connection_is_restored_and_drops_every_cached_setting(
    postgres_dsn: str, two_processes: tuple[Process, Process],
) -> None:
    first, second = two_processes
    assert (await second.guild_settings.effective(GUILD)).default_depth == "standard"
    await first.guild_settings.update(GUILD, default_depth="quick")
    await within_a_second(lambda: _depth_is(second, "quick"))

    psql(postgres_dsn, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()")
    await first.guild_settings.update(GUILD, default_depth="deep")  # may be missed while reconnecting

    await within_a_second(lambda: _depth_is(second, "deep"))


async def _depth_is(process: Process, depth: str) -> bool:
    return (await process.guild_settings.effective(GUILD)).default_depth == depth


async def test_a_store_of_many_entries_is_announced_within_the_notify_size_limit(
    two_processes: tuple[Process, Process],
) -> None:
    first, second = two_processes
    await second.cache.store(GUILD, NS, "How tall is the Eiffel Tower?", Answer(text="330 m"))
    assert (await second.cache.stats(GUILD)).index_loaded

    async with first.storage.backend.transaction() as tx:  # 2,000 ids: a payload far past 8,000 bytes
        tx.announce(ChangeEvent(kind="cache_stored", guild_id=GUILD, entry_ids=list(range(10**9, 10**9 + 2000))))

    async def second_dropped_its_index() -> bool:
        return not (await second.cache.stats(GUILD)).index_loaded

    await within_a_second(second_dropped_its_index)
