"""Per-guild semantic cache: an exact layer, a FAISS semantic layer, and a decision step."""

from __future__ import annotations

from core.cache.decision import Candidate, HitDecider, ThresholdDecider
from core.cache.keys import normalise_query, query_key, verbatim_key
from core.cache.models import CacheHit, CacheStats, StoreItem
from core.cache.semantic_cache import SemanticCache

__all__ = [
    "CacheHit",
    "CacheStats",
    "Candidate",
    "HitDecider",
    "SemanticCache",
    "StoreItem",
    "ThresholdDecider",
    "normalise_query",
    "query_key",
    "verbatim_key",
]
