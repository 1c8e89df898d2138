"""The cache's source of truth: rows in the shared SQLite database.

Each entry row keeps its guild, namespace, exact-layer key, query text, embedding, payload (JSON
with its type tag and schema version in their own columns), created / last-used / expiry times
and hit count.  Extra exact keys (normalised URLs, content hashes) live in ``cache_aliases`` and
point at an entry.  Counters per guild and hourly lookup buckets feed ``/cache stats``.

Every operation is one synchronous function run whole on aiosqlite's connection thread, inside
one transaction (``Connection._execute``: aiosqlite's own single-hop gate, the pattern STYLE.md
holds up).  That keeps a store's insert + eviction atomic on the shared connection and an exact
hit to one round trip for the read and one for the write.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from core.cache.models import CacheStats, EntryRow, HitKind, IndexRow, NewEntry, StoreOutcome
from core.db import Database
from core.errors import CacheUnavailableError

__all__ = ["MetadataStore", "SqliteMetadataStore"]

_log = logging.getLogger(__name__)

ResultT = TypeVar("ResultT")


_HOUR = 3600
_KEEP_HOURS = 8 * 24

SCHEMA = """
CREATE TABLE IF NOT EXISTS cache_entries (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id       INTEGER NOT NULL,
    namespace      TEXT    NOT NULL,
    key_hash       TEXT    NOT NULL,
    query_text     TEXT    NOT NULL,
    embedding      BLOB,
    value_type     TEXT    NOT NULL,
    schema_version INTEGER NOT NULL,
    payload        TEXT    NOT NULL,
    created_at     REAL    NOT NULL,
    last_used_at   REAL    NOT NULL,
    expires_at     REAL    NOT NULL,
    hit_count      INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX IF NOT EXISTS cache_entries_key ON cache_entries (guild_id, namespace, key_hash);
CREATE INDEX IF NOT EXISTS cache_entries_lru ON cache_entries (guild_id, last_used_at);
CREATE INDEX IF NOT EXISTS cache_entries_expiry ON cache_entries (guild_id, expires_at);
CREATE TABLE IF NOT EXISTS cache_aliases (
    guild_id  INTEGER NOT NULL,
    namespace TEXT    NOT NULL,
    key_hash  TEXT    NOT NULL,
    entry_id  INTEGER NOT NULL REFERENCES cache_entries (id) ON DELETE CASCADE,
    PRIMARY KEY (guild_id, namespace, key_hash)
);
CREATE INDEX IF NOT EXISTS cache_aliases_entry ON cache_aliases (entry_id);
CREATE TABLE IF NOT EXISTS cache_counters (
    guild_id      INTEGER PRIMARY KEY,
    exact_hits    INTEGER NOT NULL DEFAULT 0,
    semantic_hits INTEGER NOT NULL DEFAULT 0,
    misses        INTEGER NOT NULL DEFAULT 0,
    stale         INTEGER NOT NULL DEFAULT 0,
    evictions     INTEGER NOT NULL DEFAULT 0,
    expired       INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS cache_lookups_hourly (
    guild_id INTEGER NOT NULL,
    hour     INTEGER NOT NULL,
    hits     INTEGER NOT NULL DEFAULT 0,
    lookups  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (guild_id, hour)
);
"""

_ENTRY_COLUMNS = (
    "id, guild_id, namespace, query_text, value_type, schema_version, payload, created_at, expires_at"
)
_COUNTER_COLUMNS = ("exact_hits", "semantic_hits", "misses", "stale", "evictions", "expired")


class MetadataStore(Protocol):
    """What the cache needs of its row store.  Every method returns pydantic models or plain values."""

    async def setup(self) -> None: ...

    async def find_by_key(self, guild_id: int, namespace: str, key_hash: str, *, now: float) -> EntryRow | None: ...

    async def get_entry(self, guild_id: int, namespace: str, entry_id: int, *, now: float) -> EntryRow | None: ...

    async def insert(
        self, guild_id: int, namespace: str, entries: Sequence[NewEntry], *, now: float, expires_at: float,
        capacity: int,
    ) -> StoreOutcome: ...

    async def record_hit(
        self, guild_id: int, entry_id: int, *, how: HitKind, now: float, expires_at: float
    ) -> None: ...

    async def record_miss(self, guild_id: int, *, now: float, stale_entry_id: int | None = None) -> None: ...

    async def delete(self, guild_id: int, entry_id: int) -> bool: ...

    async def clear(self, guild_id: int) -> int: ...

    async def purge_expired(self, guild_id: int, *, now: float) -> list[int]: ...

    async def index_rows(self, guild_id: int) -> list[IndexRow]: ...

    async def embeddings(self, guild_id: int, entry_ids: Sequence[int]) -> dict[int, bytes]: ...

    async def stats(self, guild_id: int, *, now: float) -> CacheStats: ...


def _in_transaction(connection: Any, work: Callable[..., ResultT], *args: Any) -> ResultT:
    """Run ``work(sqlite3_connection, *args)`` on the connection thread; commit, or roll back on error."""
    sqlite_connection: sqlite3.Connection = connection._conn
    try:
        result = work(sqlite_connection, *args)
        sqlite_connection.commit()
        return result
    except BaseException:
        sqlite_connection.rollback()
        raise


def _entry(row: sqlite3.Row) -> EntryRow:
    return EntryRow(
        entry_id=row["id"], guild_id=row["guild_id"], namespace=row["namespace"], query_text=row["query_text"],
        value_type=row["value_type"], schema_version=row["schema_version"], payload=row["payload"],
        created_at=row["created_at"], expires_at=row["expires_at"],
    )


def _bump(connection: sqlite3.Connection, guild_id: int, **deltas: int) -> None:
    columns = [name for name in _COUNTER_COLUMNS if deltas.get(name)]
    if not columns:
        return
    assignments = ", ".join(f"{name} = {name} + excluded.{name}" for name in columns)
    connection.execute(
        f"INSERT INTO cache_counters (guild_id, {', '.join(columns)}) VALUES (?{', ?' * len(columns)}) "
        f"ON CONFLICT(guild_id) DO UPDATE SET {assignments}",
        (guild_id, *(deltas[name] for name in columns)),
    )


def _count_lookup(connection: sqlite3.Connection, guild_id: int, *, now: float, hit: bool) -> None:
    connection.execute(
        "INSERT INTO cache_lookups_hourly (guild_id, hour, hits, lookups) VALUES (?, ?, ?, 1) "
        "ON CONFLICT(guild_id, hour) DO UPDATE SET hits = hits + excluded.hits, lookups = lookups + 1",
        (guild_id, int(now // _HOUR), int(hit)),
    )


def _delete_ids(connection: sqlite3.Connection, entry_ids: Sequence[int]) -> None:
    connection.executemany("DELETE FROM cache_entries WHERE id = ?", [(entry_id,) for entry_id in entry_ids])


def _expired_ids(connection: sqlite3.Connection, guild_id: int, *, now: float) -> list[int]:
    rows = connection.execute(
        "SELECT id FROM cache_entries WHERE guild_id = ? AND expires_at <= ?", (guild_id, now)
    ).fetchall()
    return [row[0] for row in rows]


def _lru_victims(connection: sqlite3.Connection, guild_id: int, *, capacity: int) -> list[int]:
    (count,) = connection.execute("SELECT COUNT(*) FROM cache_entries WHERE guild_id = ?", (guild_id,)).fetchone()
    if count <= capacity:
        return []
    rows = connection.execute(
        "SELECT id FROM cache_entries WHERE guild_id = ? ORDER BY last_used_at, id LIMIT ?",
        (guild_id, count - capacity),
    ).fetchall()
    return [row[0] for row in rows]


def _insert_one(
    connection: sqlite3.Connection, guild_id: int, namespace: str, entry: NewEntry, *, now: float, expires_at: float
) -> tuple[int, int | None]:
    """Insert one entry, replacing any entry with the same key; returns (new id, replaced id)."""
    old = connection.execute(
        "SELECT id FROM cache_entries WHERE guild_id = ? AND namespace = ? AND key_hash = ?",
        (guild_id, namespace, entry.key_hash),
    ).fetchone()
    if old is not None:
        _delete_ids(connection, [old[0]])
    cursor = connection.execute(
        "INSERT INTO cache_entries (guild_id, namespace, key_hash, query_text, embedding, value_type, "
        "schema_version, payload, created_at, last_used_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (guild_id, namespace, entry.key_hash, entry.query_text, entry.embedding, entry.value_type,
         entry.schema_version, entry.payload, now, now, expires_at),
    )
    entry_id = int(cursor.lastrowid or 0)
    connection.executemany(
        "INSERT INTO cache_aliases (guild_id, namespace, key_hash, entry_id) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(guild_id, namespace, key_hash) DO UPDATE SET entry_id = excluded.entry_id",
        [(guild_id, namespace, alias, entry_id) for alias in entry.alias_hashes],
    )
    return entry_id, (old[0] if old is not None else None)


class SqliteMetadataStore:
    """:class:`MetadataStore` over the shared :class:`~core.db.Database`."""

    def __init__(self, database: Database) -> None:
        self._database = database

    async def _run(self, work: Callable[..., ResultT], *args: Any) -> ResultT:
        connection = self._database.connection
        try:
            return await connection._execute(_in_transaction, connection, work, *args)
        except (sqlite3.Error, ValueError) as exc:  # aiosqlite raises ValueError once closed
            raise CacheUnavailableError() from exc

    async def setup(self) -> None:
        await self._database.ensure_schema(SCHEMA)

    async def find_by_key(self, guild_id: int, namespace: str, key_hash: str, *, now: float) -> EntryRow | None:
        def work(connection: sqlite3.Connection) -> EntryRow | None:
            row = connection.execute(
                f"SELECT {_ENTRY_COLUMNS} FROM cache_entries WHERE guild_id = ? AND namespace = ? AND key_hash = ? "
                "AND expires_at > ?", (guild_id, namespace, key_hash, now),
            ).fetchone()
            if row is None:
                row = connection.execute(
                    f"SELECT {', '.join('e.' + name.strip() for name in _ENTRY_COLUMNS.split(','))} "
                    "FROM cache_aliases a JOIN cache_entries e ON e.id = a.entry_id "
                    "WHERE a.guild_id = ? AND a.namespace = ? AND a.key_hash = ? AND e.guild_id = ? "
                    "AND e.expires_at > ?", (guild_id, namespace, key_hash, guild_id, now),
                ).fetchone()
            return None if row is None else _entry(row)

        return await self._run(work)

    async def get_entry(self, guild_id: int, namespace: str, entry_id: int, *, now: float) -> EntryRow | None:
        def work(connection: sqlite3.Connection) -> EntryRow | None:
            row = connection.execute(
                f"SELECT {_ENTRY_COLUMNS} FROM cache_entries WHERE id = ? AND guild_id = ? AND namespace = ? "
                "AND expires_at > ?", (entry_id, guild_id, namespace, now),
            ).fetchone()
            return None if row is None else _entry(row)

        return await self._run(work)

    async def insert(
        self, guild_id: int, namespace: str, entries: Sequence[NewEntry], *, now: float, expires_at: float,
        capacity: int,
    ) -> StoreOutcome:
        def work(connection: sqlite3.Connection) -> StoreOutcome:
            entry_ids: list[int] = []
            removed: list[int] = []
            for entry in entries:
                entry_id, replaced = _insert_one(connection, guild_id, namespace, entry, now=now, expires_at=expires_at)
                entry_ids.append(entry_id)
                removed.extend([replaced] if replaced is not None else [])
            expired = _expired_ids(connection, guild_id, now=now)
            _delete_ids(connection, expired)
            evicted = _lru_victims(connection, guild_id, capacity=capacity)
            _delete_ids(connection, evicted)
            _bump(connection, guild_id, evictions=len(evicted), expired=len(expired))
            connection.execute(
                "DELETE FROM cache_lookups_hourly WHERE guild_id = ? AND hour < ?",
                (guild_id, int(now // _HOUR) - _KEEP_HOURS),
            )
            return StoreOutcome(
                entry_ids=entry_ids, removed_ids=removed + expired + evicted, evicted=len(evicted), expired=len(expired)
            )

        return await self._run(work)

    async def record_hit(
        self, guild_id: int, entry_id: int, *, how: HitKind, now: float, expires_at: float
    ) -> None:
        def work(connection: sqlite3.Connection) -> None:
            connection.execute(
                "UPDATE cache_entries SET last_used_at = ?, expires_at = ?, hit_count = hit_count + 1 "
                "WHERE id = ? AND guild_id = ?", (now, expires_at, entry_id, guild_id),
            )
            _bump(connection, guild_id, **{f"{how}_hits": 1})
            _count_lookup(connection, guild_id, now=now, hit=True)

        await self._run(work)

    async def record_miss(self, guild_id: int, *, now: float, stale_entry_id: int | None = None) -> None:
        """Count a miss; a stale entry met on the way (payload no longer valid) is removed and counted."""

        def work(connection: sqlite3.Connection) -> None:
            if stale_entry_id is not None:
                connection.execute(
                    "DELETE FROM cache_entries WHERE id = ? AND guild_id = ?", (stale_entry_id, guild_id)
                )
            _bump(connection, guild_id, misses=1, stale=int(stale_entry_id is not None))
            _count_lookup(connection, guild_id, now=now, hit=False)

        await self._run(work)

    async def delete(self, guild_id: int, entry_id: int) -> bool:
        def work(connection: sqlite3.Connection) -> bool:
            cursor = connection.execute(
                "DELETE FROM cache_entries WHERE id = ? AND guild_id = ?", (entry_id, guild_id)
            )
            return cursor.rowcount > 0

        return await self._run(work)

    async def clear(self, guild_id: int) -> int:
        def work(connection: sqlite3.Connection) -> int:
            connection.execute("DELETE FROM cache_aliases WHERE guild_id = ?", (guild_id,))
            return connection.execute("DELETE FROM cache_entries WHERE guild_id = ?", (guild_id,)).rowcount

        return await self._run(work)

    async def purge_expired(self, guild_id: int, *, now: float) -> list[int]:
        def work(connection: sqlite3.Connection) -> list[int]:
            expired = _expired_ids(connection, guild_id, now=now)
            _delete_ids(connection, expired)
            _bump(connection, guild_id, expired=len(expired))
            return expired

        return await self._run(work)

    async def index_rows(self, guild_id: int) -> list[IndexRow]:
        def work(connection: sqlite3.Connection) -> list[IndexRow]:
            rows = connection.execute(
                "SELECT id, namespace, query_text, expires_at FROM cache_entries "
                "WHERE guild_id = ? AND embedding IS NOT NULL", (guild_id,),
            ).fetchall()
            return [
                IndexRow(entry_id=row[0], namespace=row[1], query_text=row[2], expires_at=row[3]) for row in rows
            ]

        return await self._run(work)

    async def embeddings(self, guild_id: int, entry_ids: Sequence[int]) -> dict[int, bytes]:
        def work(connection: sqlite3.Connection) -> dict[int, bytes]:
            found: dict[int, bytes] = {}
            for start in range(0, len(entry_ids), 500):
                chunk = list(entry_ids[start:start + 500])
                rows = connection.execute(
                    f"SELECT id, embedding FROM cache_entries WHERE guild_id = ? AND embedding IS NOT NULL "
                    f"AND id IN ({', '.join('?' * len(chunk))})", (guild_id, *chunk),
                ).fetchall()
                found.update({row[0]: row[1] for row in rows})
            return found

        return await self._run(work)

    async def stats(self, guild_id: int, *, now: float) -> CacheStats:
        def work(connection: sqlite3.Connection) -> CacheStats:
            entries, semantic, row_bytes = connection.execute(
                "SELECT COUNT(*), COUNT(embedding), COALESCE(SUM(length(payload) + length(query_text) "
                "+ COALESCE(length(embedding), 0)), 0) FROM cache_entries WHERE guild_id = ?", (guild_id,),
            ).fetchone()
            counters = connection.execute(
                f"SELECT {', '.join(_COUNTER_COLUMNS)} FROM cache_counters WHERE guild_id = ?", (guild_id,)
            ).fetchone()
            hour = int(now // _HOUR)
            windows = connection.execute(
                "SELECT COALESCE(SUM(CASE WHEN hour > ? THEN hits END), 0), "
                "COALESCE(SUM(CASE WHEN hour > ? THEN lookups END), 0), COALESCE(SUM(hits), 0), "
                "COALESCE(SUM(lookups), 0) FROM cache_lookups_hourly WHERE guild_id = ? AND hour > ?",
                (hour - 24, hour - 24, guild_id, hour - 7 * 24),
            ).fetchone()
            return CacheStats(
                guild_id=guild_id, entries=entries, semantic_entries=semantic, rows_bytes=row_bytes,
                **(dict(zip(_COUNTER_COLUMNS, counters, strict=True)) if counters else {}),
                hits_24h=windows[0], lookups_24h=windows[1], hits_7d=windows[2], lookups_7d=windows[3],
            )

        return await self._run(work)
