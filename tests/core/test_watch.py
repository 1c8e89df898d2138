"""Watches on a real loopback page, a real SQLite file and the real local engine, with a hand-moved clock."""

from __future__ import annotations

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
             clock: ManualClock) -> WatchService:
    fetcher = UrlFetcher.from_settings(settings, guard=loopback_guard(site), tls_context=tls_context())
    return WatchService(rows=storage.watches, fetcher=fetcher, clock=clock,
                        reader=SourceReader(fetcher=fetcher, gate=gate, max_chars=100_000, min_words=25),
                        engine=LocalEngine(embedder=embedder, gate=gate), max_per_guild=2, min_interval_minutes=15)


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
