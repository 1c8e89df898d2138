"""The decision step between a nearest-neighbour search and serving a cached answer.

A :class:`HitDecider` sees the new query and the nearest stored entries (already filtered to the
guild and namespace, best first) and returns a :class:`Decision`: the one candidate that really
answers the query, or none, and possibly a *borderline* candidate an LLM judge may still accept.
It is blocking (it may run a model) and runs inside the cache's gate job.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Protocol

from core.cache.keys import normalise_query

__all__ = ["Candidate", "Decision", "HitDecider", "ThresholdDecider"]


@dataclass(frozen=True, slots=True)
class Candidate:
    """One stored entry near the query."""

    entry_id: int
    text: str
    similarity: float


@dataclass(frozen=True, slots=True)
class Decision:
    """What a decider concluded about one lookup."""

    served: Candidate | None = None
    """The candidate to serve, or ``None`` for a miss."""
    borderline: Candidate | None = None
    """Not served, but close enough that a guild with LLM verification on should ask the LLM."""
    probability: float | None = None
    """The verifier's probability for the best candidate it scored, when it scored one."""


class HitDecider(Protocol):
    def decide(
        self,
        query: str,
        candidates: Sequence[Candidate],
        *,
        threshold: float,
        strictness: str = "balanced",
        excluded: Collection[str] = (),
    ) -> Decision:
        """Decide for ``query`` among ``candidates`` (best first).

        ``threshold`` is the guild's cosine floor, ``strictness`` its verification level
        (``EffectiveGuildSettings.cache_strictness``), ``excluded`` the normalised stored texts the
        guild marked as a wrong answer to this query.  The product's decider is
        :class:`core.cache.learned.LearnedDecider`.
        """
        ...


class ThresholdDecider:
    """The plain rule: serve the nearest entry when its cosine similarity reaches the threshold.

    Not the product's decider: tests of the cache's storage use it where the decision is not the
    thing under test, and the benchmark uses it as the cosine baseline.
    """

    def decide(
        self,
        query: str,
        candidates: Sequence[Candidate],
        *,
        threshold: float,
        strictness: str = "balanced",
        excluded: Collection[str] = (),
    ) -> Decision:
        allowed = [candidate for candidate in candidates if normalise_query(candidate.text) not in excluded]
        if allowed and allowed[0].similarity >= threshold:
            return Decision(served=allowed[0])
        return Decision()
