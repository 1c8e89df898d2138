"""The one SQLite database (aiosqlite, WAL): the source of truth for everything the bot stores.

Each component owns its tables and creates them with :meth:`Database.ensure_schema` at start-up.
"""

from __future__ import annotations

import logging
from pathlib import Path

import aiosqlite

__all__ = ["Database"]

_log = logging.getLogger(__name__)


class Database:
    """An aiosqlite connection with WAL and foreign keys on.  ``async with Database(path) as db``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._connection: aiosqlite.Connection | None = None

    async def __aenter__(self) -> Database:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def open(self) -> None:
        if self._connection is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = await aiosqlite.connect(self.path)
        connection.row_factory = aiosqlite.Row
        await connection.execute("PRAGMA journal_mode=WAL")
        await connection.execute("PRAGMA synchronous=NORMAL")
        await connection.execute("PRAGMA foreign_keys=ON")
        await connection.execute("PRAGMA busy_timeout=5000")
        self._connection = connection

    @property
    def connection(self) -> aiosqlite.Connection:
        if self._connection is None:
            raise RuntimeError("Database is not open")
        return self._connection

    async def ensure_schema(self, script: str) -> None:
        """Run an idempotent ``CREATE ... IF NOT EXISTS`` script and commit."""
        await self.connection.executescript(script)
        await self.connection.commit()

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.close()
