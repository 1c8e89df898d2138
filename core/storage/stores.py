"""The stores, written once over :class:`~core.storage.base.Backend` and run by both backends.

Each public method is one transaction (writes) or one read.  SQL uses ``$1`` placeholders and
only portable syntax (``ON CONFLICT ... DO UPDATE``, ``RETURNING``, ``CAST``); the one dialect
difference, a list of ids as a single parameter, is the backend's :class:`~core.storage.base.Dialect`.
Sums are cast so both backends return ``int`` / ``float`` (PostgreSQL's ``SUM(bigint)`` is numeric).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from core.errors import CacheUnavailableError, StorageUnavailableError
from core.storage.base import Backend, Executor, Row, Transaction
from core.storage.models import (
    CacheStats,
    ChangeEvent,
    ChunkHitRow,
    ChunkVector,
    EntryRow,
    GuildSpend,
    HitKind,
    IndexRow,
    NewEntry,
    NewReport,
    ReportSummary,
    StoreOutcome,
    feedback_key,
)

__all__ = ["SqlCacheRows", "SqlFeedbackRows", "SqlGuildSettingsRows", "SqlReportRows", "SqlSpendRows"]

_log = logging.getLogger(__name__)

_HOUR = 3600
_KEEP_HOURS = 8 * 24
_ENTRY_COLUMNS = "id, guild_id, namespace, query_text, value_type, schema_version, payload, created_at, expires_at"
_COUNTER_COLUMNS = ("exact_hits", "semantic_hits", "misses", "stale", "evictions", "expired")


def _entry(row: Row) -> EntryRow:
    return EntryRow(
        entry_id=row["id"], guild_id=row["guild_id"], namespace=row["namespace"], query_text=row["query_text"],
        value_type=row["value_type"], schema_version=row["schema_version"], payload=row["payload"],
        created_at=row["created_at"], expires_at=row["expires_at"],
    )


# --- cache ----------------------------------------------------------------------------------------


async def _bump(tx: Executor, guild_id: int, **deltas: int) -> None:
    columns = [name for name in _COUNTER_COLUMNS if deltas.get(name)]
    if not columns:
        return
    marks = ", ".join(f"${number}" for number in range(2, len(columns) + 2))
    assignments = ", ".join(f"{name} = cache_counters.{name} + excluded.{name}" for name in columns)
    await tx.execute(
        f"INSERT INTO cache_counters (guild_id, {', '.join(columns)}) VALUES ($1, {marks}) "
        f"ON CONFLICT (guild_id) DO UPDATE SET {assignments}",
        guild_id, *(deltas[name] for name in columns),
    )


async def _count_lookup(tx: Executor, guild_id: int, *, now: float, hit: bool) -> None:
    await tx.execute(
        "INSERT INTO cache_lookups_hourly (guild_id, hour, hits, lookups) VALUES ($1, $2, $3, 1) "
        "ON CONFLICT (guild_id, hour) DO UPDATE SET hits = cache_lookups_hourly.hits + excluded.hits, "
        "lookups = cache_lookups_hourly.lookups + 1",
        guild_id, int(now // _HOUR), int(hit),
    )


async def _delete_ids(tx: Executor, entry_ids: Sequence[int]) -> None:
    if entry_ids:
        await tx.execute(f"DELETE FROM cache_entries WHERE {tx.dialect.in_ids('id', 1)}",
                         tx.dialect.encode_ids(entry_ids))


async def _expired_ids(tx: Executor, guild_id: int, *, now: float) -> list[int]:
    rows = await tx.fetch("SELECT id FROM cache_entries WHERE guild_id = $1 AND expires_at <= $2", guild_id, now)
    return [int(row[0]) for row in rows]


async def _lru_victims(tx: Executor, guild_id: int, *, capacity: int) -> list[int]:
    count = int(await tx.fetchval("SELECT COUNT(*) FROM cache_entries WHERE guild_id = $1", guild_id))
    if count <= capacity:
        return []
    rows = await tx.fetch(
        "SELECT id FROM cache_entries WHERE guild_id = $1 ORDER BY last_used_at, id LIMIT $2",
        guild_id, count - capacity,
    )
    return [int(row[0]) for row in rows]


async def _insert_one(
    tx: Executor, guild_id: int, namespace: str, entry: NewEntry, *, now: float, expires_at: float
) -> tuple[int, int | None]:
    """Insert one entry, replacing any entry with the same key; returns (new id, replaced id)."""
    old = await tx.fetchval(
        "SELECT id FROM cache_entries WHERE guild_id = $1 AND namespace = $2 AND key_hash = $3",
        guild_id, namespace, entry.key_hash,
    )
    if old is not None:
        await _delete_ids(tx, [int(old)])
    entry_id = int(await tx.fetchval(
        "INSERT INTO cache_entries (guild_id, namespace, key_hash, query_text, embedding, value_type, "
        "schema_version, payload, created_at, last_used_at, expires_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        guild_id, namespace, entry.key_hash, entry.query_text, entry.embedding, entry.value_type,
        entry.schema_version, entry.payload, now, now, expires_at,
    ))
    await tx.executemany(
        "INSERT INTO cache_aliases (guild_id, namespace, key_hash, entry_id) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (guild_id, namespace, key_hash) DO UPDATE SET entry_id = excluded.entry_id",
        [(guild_id, namespace, alias, entry_id) for alias in entry.alias_hashes],
    )
    return entry_id, (int(old) if old is not None else None)


class SqlCacheRows:
    """:class:`~core.storage.protocols.CacheRows`.  Storage failures become :class:`CacheUnavailableError`."""

    def __init__(self, backend: Backend) -> None:
        self._backend = backend

    @asynccontextmanager
    async def _writing(self) -> AsyncIterator[Transaction]:
        try:
            async with self._backend.transaction() as tx:
                yield tx
        except StorageUnavailableError as exc:
            raise CacheUnavailableError() from exc

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[Executor]:
        try:
            async with self._backend.reading() as executor:
                yield executor
        except StorageUnavailableError as exc:
            raise CacheUnavailableError() from exc

    async def find_by_key(self, guild_id: int, namespace: str, key_hash: str, *, now: float) -> EntryRow | None:
        async with self._reading() as db:
            row = await db.fetchrow(
                f"SELECT {_ENTRY_COLUMNS} FROM cache_entries WHERE guild_id = $1 AND namespace = $2 "
                "AND key_hash = $3 AND expires_at > $4", guild_id, namespace, key_hash, float(now),
            )
            if row is None:
                columns = ", ".join("e." + name.strip() for name in _ENTRY_COLUMNS.split(","))
                row = await db.fetchrow(
                    f"SELECT {columns} FROM cache_aliases a JOIN cache_entries e ON e.id = a.entry_id "
                    "WHERE a.guild_id = $1 AND a.namespace = $2 AND a.key_hash = $3 AND e.guild_id = $1 "
                    "AND e.expires_at > $4", guild_id, namespace, key_hash, float(now),
                )
        return None if row is None else _entry(row)

    async def get_entry(self, guild_id: int, namespace: str, entry_id: int, *, now: float) -> EntryRow | None:
        async with self._reading() as db:
            row = await db.fetchrow(
                f"SELECT {_ENTRY_COLUMNS} FROM cache_entries WHERE id = $1 AND guild_id = $2 AND namespace = $3 "
                "AND expires_at > $4", entry_id, guild_id, namespace, float(now),
            )
        return None if row is None else _entry(row)

    async def insert(
        self, guild_id: int, namespace: str, entries: Sequence[NewEntry], *, now: float, expires_at: float,
        capacity: int,
    ) -> StoreOutcome:
        now, expires_at = float(now), float(expires_at)
        async with self._writing() as tx:
            entry_ids: list[int] = []
            removed: list[int] = []
            for entry in entries:
                entry_id, replaced = await _insert_one(tx, guild_id, namespace, entry, now=now, expires_at=expires_at)
                entry_ids.append(entry_id)
                removed.extend([replaced] if replaced is not None else [])
            expired = await _expired_ids(tx, guild_id, now=now)
            await _delete_ids(tx, expired)
            evicted = await _lru_victims(tx, guild_id, capacity=capacity)
            await _delete_ids(tx, evicted)
            await _bump(tx, guild_id, evictions=len(evicted), expired=len(expired))
            await tx.execute(
                "DELETE FROM cache_lookups_hourly WHERE guild_id = $1 AND hour < $2",
                guild_id, int(now // _HOUR) - _KEEP_HOURS,
            )
            tx.announce(ChangeEvent(kind="cache_stored", guild_id=guild_id, entry_ids=entry_ids))
        return StoreOutcome(
            entry_ids=entry_ids, removed_ids=removed + expired + evicted, evicted=len(evicted), expired=len(expired)
        )

    async def record_hit(
        self, guild_id: int, entry_id: int, *, how: HitKind, now: float, expires_at: float
    ) -> None:
        async with self._writing() as tx:
            await tx.execute(
                "UPDATE cache_entries SET last_used_at = $1, expires_at = $2, hit_count = hit_count + 1 "
                "WHERE id = $3 AND guild_id = $4", float(now), float(expires_at), entry_id, guild_id,
            )
            await _bump(tx, guild_id, **{f"{how}_hits": 1})
            await _count_lookup(tx, guild_id, now=now, hit=True)

    async def record_miss(self, guild_id: int, *, now: float, stale_entry_id: int | None = None) -> None:
        """Count a miss; a stale entry met on the way (payload no longer valid) is removed and counted."""
        async with self._writing() as tx:
            if stale_entry_id is not None:
                await tx.execute("DELETE FROM cache_entries WHERE id = $1 AND guild_id = $2", stale_entry_id, guild_id)
                tx.announce(ChangeEvent(kind="cache_forgotten", guild_id=guild_id, entry_ids=[stale_entry_id]))
            await _bump(tx, guild_id, misses=1, stale=int(stale_entry_id is not None))
            await _count_lookup(tx, guild_id, now=now, hit=False)

    async def delete(self, guild_id: int, entry_id: int) -> bool:
        async with self._writing() as tx:
            changed = await tx.execute("DELETE FROM cache_entries WHERE id = $1 AND guild_id = $2", entry_id, guild_id)
            if changed:
                tx.announce(ChangeEvent(kind="cache_forgotten", guild_id=guild_id, entry_ids=[entry_id]))
        return changed > 0

    async def clear(self, guild_id: int) -> int:
        async with self._writing() as tx:
            await tx.execute("DELETE FROM cache_aliases WHERE guild_id = $1", guild_id)
            removed = await tx.execute("DELETE FROM cache_entries WHERE guild_id = $1", guild_id)
            tx.announce(ChangeEvent(kind="cache_cleared", guild_id=guild_id))
        return removed

    async def purge_expired(self, guild_id: int, *, now: float) -> list[int]:
        async with self._writing() as tx:
            expired = await _expired_ids(tx, guild_id, now=float(now))
            await _delete_ids(tx, expired)
            await _bump(tx, guild_id, expired=len(expired))
            if expired:
                tx.announce(ChangeEvent(kind="cache_forgotten", guild_id=guild_id, entry_ids=expired))
        return expired

    async def index_rows(self, guild_id: int) -> list[IndexRow]:
        async with self._reading() as db:
            rows = await db.fetch(
                "SELECT id, namespace, query_text, expires_at FROM cache_entries "
                "WHERE guild_id = $1 AND embedding IS NOT NULL", guild_id,
            )
        return [IndexRow(entry_id=row[0], namespace=row[1], query_text=row[2], expires_at=row[3]) for row in rows]

    async def embeddings(self, guild_id: int, entry_ids: Sequence[int]) -> dict[int, bytes]:
        found: dict[int, bytes] = {}
        async with self._reading() as db:
            for start in range(0, len(entry_ids), 5_000):
                chunk = entry_ids[start:start + 5_000]
                rows = await db.fetch(
                    "SELECT id, embedding FROM cache_entries WHERE guild_id = $1 AND embedding IS NOT NULL "
                    f"AND {db.dialect.in_ids('id', 2)}", guild_id, db.dialect.encode_ids(chunk),
                )
                found.update({int(row[0]): bytes(row[1]) for row in rows})
        return found

    async def stats(self, guild_id: int, *, now: float) -> CacheStats:
        hour = int(now // _HOUR)
        async with self._reading() as db:
            sizes = await db.fetchrow(
                "SELECT COUNT(*), COUNT(embedding), CAST(COALESCE(SUM(length(payload) + length(query_text) "
                "+ COALESCE(length(embedding), 0)), 0) AS BIGINT) FROM cache_entries WHERE guild_id = $1", guild_id,
            )
            counters = await db.fetchrow(
                f"SELECT {', '.join(_COUNTER_COLUMNS)} FROM cache_counters WHERE guild_id = $1", guild_id
            )
            windows = await db.fetchrow(
                "SELECT CAST(COALESCE(SUM(CASE WHEN hour > $1 THEN hits END), 0) AS BIGINT), "
                "CAST(COALESCE(SUM(CASE WHEN hour > $1 THEN lookups END), 0) AS BIGINT), "
                "CAST(COALESCE(SUM(hits), 0) AS BIGINT), CAST(COALESCE(SUM(lookups), 0) AS BIGINT) "
                "FROM cache_lookups_hourly WHERE guild_id = $2 AND hour > $3",
                hour - 24, guild_id, hour - 7 * 24,
            )
        assert sizes is not None and windows is not None
        counted = {name: counters[position] for position, name in enumerate(_COUNTER_COLUMNS)} if counters else {}
        return CacheStats(
            guild_id=guild_id, entries=sizes[0], semantic_entries=sizes[1], rows_bytes=sizes[2], **counted,
            hits_24h=windows[0], lookups_24h=windows[1], hits_7d=windows[2], lookups_7d=windows[3],
        )


# --- reports --------------------------------------------------------------------------------------

_SUMMARY_COLUMNS = "id, title, source_urls, depth, engine, created_at"


def _summary(row: Row) -> ReportSummary:
    return ReportSummary(report_id=row["id"], title=row["title"], source_urls=row["source_urls"].split(),
                         depth=row["depth"], engine=row["engine"], created_at=row["created_at"])


class SqlReportRows:
    """:class:`~core.storage.protocols.ReportRows`."""

    def __init__(self, backend: Backend) -> None:
        self._backend = backend

    async def add(self, report: NewReport) -> tuple[int, list[int]]:
        async with self._backend.transaction() as tx:
            report_id = int(await tx.fetchval(
                "INSERT INTO reports (guild_id, user_id, title, source_urls, depth, engine, payload, fingerprint, "
                "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                report.guild_id, report.user_id, report.title, " ".join(report.source_urls), report.depth,
                report.engine, report.payload, report.fingerprint, float(report.created_at),
            ))
            chunk_ids = [
                int(await tx.fetchval(
                    "INSERT INTO report_chunks (report_id, guild_id, kind, text, embedding) "
                    "VALUES ($1, $2, $3, $4, $5) RETURNING id",
                    report_id, report.guild_id, chunk.kind, chunk.text, chunk.embedding,
                ))
                for chunk in report.chunks
            ]
            tx.announce(ChangeEvent(kind="report_added", guild_id=report.guild_id, entry_ids=[report_id]))
        return report_id, chunk_ids

    async def chunk_vectors(self, guild_id: int) -> list[ChunkVector]:
        async with self._backend.reading() as db:
            rows = await db.fetch("SELECT id, embedding FROM report_chunks WHERE guild_id = $1 ORDER BY id", guild_id)
        return [ChunkVector(chunk_id=row[0], embedding=bytes(row[1])) for row in rows]

    async def chunk_hits(self, guild_id: int, chunk_ids: Sequence[int]) -> list[ChunkHitRow]:
        if not chunk_ids:
            return []
        async with self._backend.reading() as db:
            rows = await db.fetch(
                "SELECT c.id, c.report_id, c.kind, c.text, r.title FROM report_chunks c "
                f"JOIN reports r ON r.id = c.report_id WHERE c.guild_id = $1 AND {db.dialect.in_ids('c.id', 2)}",
                guild_id, db.dialect.encode_ids(chunk_ids),
            )
        return [ChunkHitRow(chunk_id=row[0], report_id=row[1], kind=row[2], text=row[3], title=row[4]) for row in rows]

    async def summaries(self, guild_id: int, report_ids: Sequence[int]) -> list[ReportSummary]:
        if not report_ids:
            return []
        async with self._backend.reading() as db:
            rows = await db.fetch(
                f"SELECT {_SUMMARY_COLUMNS} FROM reports WHERE guild_id = $1 AND {db.dialect.in_ids('id', 2)}",
                guild_id, db.dialect.encode_ids(report_ids),
            )
        return [_summary(row) for row in rows]

    async def history(self, guild_id: int, *, limit: int, offset: int) -> list[ReportSummary]:
        async with self._backend.reading() as db:
            rows = await db.fetch(
                f"SELECT {_SUMMARY_COLUMNS} FROM reports WHERE guild_id = $1 ORDER BY id DESC LIMIT $2 OFFSET $3",
                guild_id, limit, offset,
            )
        return [_summary(row) for row in rows]

    async def find_by_fingerprint(self, guild_id: int, fingerprint: str) -> int | None:
        async with self._backend.reading() as db:
            found = await db.fetchval(
                "SELECT id FROM reports WHERE guild_id = $1 AND fingerprint = $2 ORDER BY id DESC LIMIT 1",
                guild_id, fingerprint,
            )
        return None if found is None else int(found)

    async def latest_id(self, guild_id: int) -> int:
        async with self._backend.reading() as db:
            found = await db.fetchval("SELECT MAX(id) FROM reports WHERE guild_id = $1", guild_id)
        return 0 if found is None else int(found)

    async def count(self, guild_id: int) -> int:
        async with self._backend.reading() as db:
            return int(await db.fetchval("SELECT COUNT(*) FROM reports WHERE guild_id = $1", guild_id))

    async def payload(self, guild_id: int, report_id: int) -> str | None:
        async with self._backend.reading() as db:
            found = await db.fetchval("SELECT payload FROM reports WHERE guild_id = $1 AND id = $2", guild_id, report_id)
        return None if found is None else str(found)


# --- guild settings -------------------------------------------------------------------------------


class SqlGuildSettingsRows:
    """:class:`~core.storage.protocols.GuildSettingsRows`."""

    def __init__(self, backend: Backend) -> None:
        self._backend = backend

    async def get(self, guild_id: int) -> str | None:
        async with self._backend.reading() as db:
            found = await db.fetchval("SELECT data FROM guild_settings WHERE guild_id = $1", guild_id)
        return None if found is None else str(found)

    async def put(self, guild_id: int, data: str, *, updated_at: float) -> None:
        async with self._backend.transaction() as tx:
            await tx.execute(
                "INSERT INTO guild_settings (guild_id, data, updated_at) VALUES ($1, $2, $3) "
                "ON CONFLICT (guild_id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
                guild_id, data, float(updated_at),
            )
            tx.announce(ChangeEvent(kind="guild_settings", guild_id=guild_id))


# --- LLM spend ------------------------------------------------------------------------------------


class SqlSpendRows:
    """:class:`~core.storage.protocols.SpendRows`: ``llm_spend`` per model, ``llm_budget`` per guild and day."""

    def __init__(self, backend: Backend) -> None:
        self._backend = backend

    async def spent(self, guild_id: int, day: str) -> GuildSpend:
        async with self._backend.reading() as db:
            row = await db.fetchrow(
                "SELECT CAST(COALESCE(SUM(calls), 0) AS BIGINT), CAST(COALESCE(SUM(prompt_tokens), 0) AS BIGINT), "
                "CAST(COALESCE(SUM(completion_tokens), 0) AS BIGINT), "
                "CAST(COALESCE(SUM(cost_usd), 0) AS DOUBLE PRECISION) FROM llm_spend WHERE guild_id = $1 AND day = $2",
                guild_id, day,
            )
        assert row is not None
        return GuildSpend(guild_id=guild_id, day=day, calls=row[0], prompt_tokens=row[1], completion_tokens=row[2],
                          cost_usd=row[3])

    async def record(
        self, guild_id: int, day: str, *, model: str, prompt_tokens: int, completion_tokens: int, cost_usd: float
    ) -> None:
        async with self._backend.transaction() as tx:
            await tx.execute(
                "INSERT INTO llm_spend (guild_id, day, model, calls, prompt_tokens, completion_tokens, cost_usd) "
                "VALUES ($1, $2, $3, 1, $4, $5, $6) ON CONFLICT (guild_id, day, model) DO UPDATE SET "
                "calls = llm_spend.calls + 1, prompt_tokens = llm_spend.prompt_tokens + excluded.prompt_tokens, "
                "completion_tokens = llm_spend.completion_tokens + excluded.completion_tokens, "
                "cost_usd = llm_spend.cost_usd + excluded.cost_usd",
                guild_id, day, model, prompt_tokens, completion_tokens, float(cost_usd),
            )
            await tx.execute(
                "INSERT INTO llm_budget (guild_id, day, spent_usd, reserved_usd) VALUES ($1, $2, $3, 0) "
                "ON CONFLICT (guild_id, day) DO UPDATE SET spent_usd = llm_budget.spent_usd + excluded.spent_usd",
                guild_id, day, float(cost_usd),
            )

    async def reserve(self, guild_id: int, day: str, *, estimate_usd: float, budget_usd: float) -> bool:
        if estimate_usd > budget_usd:
            return False
        async with self._backend.transaction() as tx:
            held = await tx.fetchval(
                "INSERT INTO llm_budget (guild_id, day, spent_usd, reserved_usd) VALUES ($1, $2, 0, $3) "
                "ON CONFLICT (guild_id, day) DO UPDATE SET reserved_usd = llm_budget.reserved_usd + excluded.reserved_usd "
                "WHERE llm_budget.spent_usd + llm_budget.reserved_usd + excluded.reserved_usd <= $4 "
                "RETURNING reserved_usd",
                guild_id, day, float(estimate_usd), float(budget_usd),
            )
        return held is not None

    async def release(self, guild_id: int, day: str, *, estimate_usd: float) -> None:
        async with self._backend.transaction() as tx:
            await tx.execute(
                "UPDATE llm_budget SET reserved_usd = CASE WHEN reserved_usd > $3 THEN reserved_usd - $3 ELSE 0 END "
                "WHERE guild_id = $1 AND day = $2", guild_id, day, float(estimate_usd),
            )

    async def committed(self, guild_id: int, day: str) -> float:
        async with self._backend.reading() as db:
            found = await db.fetchval(
                "SELECT spent_usd + reserved_usd FROM llm_budget WHERE guild_id = $1 AND day = $2", guild_id, day
            )
        return 0.0 if found is None else float(found)

    async def clear_reservations(self) -> int:
        async with self._backend.transaction() as tx:
            return await tx.execute("UPDATE llm_budget SET reserved_usd = 0 WHERE reserved_usd <> 0")


# --- cache feedback -------------------------------------------------------------------------------


class SqlFeedbackRows:
    """:class:`~core.storage.protocols.FeedbackRows`: pairs keyed by :func:`~core.storage.models.feedback_key`."""

    def __init__(self, backend: Backend) -> None:
        self._backend = backend

    async def add_negative(
        self, guild_id: int, namespace: str, query_text: str, stored_text: str, *, entry_id: int, user_id: int,
        now: float | None = None,
    ) -> bool:
        async with self._backend.transaction() as tx:
            added = await tx.execute(
                "INSERT INTO cache_feedback (guild_id, namespace, query_key, stored_key, query_text, stored_text, "
                "entry_id, user_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
                "ON CONFLICT (guild_id, namespace, query_key, stored_key) DO NOTHING",
                guild_id, namespace, feedback_key(query_text), feedback_key(stored_text), query_text, stored_text,
                entry_id, user_id, float(time.time() if now is None else now),
            )
        return added > 0

    async def is_negative(self, guild_id: int, namespace: str, query_text: str, stored_text: str) -> bool:
        async with self._backend.reading() as db:
            found = await db.fetchval(
                "SELECT 1 FROM cache_feedback WHERE guild_id = $1 AND namespace = $2 AND query_key = $3 "
                "AND stored_key = $4", guild_id, namespace, feedback_key(query_text), feedback_key(stored_text),
            )
        return found is not None

    async def wrong_answers(self, guild_id: int, namespace: str, query_text: str) -> list[str]:
        async with self._backend.reading() as db:
            rows = await db.fetch(
                "SELECT stored_text FROM cache_feedback WHERE guild_id = $1 AND namespace = $2 AND query_key = $3",
                guild_id, namespace, feedback_key(query_text),
            )
        return [str(row["stored_text"]) for row in rows]

    async def count(self, guild_id: int) -> int:
        async with self._backend.reading() as db:
            return int(await db.fetchval("SELECT COUNT(*) FROM cache_feedback WHERE guild_id = $1", guild_id))
