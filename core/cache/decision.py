"""The decision step between a nearest-neighbour search and serving a cached answer.

A :class:`HitDecider` sees the new query and the nearest stored entries (already filtered to the
guild and namespace, best first) and picks the one that really answers the query, or none.  It is
blocking (it may compute features or embeddings) and runs inside the cache's gate job.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from core.guild_settings import Strictness

__all__ = ["Candidate", "HitDecider", "ThresholdDecider"]


@dataclass(frozen=True, slots=True)
class Candidate:
    """One stored entry near the query."""

    entry_id: int
    text: str
    similarity: float


class HitDecider(Protocol):
    def decide(
        self, query: str, candidates: Sequence[Candidate], *, threshold: float, strictness: Strictness = "balanced"
    ) -> Candidate | None:
        """Return the candidate to serve, or ``None`` for a miss.

        ``threshold`` is the guild's cosine floor; ``strictness`` the guild's verification level
        (``EffectiveGuildSettings.cache_strictness``), which deciders without levels ignore.  The
        product's default decider is :class:`core.cache.verify.VerifyingDecider`.
        """
        ...


class ThresholdDecider:
    """The plain rule: serve the nearest entry when its cosine similarity reaches the threshold."""

    def decide(
        self, query: str, candidates: Sequence[Candidate], *, threshold: float, strictness: Strictness = "balanced"
    ) -> Candidate | None:
        if candidates and candidates[0].similarity >= threshold:
            return candidates[0]
        return None
