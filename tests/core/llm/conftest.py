"""Fixtures for the LLM tests: the fake server, a real SQLite ledger, and a backend wired to both."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from core.embedder import Embedder
from core.gate import WorkerGate
from core.llm import BreakerPolicy, HttpChatClient, LLMBackend, Retrier, RetryPolicy, SpendLedger
from core.settings import Settings
from core.storage import Storage
from core.storage.sqlite import SqliteBackend
from tests.fakes.fake_llm import FakeLLM, fake_llm

__all__ = ["ManualClock", "RecordingSleep", "fake_llm"]

ARTICLE = (
    "Riverton opened the second line of its tram network in March, three years after construction "
    "began. Ridership on the Riverton tram rose 18 percent in 2023, according to the city transport "
    "office. The new line links the university district with the old harbour and runs every six "
    "minutes at peak times. City planners say the extension cut car traffic on Harbour Road by a "
    "fifth. Local shop owners near the new stops report more customers on weekdays. The project "
    "cost 240 million euros, most of it paid by a regional infrastructure fund. Critics argue that "
    "the money would have bought far more electric buses."
)


class RecordingSleep:
    """An injected sleep: records each delay asked for and yields once instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


class ManualClock:
    """A clock that moves only when told to."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def llm_settings(tmp_path: Path, server: FakeLLM, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "llm_base_url": server.base_url,
        "llm_api_key": "test-key",
        "llm_model": "fake/model",
        "llm_timeout_seconds": 5.0,
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def sleep() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Storage]:
    async with Storage(SqliteBackend(tmp_path / "data" / "intel.db")) as storage:
        yield storage


BackendFactory = Callable[..., Awaitable[LLMBackend]]


@pytest.fixture
async def make_backend(
    tmp_path: Path,
    fake_llm: FakeLLM,
    database: Storage,
    embedder: Embedder,
    gate: WorkerGate,
    sleep: RecordingSleep,
    clock: ManualClock,
) -> AsyncIterator[BackendFactory]:
    """Build an :class:`LLMBackend` on the fake server; settings overrides as keyword arguments."""
    backends: list[LLMBackend] = []

    async def build(*, breaker_policy: BreakerPolicy | None = None, max_attempts: int = 4,
                    **overrides: Any) -> LLMBackend:
        settings = llm_settings(tmp_path, fake_llm, **overrides)
        ledger = SpendLedger(database.spend)
        backend = LLMBackend(
            settings=settings,
            client=HttpChatClient(base_url=settings.llm_base_url, api_key="test-key"),
            ledger=ledger,
            embedder=embedder,
            gate=gate,
            retrier=Retrier(
                RetryPolicy(max_attempts=max_attempts, attempt_timeout_seconds=settings.llm_timeout_seconds),
                sleep=sleep,
                rng=random.Random(7),
            ),
            breaker_policy=breaker_policy,
            clock=clock,
        )
        backends.append(backend)
        return backend

    yield build
    for backend in backends:
        await backend.close()
