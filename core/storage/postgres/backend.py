"""PostgreSQL through an asyncpg pool: transactions, migrations beside this file, LISTEN/NOTIFY.

``async with backend.transaction() as tx`` takes a pooled connection and an asyncpg transaction;
what the block :meth:`~_PostgresTransaction.announce`\\ s is sent with ``pg_notify`` inside that
transaction, so other processes hear of a change only once it is committed.  One extra
connection LISTENs on :data:`CHANNEL`; each announcement from another process is handed to every
subscriber.  If that connection is lost, it is reopened with back-off and subscribers get a
``kind="all"`` event (announcements may have been missed meanwhile).

Migrations run at :meth:`PostgresBackend.open` in one transaction under an advisory lock, so
several processes starting together apply each version once.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from pydantic import ValidationError

from core.errors import StorageUnavailableError
from core.storage.base import ChangeListener, Dialect, Row, load_migrations, rowcount
from core.storage.models import ChangeEvent

__all__ = ["CHANNEL", "PostgresBackend"]

_log = logging.getLogger(__name__)

CHANNEL = "intel_changes"
_MAX_PAYLOAD = 7_000
_MIGRATION_LOCK = 0x1A7E1  # any constant: pg_advisory_xact_lock key shared by every bot process
_DRIVER_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError)

DIALECT = Dialect(
    name="postgresql",
    id_list_template="{column} = ANY(${param}::bigint[])",
    encode_ids=lambda ids: [int(entry_id) for entry_id in ids],
)


class _PostgresExecutor:
    dialect = DIALECT

    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def execute(self, sql: str, *args: object) -> int:
        try:
            return rowcount(await self._connection.execute(sql, *args))
        except _DRIVER_ERRORS as exc:
            raise StorageUnavailableError("postgresql") from exc

    async def executemany(self, sql: str, args: Sequence[Sequence[object]]) -> None:
        if not args:
            return
        try:
            await self._connection.executemany(sql, args)
        except _DRIVER_ERRORS as exc:
            raise StorageUnavailableError("postgresql") from exc

    async def fetch(self, sql: str, *args: object) -> list[Row]:
        try:
            return list(await self._connection.fetch(sql, *args))
        except _DRIVER_ERRORS as exc:
            raise StorageUnavailableError("postgresql") from exc

    async def fetchrow(self, sql: str, *args: object) -> Row | None:
        try:
            row: Row | None = await self._connection.fetchrow(sql, *args)
            return row
        except _DRIVER_ERRORS as exc:
            raise StorageUnavailableError("postgresql") from exc

    async def fetchval(self, sql: str, *args: object) -> Any:
        try:
            return await self._connection.fetchval(sql, *args)
        except _DRIVER_ERRORS as exc:
            raise StorageUnavailableError("postgresql") from exc


class _PostgresTransaction(_PostgresExecutor):
    def __init__(self, connection: asyncpg.Connection, origin: str) -> None:
        super().__init__(connection)
        self._origin = origin
        self.events: list[ChangeEvent] = []

    def announce(self, event: ChangeEvent) -> None:
        self.events.append(event.model_copy(update={"origin": self._origin}))

    async def send_announcements(self) -> None:
        for event in self.events:
            payload = event.model_dump_json()
            if len(payload) > _MAX_PAYLOAD:  # NOTIFY payloads stop at 8,000 bytes; listeners need the guild only
                payload = event.model_copy(update={"entry_ids": []}).model_dump_json()
            await self.execute("SELECT pg_notify($1, $2)", CHANNEL, payload)


class PostgresBackend:
    """The PostgreSQL :class:`~core.storage.base.Backend`.  ``async with PostgresBackend(dsn) as backend``."""

    dialect = DIALECT
    single_process = False

    def __init__(self, dsn: str, *, pool_size: int = 10, reconnect_delay_seconds: float = 1.0) -> None:
        self._dsn = dsn
        self._pool_size = pool_size
        self._reconnect_delay = reconnect_delay_seconds
        self.origin = uuid.uuid4().hex
        self._pool: asyncpg.Pool | None = None
        self._listener: asyncpg.Connection | None = None
        self._listeners: list[ChangeListener] = []
        self._reconnecting: asyncio.Task[None] | None = None
        self._closed = False

    async def __aenter__(self) -> PostgresBackend:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def open(self) -> None:
        if self._pool is not None:
            return
        try:
            self._pool = await asyncpg.create_pool(self._dsn, min_size=1, max_size=self._pool_size)
            await self._migrate()
            await self._listen()
        except _DRIVER_ERRORS as exc:
            await self.close()
            raise StorageUnavailableError("postgresql") from exc
        except BaseException:
            await self.close()
            raise

    @property
    def is_open(self) -> bool:
        return self._pool is not None

    def _open_pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise StorageUnavailableError("postgresql")
        return self._pool

    async def _migrate(self) -> None:
        async with self._open_pool().acquire() as connection, connection.transaction():
            await connection.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
            await connection.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at DOUBLE PRECISION NOT NULL)"
            )
            applied = {row[0] for row in await connection.fetch("SELECT version FROM schema_migrations")}
            for migration in load_migrations("core.storage.postgres"):
                if migration.version in applied:
                    continue
                await connection.execute(migration.sql)
                await connection.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                    migration.version, migration.name, time.time(),
                )
                _log.info("PostgreSQL schema migrated to version %d (%s)", migration.version, migration.name)

    async def schema_version(self) -> int:
        async with self.reading() as executor:
            return int(await executor.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_PostgresTransaction]:
        """All statements of the block commit together, or (if it raises) none does."""
        try:
            async with self._open_pool().acquire() as connection, connection.transaction():
                transaction = _PostgresTransaction(connection, self.origin)
                yield transaction
                await transaction.send_announcements()
        except _DRIVER_ERRORS as exc:  # a failed COMMIT or a lost connection
            raise StorageUnavailableError("postgresql") from exc

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[_PostgresExecutor]:
        try:
            async with self._open_pool().acquire() as connection:
                yield _PostgresExecutor(connection)
        except _DRIVER_ERRORS as exc:
            raise StorageUnavailableError("postgresql") from exc

    # --- announcements ------------------------------------------------------------------------

    def subscribe(self, listener: ChangeListener) -> None:
        self._listeners.append(listener)

    async def _listen(self) -> None:
        connection = await asyncpg.connect(self._dsn)
        await connection.add_listener(CHANNEL, self._on_notification)
        connection.add_termination_listener(self._on_listener_lost)
        self._listener = connection

    def _on_notification(self, connection: object, pid: int, channel: str, payload: str) -> None:
        try:
            event = ChangeEvent.model_validate_json(payload)
        except ValidationError:
            _log.warning("ignored an unreadable announcement on %s: %.200s", channel, payload)
            return
        if event.origin != self.origin:
            self._dispatch(event)

    def _dispatch(self, event: ChangeEvent) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                _log.exception("a change listener failed on %s", event.kind)

    def _on_listener_lost(self, connection: object) -> None:
        self._listener = None
        if not self._closed and self._reconnecting is None:
            self._reconnecting = asyncio.get_running_loop().create_task(self._relisten())

    async def _relisten(self) -> None:
        delay = self._reconnect_delay
        try:
            while not self._closed:
                await asyncio.sleep(delay)
                try:
                    await self._listen()
                except _DRIVER_ERRORS:
                    _log.warning("PostgreSQL LISTEN connection lost; retrying in %.0f s", delay * 2)
                    delay = min(delay * 2, 60.0)
                    continue
                _log.info("PostgreSQL LISTEN connection restored; dropping in-memory caches")
                self._dispatch(ChangeEvent(kind="all"))
                return
        finally:
            self._reconnecting = None

    async def close(self) -> None:
        """Stop listening and close the pool.  Idempotent."""
        self._closed = True
        reconnecting, self._reconnecting = self._reconnecting, None
        if reconnecting is not None:
            reconnecting.cancel()
        listener, self._listener = self._listener, None
        if listener is not None and not listener.is_closed():
            await listener.close()
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()
