"""Pydantic models the cache returns and its storage layers exchange."""

from __future__ import annotations

import logging
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "CacheHit",
    "CacheStats",
    "EntryRow",
    "HitKind",
    "IndexRow",
    "NewEntry",
    "StoreItem",
    "StoreOutcome",
    "VectorMatch",
]

_log = logging.getLogger(__name__)

ValueT = TypeVar("ValueT", bound=BaseModel)

HitKind = Literal["exact", "semantic"]


class CacheHit(BaseModel, Generic[ValueT]):
    """A stored value served for a query, and how it matched."""

    value: ValueT
    similarity: float = Field(description="1.0 for an exact match, else cosine similarity")
    how: HitKind
    age_seconds: float = Field(ge=0, description="Time since the value was stored")
    entry_id: int


class StoreItem(BaseModel):
    """One value to store under a query text, plus any extra exact keys (normalised URLs, hashes)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    query_text: str
    value: BaseModel
    keys: tuple[str, ...] = ()
    semantic: bool = True


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
    rows_bytes: int = Field(default=0, description="Approximate bytes of this guild's SQLite rows")
    index_bytes: int = Field(default=0, description="Size of this guild's index file")
    index_loaded: bool = False

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


class VectorMatch(BaseModel):
    """One nearest neighbour from a vector index."""

    entry_id: int
    similarity: float


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
    """A row about to be inserted: everything but its id."""

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
