"""Pydantic models the storage protocols take and return: rows, never tuples.

The cache's row models live here (and are re-exported by :mod:`core.cache.models`) because the
storage layer sits below the cache: ``core.storage`` imports nothing above it.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "CacheStats",
    "ChangeEvent",
    "ChangeKind",
    "ChunkHitRow",
    "ChunkVector",
    "EntryRow",
    "GuildSpend",
    "HitKind",
    "IndexRow",
    "NewChunk",
    "NewEntry",
    "NewReport",
    "ReportSummary",
    "StoreOutcome",
    "feedback_key",
    "normalise_feedback_text",
]

_log = logging.getLogger(__name__)

HitKind = Literal["exact", "semantic"]

# What one process announces to the others (PostgreSQL LISTEN/NOTIFY); see docs/storage.md.
ChangeKind = Literal["guild_settings", "cache_stored", "cache_forgotten", "cache_cleared", "report_added", "all"]


# --- cache ----------------------------------------------------------------------------------------


class CacheStats(BaseModel):
    """One guild's cache, as ``/cache stats`` shows it."""

    guild_id: int
    entries: int = 0
    semantic_entries: int = 0
    exact_hits: int = 0
    semantic_hits: int = 0
    misses: int = 0
    stale: int = 0
    evictions: int = 0
    expired: int = 0
    hits_24h: int = 0
    lookups_24h: int = 0
    hits_7d: int = 0
    lookups_7d: int = 0
    rows_bytes: int = Field(default=0, description="Approximate bytes of this guild's database rows")
    index_bytes: int = Field(default=0, description="Size of this guild's index file")
    index_loaded: bool = False
    wrong_answers: int = Field(default=0, description='Pairs members marked with "Wrong answer?"')

    @property
    def hits(self) -> int:
        return self.exact_hits + self.semantic_hits

    @property
    def size_bytes(self) -> int:
        return self.rows_bytes + self.index_bytes

    @property
    def hit_rate_24h(self) -> float | None:
        return self.hits_24h / self.lookups_24h if self.lookups_24h else None

    @property
    def hit_rate_7d(self) -> float | None:
        return self.hits_7d / self.lookups_7d if self.lookups_7d else None


class EntryRow(BaseModel):
    """A stored entry with its payload, as read to serve a hit."""

    entry_id: int
    guild_id: int
    namespace: str
    query_text: str
    value_type: str
    schema_version: int
    payload: str
    created_at: float
    expires_at: float


class IndexRow(BaseModel):
    """What the in-memory side of a guild's index keeps per entry (no payload)."""

    entry_id: int
    namespace: str
    query_text: str
    expires_at: float


class NewEntry(BaseModel):
    """A row about to be inserted: everything but its id.  ``embedding`` is float32 bytes."""

    key_hash: str
    alias_hashes: list[str] = Field(default_factory=list)
    query_text: str
    embedding: bytes | None
    value_type: str
    schema_version: int
    payload: str


class StoreOutcome(BaseModel):
    """What a write did: ids of the new rows, and every row id it removed (replaced, evicted, expired)."""

    entry_ids: list[int]
    removed_ids: list[int] = Field(default_factory=list)
    evicted: int = 0
    expired: int = 0


# --- reports --------------------------------------------------------------------------------------


class ReportSummary(BaseModel):
    report_id: int
    title: str
    source_urls: list[str]
    depth: str
    engine: str
    created_at: float


class NewChunk(BaseModel):
    """One retrievable passage of a report with its float32 embedding bytes."""

    kind: str
    text: str
    embedding: bytes


class NewReport(BaseModel):
    """A report row about to be inserted with its passages, in one transaction."""

    guild_id: int
    user_id: int
    title: str
    source_urls: list[str]
    depth: str
    engine: str
    payload: str
    fingerprint: str
    created_at: float
    chunks: list[NewChunk] = Field(default_factory=list)


class ChunkVector(BaseModel):
    chunk_id: int
    embedding: bytes


class ChunkHitRow(BaseModel):
    chunk_id: int
    report_id: int
    kind: str
    text: str
    title: str


# --- LLM spend ------------------------------------------------------------------------------------


class GuildSpend(BaseModel):
    guild_id: int
    day: str
    calls: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float


# --- announcements --------------------------------------------------------------------------------


class ChangeEvent(BaseModel):
    """A change another process may hold in memory.  ``origin`` names the storage that made it."""

    model_config = ConfigDict(frozen=True)

    kind: ChangeKind
    guild_id: int = 0
    entry_ids: list[int] = Field(default_factory=list)
    origin: str = ""


# --- cache feedback -------------------------------------------------------------------------------

_SPACES = re.compile(r"\s+")


def normalise_feedback_text(text: str) -> str:
    """The form a "Wrong answer?" pair is compared on: NFKC, case-folded, whitespace collapsed.

    :class:`~core.storage.protocols.FeedbackRows` takes raw texts and applies this itself; callers
    never need to normalise first.
    """
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def feedback_key(text: str) -> str:
    """sha256 of :func:`normalise_feedback_text`: fixed width, so any length of text can be indexed."""
    return hashlib.sha256(normalise_feedback_text(text).encode("utf-8")).hexdigest()
