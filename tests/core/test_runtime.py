from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import numpy as np
import pytest

from core.embedder import Embedder
from core.errors import GateClosedError
from core.runtime import IntelRuntime
from core.settings import Settings


class _SlowLoadingEmbedder:
    """The real embedder, but its first ``dimension`` read waits until the test lets it go."""

    def __init__(self, real: Embedder) -> None:
        self._real = real
        self.loading = threading.Event()
        self.release = threading.Event()

    @property
    def name(self) -> str:
        return self._real.name

    @property
    def dimension(self) -> int:
        self.loading.set()
        self.release.wait(timeout=30)
        return self._real.dimension

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self._real.embed(texts)


async def test_close_during_start_closes_everything_start_opened(
    settings: Settings, embedder: Embedder
) -> None:
    slow = _SlowLoadingEmbedder(embedder)
    runtime = IntelRuntime(settings, embedder=slow)
    starting = asyncio.create_task(runtime.start())
    await asyncio.to_thread(slow.loading.wait, 30)

    closing = asyncio.create_task(runtime.close())
    await asyncio.sleep(0.05)
    slow.release.set()
    await closing
    with pytest.raises(GateClosedError):
        await starting

    assert runtime.gate.closed
    assert runtime.service is None
    assert not runtime.storage.backend.is_open


async def test_close_while_the_database_is_opening_leaves_it_closed(
    settings: Settings, embedder: Embedder
) -> None:
    """The SIGTERM-during-start-up race: close() runs before open() has a connection to close."""
    runtime = IntelRuntime(settings, embedder=embedder)
    opening, release = asyncio.Event(), asyncio.Event()
    real_open = runtime.storage.open

    async def slow_open() -> None:
        opening.set()
        await release.wait()
        await real_open()

    runtime.storage.open = slow_open  # type: ignore[method-assign]
    starting = asyncio.create_task(runtime.start())
    await opening.wait()
    await runtime.close()
    release.set()
    with pytest.raises(GateClosedError):
        await starting

    assert not runtime.storage.backend.is_open


async def test_runtime_starts_and_closes_idempotently(settings: Settings, embedder: Embedder) -> None:
    runtime = IntelRuntime(settings, embedder=embedder)
    await runtime.start()
    assert runtime.service is not None and runtime.cache is not None
    await runtime.close()
    await runtime.close()
    assert runtime.gate.closed
    assert not (settings.data_dir / "intel.db-wal").exists()
