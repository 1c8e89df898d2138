"""The small protocols every durable store implements, one per kind of data.

The cache, reports, guild settings, spend ledger and verifier feedback talk to these only; both
backends provide them (:class:`~core.storage.Storage`).  Every method returns pydantic models or
plain values and is one transaction (or one read).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from core.storage.models import (
    CacheStats,
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
)

__all__ = ["CacheRows", "FeedbackRows", "GuildSettingsRows", "ReportRows", "SpendRows"]

_log = logging.getLogger(__name__)


class CacheRows(Protocol):
    """The semantic cache's rows: entries (with their embeddings), aliases, counters."""

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


class ReportRows(Protocol):
    """Reports (their JSON) and their passages (text + embedding), per guild."""

    async def add(self, report: NewReport) -> tuple[int, list[int]]:
        """Insert the report and every chunk in one transaction; returns (report id, chunk ids)."""
        ...

    async def chunk_vectors(self, guild_id: int) -> list[ChunkVector]: ...

    async def chunk_hits(self, guild_id: int, chunk_ids: Sequence[int]) -> list[ChunkHitRow]: ...

    async def summaries(self, guild_id: int, report_ids: Sequence[int]) -> list[ReportSummary]: ...

    async def history(self, guild_id: int, *, limit: int, offset: int) -> list[ReportSummary]: ...

    async def find_by_fingerprint(self, guild_id: int, fingerprint: str) -> int | None: ...

    async def latest_id(self, guild_id: int) -> int: ...

    async def count(self, guild_id: int) -> int: ...

    async def payload(self, guild_id: int, report_id: int) -> str | None: ...


class GuildSettingsRows(Protocol):
    """One JSON document of overrides per guild."""

    async def get(self, guild_id: int) -> str | None: ...

    async def put(self, guild_id: int, data: str, *, updated_at: float) -> None:
        """Save and announce the change to other processes."""
        ...


class SpendRows(Protocol):
    """LLM spend per guild, day and model, and the per-guild daily budget row."""

    async def spent(self, guild_id: int, day: str) -> GuildSpend: ...

    async def record(
        self, guild_id: int, day: str, *, model: str, prompt_tokens: int, completion_tokens: int, cost_usd: float
    ) -> None: ...

    async def reserve(self, guild_id: int, day: str, *, estimate_usd: float, budget_usd: float) -> bool:
        """One atomic statement: hold ``estimate_usd`` if spent + reserved + it fits ``budget_usd``."""
        ...

    async def release(self, guild_id: int, day: str, *, estimate_usd: float) -> None: ...

    async def committed(self, guild_id: int, day: str) -> float:
        """Spent plus reserved today (what a refusal reports)."""
        ...

    async def clear_reservations(self) -> int:
        """Drop every reservation (only safe when one process owns the database)."""
        ...


class FeedbackRows(Protocol):
    """Guild-local negative pairs from the "Wrong answer?" button.

    Texts are passed raw; the store compares them on
    :func:`~core.storage.models.normalise_feedback_text` (through :func:`~core.storage.models.feedback_key`).
    """

    async def add_negative(
        self, guild_id: int, namespace: str, query_text: str, stored_text: str, *, entry_id: int, user_id: int,
        now: float | None = None,
    ) -> bool:
        """Record that ``stored_text``'s answer was wrong for ``query_text``; ``False`` if already recorded."""
        ...

    async def is_negative(self, guild_id: int, namespace: str, query_text: str, stored_text: str) -> bool: ...

    async def wrong_answers(self, guild_id: int, namespace: str, query_text: str) -> list[str]:
        """The stored texts (as recorded) marked as a wrong answer to ``query_text``."""
        ...

    async def count(self, guild_id: int) -> int: ...
