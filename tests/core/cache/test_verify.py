"""The verifying decider: its rules on hand-made candidates, and on real MiniLM similarities over
the hand-written pair set ``tests/data/cache_pairs.jsonl`` (negatives must never hit)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import BaseModel

from core.cache.decision import Candidate
from core.cache.verify import DEFAULT_POLICIES, VerificationPolicy, VerifyingDecider
from core.embedder import Embedder

_PAIRS_PATH = Path(__file__).resolve().parents[2] / "data" / "cache_pairs.jsonl"


class LabelledPair(BaseModel):
    kind: str
    stored: str
    query: str
    same_meaning: bool


class JudgedPair(BaseModel):
    pair: LabelledPair
    similarity: float
    served: dict[str, bool]


def _candidate(text: str, similarity: float, entry_id: int = 1) -> Candidate:
    return Candidate(entry_id=entry_id, text=text, similarity=similarity)


@pytest.fixture(scope="module")
def judged_pairs(embedder: Embedder) -> list[JudgedPair]:
    pairs = [LabelledPair.model_validate_json(line) for line in _PAIRS_PATH.read_text().splitlines() if line]
    stored = embedder.embed([pair.stored for pair in pairs])
    queries = embedder.embed([pair.query for pair in pairs])
    decider = VerifyingDecider()
    judged = []
    for pair, stored_vector, query_vector in zip(pairs, stored, queries, strict=True):
        similarity = float(stored_vector @ query_vector)
        served = {
            level: decider.decide(pair.query, [_candidate(pair.stored, similarity)], threshold=0.92,
                                  strictness=level) is not None
            for level in DEFAULT_POLICIES
        }
        judged.append(JudgedPair(pair=pair, similarity=similarity, served=served))
    return judged


def test_pair_set_has_every_kind_of_near_miss_and_paraphrase() -> None:
    kinds: dict[tuple[str, bool], int] = {}
    for line in _PAIRS_PATH.read_text().splitlines():
        pair = LabelledPair.model_validate(json.loads(line))
        kinds[pair.kind, pair.same_meaning] = kinds.get((pair.kind, pair.same_meaning), 0) + 1
    assert sum(kinds.values()) >= 150
    for kind in ("number", "year", "entity", "negation", "direction", "aspect"):
        assert kinds.get((kind, False), 0) >= 10
    for kind in ("reworded", "reordered", "typo", "alias"):
        assert kinds.get((kind, True), 0) >= 10


@pytest.mark.parametrize("strictness", ["lenient", "balanced", "strict"])
def test_no_near_miss_is_ever_served(judged_pairs: list[JudgedPair], strictness: str) -> None:
    wrong = [j.pair.query for j in judged_pairs if not j.pair.same_meaning and j.served[strictness]]
    assert wrong == []


def test_most_paraphrases_hit_at_the_default_strictness(judged_pairs: list[JudgedPair]) -> None:
    paraphrases = [j for j in judged_pairs if j.pair.same_meaning]
    served = sum(j.served["balanced"] for j in paraphrases)
    assert served / len(paraphrases) >= 0.70


def test_near_misses_are_close_enough_that_cosine_alone_would_serve_them(judged_pairs: list[JudgedPair]) -> None:
    """The negatives are hard: most sit above the cache's plain 0.85 threshold."""
    negatives = [j for j in judged_pairs if not j.pair.same_meaning]
    assert sum(j.similarity >= 0.85 for j in negatives) / len(negatives) >= 0.6


def test_year_mismatch_refuses_even_at_similarity_one() -> None:
    decider = VerifyingDecider()
    served = decider.decide("Apple revenue 2023", [_candidate("Apple revenue 2022", 0.999)], threshold=0.92,
                            strictness="lenient")
    assert served is None


def test_refusal_says_why() -> None:
    verdicts = VerifyingDecider().verdicts("Is tea not healthy?", [_candidate("Is tea healthy?", 0.97)])
    assert [v.reason for v in verdicts] == ["one side is negated"]


def test_second_candidate_served_when_the_nearest_is_a_near_miss() -> None:
    candidates = [
        _candidate("What was Apple's revenue in 2022?", 0.97, entry_id=1),
        _candidate("How much revenue did Apple make in 2023?", 0.93, entry_id=2),
    ]
    served = VerifyingDecider().decide("What was Apple's revenue in 2023?", candidates, threshold=0.92)
    assert served is not None and served.entry_id == 2


def test_candidate_below_the_floor_is_a_miss() -> None:
    served = VerifyingDecider().decide("How do I learn Python?", [_candidate("How do I learn Rust?", 0.6)],
                                       threshold=0.92)
    assert served is None


def test_guild_threshold_moves_the_floor() -> None:
    candidates = [_candidate("How can I learn Python online?", 0.93)]
    decider = VerifyingDecider()
    assert decider.decide("How do I learn Python online?", candidates, threshold=0.92) is not None
    assert decider.decide("How do I learn Python online?", candidates, threshold=0.99) is None


def test_typo_served_below_the_similarity_floor_when_worded_the_same() -> None:
    served = VerifyingDecider().decide(
        "What is the populaton of Canada?", [_candidate("What is the population of Canada?", 0.74)], threshold=0.92
    )
    assert served is not None


def test_strict_refuses_what_lenient_serves() -> None:
    decider = VerifyingDecider()
    candidates = [_candidate("What are the best ways to save money?", 0.89)]
    query = "What are good ways to save money each month?"
    assert decider.decide(query, candidates, threshold=0.92, strictness="lenient") is not None
    assert decider.decide(query, candidates, threshold=0.92, strictness="strict") is None


def test_custom_policies_replace_the_defaults() -> None:
    loose = VerificationPolicy(similarity_offset=-0.3, min_similarity_same_wording=0.5,
                               max_unmatched_weight=99, max_substitution_weight=99)
    decider = VerifyingDecider(policies={"lenient": loose, "balanced": loose, "strict": loose})
    served = decider.decide("Apple's profit", [_candidate("Apple's revenue", 0.7)], threshold=0.92)
    assert served is not None
