"""Pydantic models the cache returns; the row models it exchanges with storage come from :mod:`core.storage.models`."""

from __future__ import annotations

import logging
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from core.storage.models import CacheStats, EntryRow, HitKind, IndexRow, NewEntry, StoreOutcome

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



class VectorMatch(BaseModel):
    """One nearest neighbour from a vector index."""

    entry_id: int
    similarity: float



