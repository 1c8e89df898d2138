"""Watches on a real loopback page, a real SQLite file and the real local engine, with a hand-moved clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.embedder import Embedder
from core.engine.local import LocalEngine
from core.errors import BlockedUrlError, InputError
from core.fetch.fetcher import UrlFetcher
from core.fetch.reader import SourceReader
from core.fetch.transport import tls_context
from core.gate import WorkerGate
from core.queue import AnalysisQueue, QueueTicket
from core.settings import Settings
from core.storage import Storage
from core.storage.server_rows import WatchRow
from core.storage.sqlite import SqliteBackend
from core.watch import WatchChange, WatchService
from tests.fakes.clock import ManualClock
from tests.fakes.web_server import (
    FERRY_TEXT,
    TRAM_TEXT_CONTRADICTING,
    LoopbackSite,
    loopback_guard,
    web_server,
)

__all__ = ["web_server"]  # the fixture

START = 1_780_000_000.0


class Poster:
    def __init__(self) -> None:
        self.changes: list[WatchChange] = []

    async def post_change(self, watch: WatchRow, change: WatchChange) -> None:
        self.changes.append(change)


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    async with Storage(SqliteBackend(tmp_path / "intel.db")) as opened:
        yield opened


def _service(storage: Storage, site: LoopbackSite, gate: WorkerGate, embedder: Embedder, settings: Settings,
             clock: ManualClock, queue: AnalysisQueue | None = None) -> WatchService:
    fetcher = UrlFetcher.from_settings(settings, guard=loopback_guard(site), tls_context=tls_context())
    return WatchService(rows=storage.watches, fetcher=fetcher, clock=clock,
                        reader=SourceReader(fetcher=fetcher, gate=gate, max_chars=100_000, min_words=25),
                        engine=LocalEngine(embedder=embedder, gate=gate), max_per_guild=2, min_interval_minutes=15,
                        queue=queue)


async def test_changes_are_posted_once_and_unchanged_pages_cost_a_304(
    storage: Storage, web_server: LoopbackSite, gate: WorkerGate, embedder: Embedder, settings: Settings
) -> None:
    clock = ManualClock(START)
    watches = _service(storage, web_server, gate, embedder, settings, clock)
    watches.poster = poster = Poster()
    web_server.watched_text = FERRY_TEXT
    await watches.add(guild_id=1, url=web_server.url("/watched"), every_minutes=15, post_channel_id=2, created_by=3)

    assert await watches.run_due(clock.now()) == START + 900  # baseline
    await clock.advance(901)
    await watches.run_due(clock.now())  # 304
    web_server.watched_text = FERRY_TEXT + "\n\n" + TRAM_TEXT_CONTRADICTING
    await clock.advance(901)
    await watches.run_due(clock.now())  # changed
    await watches.run_due(clock.now())  # not due again

    assert web_server.hits.count("/watched") == 3
    assert len(poster.changes) == 1
    assert any("tram" in insight.lower() for insight in poster.changes[0].new_insights)


async def test_errors_back_off_and_are_kept(
    storage: Storage, web_server: LoopbackSite, gate: WorkerGate, embedder: Embedder, settings: Settings
) -> None:
    clock = ManualClock(START)
    watches = _service(storage, web_server, gate, embedder, settings, clock)
    watches.poster = Poster()
    await watches.add(guild_id=1, url=web_server.url("/picture.png"), every_minutes=15, post_channel_id=2,
                      created_by=3)

    first_retry = await watches.run_due(clock.now())
    [row] = await watches.for_guild(1)

    assert first_retry == START + 2 * 900
    assert row.failures == 1 and "image/png" in (row.last_error or "")


async def test_private_addresses_and_too_many_watches_are_refused(
    storage: Storage, web_server: LoopbackSite, gate: WorkerGate, embedder: Embedder, settings: Settings
) -> None:
    watches = _service(storage, web_server, gate, embedder, settings, ManualClock(START))

    with pytest.raises(BlockedUrlError):
        await watches.add(guild_id=1, url="http://10.0.0.1/admin", every_minutes=15, post_channel_id=2, created_by=3)
    for _ in range(2):
        await watches.add(guild_id=1, url=web_server.url("/watched"), every_minutes=15, post_channel_id=2, created_by=3)
    with pytest.raises(InputError, match="the most"):
        await watches.add(guild_id=1, url=web_server.url("/watched"), every_minutes=15, post_channel_id=2, created_by=3)


async def test_a_watch_waits_for_its_turn_in_the_analysis_queue(
    storage: Storage, web_server: LoopbackSite, gate: WorkerGate, embedder: Embedder, settings: Settings
) -> None:
    """A watched page is analysed in its guild's turn: with the only slot taken by a user's request,
    the check waits, and runs as soon as the slot is free."""
    clock = ManualClock(START)
    watches, queue, users_request = await _watch_behind_a_users_request(
        storage, web_server, gate, embedder, settings, clock, max_waiting=5)

    check = asyncio.create_task(watches.run_due(clock.now()))
    for _ in range(500):
        if queue.stats().waiting:
            break
        await asyncio.sleep(0.01)
    [waiting_row] = await watches.for_guild(1)
    assert queue.stats().waiting == 1 and not check.done() and waiting_row.snapshot is None

    users_request.release()
    assert await asyncio.wait_for(check, timeout=60) == START + 900
    [row] = await watches.for_guild(1)
    assert row.snapshot is not None and row.failures == 0
    assert queue.stats().running == 0


async def test_a_full_queue_puts_a_watch_off_without_counting_a_failure(
    storage: Storage, web_server: LoopbackSite, gate: WorkerGate, embedder: Embedder, settings: Settings
) -> None:
    clock = ManualClock(START)
    watches, _, users_request = await _watch_behind_a_users_request(
        storage, web_server, gate, embedder, settings, clock, max_waiting=0)

    next_due = await watches.run_due(clock.now())
    [row] = await watches.for_guild(1)

    assert next_due == START + 300  # looked at again in five minutes, not at the 15-minute interval
    assert row.failures == 0 and row.last_error is None and row.snapshot is None
    users_request.release()
    await clock.advance(301)
    await watches.run_due(clock.now())
    [row] = await watches.for_guild(1)
    assert row.snapshot is not None


async def _watch_behind_a_users_request(
    storage: Storage, site: LoopbackSite, gate: WorkerGate, embedder: Embedder, settings: Settings,
    clock: ManualClock, *, max_waiting: int,
) -> tuple[WatchService, AnalysisQueue, QueueTicket]:
    """A due watch of guild 1, and a queue of one slot that another guild's request holds."""
    queue = AnalysisQueue(concurrency=1, max_waiting=max_waiting, max_waiting_per_tenant=max_waiting)
    watches = _service(storage, site, gate, embedder, settings, clock, queue)
    watches.poster = Poster()
    site.watched_text = FERRY_TEXT
    await watches.add(guild_id=1, url=site.url("/watched"), every_minutes=15, post_channel_id=2, created_by=3)
    users_request = queue.enter(7)
    await users_request.wait()
    return watches, queue, users_request
