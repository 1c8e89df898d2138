"""Cache fixtures: a real SQLite file, real FAISS files, the real embedder, a clock tests can move."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydantic import BaseModel

from core.cache import SemanticCache
from core.embedder import Embedder
from core.gate import WorkerGate
from core.guild_settings import GuildSettingsStore
from core.settings import Settings
from core.storage import Storage


class Answer(BaseModel):
    """The value type most cache tests store."""

    schema_version: int = 1
    text: str


class MovableClock:
    """A wall clock tests advance by hand instead of sleeping."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class CountingEmbedder:
    """The real embedder, counting how many texts it was asked to embed (to prove the exact layer needs none)."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.texts_embedded = 0

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.texts_embedded += len(texts)
        return self.inner.embed(texts)


class CacheHarness:
    """Opens storage (SQLite), guild settings and a cache on ``data_dir``; can close and reopen them (a restart)."""

    def __init__(
        self, settings: Settings, gate: WorkerGate, embedder: Embedder, clock: MovableClock
    ) -> None:
        self.settings = settings
        self.gate = gate
        self.embedder = CountingEmbedder(embedder)
        self.clock = clock
        self.options: dict[str, Any] = {}
        self.storage: Storage | None = None
        self.guild_settings: GuildSettingsStore | None = None
        self.cache: SemanticCache | None = None

    @property
    def cache_dir(self) -> Path:
        return self.settings.data_dir / "cache"

    async def open(self, **options: Any) -> SemanticCache:
        self.options = {**self.options, **options}
        self.storage = Storage.from_settings(self.settings)
        await self.storage.open()
        self.guild_settings = GuildSettingsStore(self.storage.guild_settings, self.settings)
        self.cache = SemanticCache(
            metadata=self.storage.cache, feedback=self.storage.feedback, gate=self.gate, embedder=self.embedder, guild_settings=self.guild_settings,
            directory=self.cache_dir, clock=self.clock, **self.options,
        )
        await self.cache.setup()
        return self.cache

    async def close(self) -> None:
        if self.cache is not None:
            await self.cache.close()
        if self.storage is not None:
            await self.storage.close()
        self.cache = self.storage = None

    async def restart(self, **options: Any) -> SemanticCache:
        await self.close()
        return await self.open(**options)


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
async def harness(
    settings: Settings, gate: WorkerGate, embedder: Embedder, clock: MovableClock
) -> AsyncIterator[CacheHarness]:
    opened = CacheHarness(settings, gate, embedder, clock)
    yield opened
    await opened.close()


@pytest.fixture
async def cache(harness: CacheHarness) -> SemanticCache:
    return await harness.open()
