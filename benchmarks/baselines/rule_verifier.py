"""The previous hit decider (issue 4): hand-set rules, kept only as a baseline for the benchmark.

The product's decider is now the trained verifier (:mod:`core.cache.learned`).  This module is the
rule decider as it shipped, moved out of ``core`` unchanged but for its return type, so that
``benchmarks/cache_quality.py`` can measure it side by side.  For each candidate,
best first, it checks (see ``docs/cache_verification.md`` for the measurements behind each rule):

1. cosine similarity at least the guild's ``threshold`` plus the level's offset (a candidate worded
   the same as the query, typos and aliases forgiven, has a lower, absolute floor);
2. no hard mismatch: the same numbers and years, the same negation, no swapped direction
   (``A beat B`` / ``B beat A``); these refuse at every strictness level;
3. content words: what one side has and the other lacks, weighted by rarity, stays under the
   level's budget, and a *substitution* (each side has a word the other lacks: ``revenue`` /
   ``profit``, ``Apple`` / ``Microsoft``) stays under a smaller one.

The first candidate that passes is served.  The rules are hand-set; their thresholds were chosen
on a tuning split of the QQP dev pairs disjoint from the evaluation sample, and no weights fitted
on QQP ship in the product.  Blocking but cheap (well under a millisecond a lookup): it runs inside
the cache's gate job.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from benchmarks.baselines.rule_features import PairFeatures, TextProfile, compare_profiles, profile_text
from core.cache.decision import Candidate

__all__ = [
    "DEFAULT_POLICIES",
    "DEFAULT_THRESHOLD",
    "Strictness",
    "Verdict",
    "VerificationPolicy",
    "VerifyingDecider",
    "WordRarity",
]

_log = logging.getLogger(__name__)

Strictness = Literal["lenient", "balanced", "strict"]

DEFAULT_THRESHOLD = 0.92
"""The process default of ``Settings.cache_similarity_threshold``, which the offsets were tuned with."""
_RARITY_CEILING = 7.0  # wordfreq's Zipf scale: ~7.7 for "the", ~3 for rare words, 0 for unknown ones


class VerificationPolicy(BaseModel):
    """How much difference one strictness level tolerates."""

    model_config = ConfigDict(frozen=True)

    similarity_offset: float = Field(ge=-0.3, le=0.3)
    """Added to the guild's similarity threshold to give this level's cosine floor."""
    min_similarity_same_wording: float = Field(gt=0.0, le=1.0)
    """Floor for a candidate worded the same as the query (typos, aliases): embeddings of
    misspelt words drift far, the words themselves do not."""
    max_unmatched_weight: float = Field(ge=0.0)
    max_substitution_weight: float = Field(ge=0.0)
    candidates_examined: int = Field(default=3, ge=1)


# Chosen on the tuning split (pairs 10,000-29,999 of the seed-4 shuffle); see docs/cache_verification.md.
DEFAULT_POLICIES: Mapping[Strictness, VerificationPolicy] = {
    "lenient": VerificationPolicy(
        similarity_offset=-0.09, min_similarity_same_wording=0.65, max_unmatched_weight=6.0,
        max_substitution_weight=1.0,
    ),
    "balanced": VerificationPolicy(
        similarity_offset=-0.05, min_similarity_same_wording=0.70, max_unmatched_weight=6.0,
        max_substitution_weight=1.0,
    ),
    "strict": VerificationPolicy(
        similarity_offset=0.0, min_similarity_same_wording=0.80, max_unmatched_weight=3.0,
        max_substitution_weight=0.5,
    ),
}


class Verdict(BaseModel):
    """Why one candidate was served or refused (for logs, tests and the benchmark)."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    candidate: Candidate
    accepted: bool
    reason: str


class WordRarity:
    """Rarity weight of a word: ``7 - Zipf frequency`` in general English, floored at 0.

    The ``wordfreq`` tables are loaded on first use (not at import); results are memoised per
    instance, bounded by ``max_words``.
    """

    def __init__(self, *, max_words: int = 50_000) -> None:
        self._max_words = max_words
        self._weights: dict[str, float] = {}
        self._zipf: Callable[[str, str], float] | None = None

    def __call__(self, word: str) -> float:
        weight = self._weights.get(word)
        if weight is None:
            weight = max(0.0, _RARITY_CEILING - self._zipf_of(word.replace("_", " ")))
            if len(self._weights) >= self._max_words:
                self._weights.clear()
            self._weights[word] = weight
        return weight

    def _zipf_of(self, word: str) -> float:
        if self._zipf is None:
            from wordfreq import zipf_frequency

            self._zipf = zipf_frequency
        return self._zipf(word, "en")


class VerifyingDecider:
    """A :class:`~core.cache.decision.HitDecider` that checks numbers, negation, direction and words.

    ``decide(..., strictness=...)`` picks the level; the guild's similarity ``threshold`` plus the
    level's ``similarity_offset`` is the cosine floor, so one knob moves every level together.
    """

    def __init__(
        self,
        *,
        policies: Mapping[Strictness, VerificationPolicy] = DEFAULT_POLICIES,
        rarity: Callable[[str], float] | None = None,
    ) -> None:
        self._policies = dict(policies)
        self._rarity = rarity or WordRarity()

    def warm_up(self) -> None:
        """Load the word-frequency tables now (blocking, ~0.3 s) so the first lookup does not pay."""
        self._rarity("cache")

    def policy(self, strictness: Strictness) -> VerificationPolicy:
        return self._policies[strictness]

    def decide(
        self,
        query: str,
        candidates: Sequence[Candidate],
        *,
        threshold: float,
        strictness: Strictness = "balanced",
    ) -> Candidate | None:
        for verdict in self.verdicts(query, candidates, threshold=threshold, strictness=strictness):
            if verdict.accepted:
                return verdict.candidate
        return None

    def verdicts(
        self,
        query: str,
        candidates: Sequence[Candidate],
        *,
        threshold: float = DEFAULT_THRESHOLD,
        strictness: Strictness = "balanced",
    ) -> list[Verdict]:
        """Judge candidates best first, stopping at the first accepted one."""
        policy = self._policies[strictness]
        floor = min(1.0, threshold + policy.similarity_offset)
        lowest_floor = min(floor, policy.min_similarity_same_wording)
        query_profile: TextProfile | None = None
        verdicts: list[Verdict] = []
        for candidate in candidates[: policy.candidates_examined]:
            if candidate.similarity < lowest_floor:
                break  # candidates come best first: none after this one can pass either
            query_profile = query_profile or profile_text(query)
            features = self.features(query_profile, candidate.text)
            reason = _refusal(features, policy, similarity=candidate.similarity, floor=floor)
            verdicts.append(Verdict(candidate=candidate, accepted=reason is None, reason=reason or "verified"))
            if reason is None:
                break
        return verdicts

    def features(self, query: TextProfile | str, stored_text: str) -> PairFeatures:
        """How ``query`` and a stored text differ (exposed for the benchmark and tests)."""
        query_profile = profile_text(query) if isinstance(query, str) else query
        return compare_profiles(query_profile, profile_text(stored_text), rarity=self._rarity)


def _refusal(
    features: PairFeatures, policy: VerificationPolicy, *, similarity: float, floor: float
) -> str | None:
    """The reason to refuse a candidate under ``policy``, or ``None`` to serve it."""
    if features.numbers_differ:
        return "numbers or years differ"
    if features.negation_differs:
        return "one side is negated"
    if features.direction_swapped:
        return "the direction of the relation is swapped"
    if features.same_wording:
        if similarity < policy.min_similarity_same_wording:
            return "similarity below the floor"
        return None
    if similarity < floor:
        return "similarity below the floor"
    if features.substitution_weight > policy.max_substitution_weight:
        return "a content word was replaced by a different one"
    if features.unmatched_weight > policy.max_unmatched_weight:
        return "too many content words differ"
    return None
