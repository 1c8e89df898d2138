"""The ``backend`` fixture every contract test runs under: SQLite on a temp file, PostgreSQL on a real server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from core.storage import Storage
from core.storage.postgres import PostgresBackend
from core.storage.sqlite import SqliteBackend

OpenStorage = Callable[[], Awaitable[Storage]]


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where the database is: a SQLite file path, or the DSN of a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "data" / "intel.db")
    dsn: str = request.getfixturevalue("postgres_dsn")
    return dsn


@pytest.fixture
async def open_storage(backend: str) -> AsyncIterator[OpenStorage]:
    """Opens a new :class:`Storage` on the test's database each call (a second process, or a restart)."""
    opened: list[Storage] = []

    async def open_one() -> Storage:
        if backend.startswith("postgresql://"):
            storage = Storage(PostgresBackend(backend, pool_size=25))
        else:
            storage = Storage(SqliteBackend(Path(backend)))
        await storage.open()
        opened.append(storage)
        return storage

    yield open_one
    for storage in opened:
        await storage.close()


@pytest.fixture
async def storage(open_storage: OpenStorage) -> Storage:
    return await open_storage()
