"""SQLite through aiosqlite: WAL, one connection, one lock, versioned migrations beside this file.

One connection in autocommit mode: :meth:`SqliteBackend.transaction` takes the lock, runs
``BEGIN IMMEDIATE``, and ends with ``COMMIT`` (or ``ROLLBACK`` if the block raised).  Reads take
the same lock, so they never see another coroutine's uncommitted writes.  Statements are the
stores' PostgreSQL-style SQL; ``$1`` becomes SQLite's numbered ``?1``.

SQLite is the one-process backend: :meth:`subscribe` is accepted and never called (no other
process can share the file safely), and :attr:`single_process` tells the storage so.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import re
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from core.errors import StorageUnavailableError
from core.storage.base import ChangeListener, Dialect, Row, load_migrations
from core.storage.models import ChangeEvent

__all__ = ["SqliteBackend"]

_log = logging.getLogger(__name__)

_PLACEHOLDER = re.compile(r"\$(\d+)")

DIALECT = Dialect(
    name="sqlite",
    id_list_template="{column} IN (SELECT value FROM json_each(${param}))",
    encode_ids=lambda ids: json.dumps([int(entry_id) for entry_id in ids]),
)


@functools.lru_cache(maxsize=512)
def _sqlite_sql(sql: str) -> str:
    return _PLACEHOLDER.sub(r"?\1", sql)


class _SqliteExecutor:
    """Statements on the backend's connection; the caller holds the backend's lock."""

    dialect = DIALECT

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection

    async def execute(self, sql: str, *args: object) -> int:
        # One hop to the connection thread a statement: the statement has run to completion when
        # execute returns, and the cursor (nothing left to read) is finalised when collected.
        try:
            cursor = await self._connection.execute(_sqlite_sql(sql), args)
        except (sqlite3.Error, ValueError) as exc:  # aiosqlite raises ValueError once closed
            raise StorageUnavailableError("sqlite") from exc
        return max(cursor.rowcount, 0)

    async def executemany(self, sql: str, args: Sequence[Sequence[object]]) -> None:
        if not args:
            return
        try:
            await self._connection.executemany(_sqlite_sql(sql), args)
        except (sqlite3.Error, ValueError) as exc:
            raise StorageUnavailableError("sqlite") from exc

    async def fetch(self, sql: str, *args: object) -> list[Row]:
        try:
            return list(await self._connection.execute_fetchall(_sqlite_sql(sql), args))
        except (sqlite3.Error, ValueError) as exc:
            raise StorageUnavailableError("sqlite") from exc

    async def fetchrow(self, sql: str, *args: object) -> Row | None:
        """The first row (the stores ask this only of queries with at most one row): one hop."""
        rows = await self.fetch(sql, *args)
        return rows[0] if rows else None

    async def fetchval(self, sql: str, *args: object) -> Any:
        row = await self.fetchrow(sql, *args)
        return None if row is None else row[0]


class _SqliteTransaction(_SqliteExecutor):
    def announce(self, event: ChangeEvent) -> None:
        """Nothing to do: no other process shares a SQLite file (see the module docstring)."""


class SqliteBackend:
    """The SQLite :class:`~core.storage.base.Backend`.  ``async with SqliteBackend(path) as backend``."""

    dialect = DIALECT
    single_process = True

    def __init__(self, path: Path) -> None:
        self.path = path
        self.origin = uuid.uuid4().hex
        self._connection: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        self._listeners: list[ChangeListener] = []

    async def __aenter__(self) -> SqliteBackend:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def open(self) -> None:
        if self._connection is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            connection = await aiosqlite.connect(self.path, isolation_level=None)
            connection.row_factory = aiosqlite.Row
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=5000"):
                await connection.execute(f"PRAGMA {pragma}")
        except sqlite3.Error as exc:
            raise StorageUnavailableError("sqlite") from exc
        self._connection = connection
        try:
            await self._migrate(connection)
        except BaseException:
            await self.close()
            raise

    @property
    def is_open(self) -> bool:
        return self._connection is not None

    def _open_connection(self) -> aiosqlite.Connection:
        if self._connection is None:
            raise StorageUnavailableError("sqlite")
        return self._connection

    async def _migrate(self, connection: aiosqlite.Connection) -> None:
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)"
        )
        applied = {row[0] for row in await connection.execute_fetchall("SELECT version FROM schema_migrations")}
        for migration in load_migrations("core.storage.sqlite"):
            if migration.version in applied:
                continue
            name = migration.name.replace("'", "''")
            script = (
                f"BEGIN IMMEDIATE;\n{migration.sql}\nINSERT INTO schema_migrations (version, name, applied_at) "
                f"VALUES ({migration.version}, '{name}', {time.time()!r});\nCOMMIT;"
            )
            try:
                await connection.executescript(script)
            except sqlite3.Error as exc:
                if connection.in_transaction:
                    await connection.execute("ROLLBACK")
                raise StorageUnavailableError("sqlite") from exc
            _log.info("SQLite schema migrated to version %d (%s)", migration.version, migration.name)

    async def schema_version(self) -> int:
        async with self.reading() as executor:
            return int(await executor.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_SqliteTransaction]:
        """All statements of the block commit together, or (if it raises) none does."""
        async with self._lock:
            connection = self._open_connection()
            transaction = _SqliteTransaction(connection)
            await transaction.execute("BEGIN IMMEDIATE")
            try:
                yield transaction
            except BaseException:
                await self._rollback(connection)
                raise
            await transaction.execute("COMMIT")

    @staticmethod
    async def _rollback(connection: aiosqlite.Connection) -> None:
        try:
            await connection.execute("ROLLBACK")
        except (sqlite3.Error, ValueError):
            _log.warning("SQLite rollback failed", exc_info=True)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[_SqliteExecutor]:
        async with self._lock:
            yield _SqliteExecutor(self._open_connection())

    def subscribe(self, listener: ChangeListener) -> None:
        self._listeners.append(listener)

    async def close(self) -> None:
        """Close the connection.  Idempotent."""
        connection, self._connection = self._connection, None
        if connection is not None:
            async with self._lock:
                await connection.close()
