"""Fixtures shared by every test: the real embedding model (loaded once), settings in a temp dir."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from core.embedder import Embedder, build_embedder
from core.gate import WorkerGate
from core.settings import Settings
from core.storage import Storage
from core.storage.postgres import PostgresBackend
from core.storage.sqlite import SqliteBackend
from tests.postgres_server import ExistingServer, PostgresServer, PostgresUnavailable, psql

OpenStorage = Callable[[], Awaitable[Storage]]


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The product's embedder (all-MiniLM-L6-v2, int8 ONNX), loaded once for the whole run."""
    model = build_embedder(Settings(_env_file=None))  # type: ignore[call-arg]
    model.embed(["load the model"])
    return model


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings isolated from the developer's environment and .env, with data in a temp dir."""
    return Settings(_env_file=None, data_dir=tmp_path / "data")  # type: ignore[call-arg]


@pytest.fixture
async def gate() -> AsyncIterator[WorkerGate]:
    async with WorkerGate(max_workers=2) as worker_gate:
        yield worker_gate


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer | ExistingServer | PostgresUnavailable]:
    """The session's PostgreSQL: ``TEST_DATABASE_URL`` if set, else a throwaway cluster (started once).

    A server that cannot start is handed on as its error, so that each PostgreSQL test errors with
    the reason instead of being skipped.
    """
    url = os.environ.get("TEST_DATABASE_URL", "").strip()
    if url:
        yield ExistingServer(url)
        return
    server = PostgresServer()
    try:
        server.start()
    except PostgresUnavailable as exc:
        server.stop()
        yield exc
        return
    yield server
    server.stop()


@pytest.fixture
def postgres_dsn(postgres_server: PostgresServer | ExistingServer | PostgresUnavailable) -> Iterator[str]:
    """A fresh, empty database on the test server, dropped after the test."""
    if isinstance(postgres_server, PostgresUnavailable):
        raise PostgresUnavailable(f"the test PostgreSQL server did not start: {postgres_server}")
    name = f"test_{uuid.uuid4().hex[:16]}"
    psql(postgres_server.admin_dsn, postgres_server.create_database(name))
    yield postgres_server.dsn(name)
    psql(postgres_server.admin_dsn, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where the database is, one run per backend: a SQLite file path, or the DSN of a fresh PostgreSQL database."""
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
