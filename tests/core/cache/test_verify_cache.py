"""The verifying decider inside the real cache: the hand-written pair set stored in one guild,
looked up with real MiniLM embeddings, real FAISS and real SQLite."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from core.cache import SemanticCache, StoreItem
from core.cache.verify import VerifyingDecider
from core.guild_settings import GuildSettingsStore
from tests.core.cache.conftest import Answer, CacheHarness

_PAIRS_PATH = Path(__file__).resolve().parents[2] / "data" / "cache_pairs.jsonl"
GUILD = 4_004
NAMESPACE = "autointel:standard:local:v1"


class LabelledPair(BaseModel):
    kind: str
    stored: str
    query: str
    same_meaning: bool


def _pairs() -> list[LabelledPair]:
    return [LabelledPair.model_validate_json(line) for line in _PAIRS_PATH.read_text().splitlines() if line]


async def _filled_cache(harness: CacheHarness, pairs: list[LabelledPair]) -> SemanticCache:
    cache = await harness.open(decider=VerifyingDecider())
    stored_texts = sorted({pair.stored for pair in pairs})
    await cache.store_many(
        GUILD, NAMESPACE, [StoreItem(query_text=text, value=Answer(text=text)) for text in stored_texts]
    )
    return cache


def _labelled(pairs: list[LabelledPair], *, same_meaning: bool) -> set[tuple[str, str]]:
    return {(pair.query, pair.stored) for pair in pairs if pair.same_meaning is same_meaning}


async def test_pair_set_through_the_cache_serves_no_near_miss_and_most_paraphrases(
    harness: CacheHarness,
) -> None:
    """A near-miss query has no right answer in the store: any hit is wrong.  A paraphrase query
    may be served its own pair's entry or another entry it means the same as, never one labelled
    different."""
    pairs = _pairs()
    cache = await _filled_cache(harness, pairs)
    right, different = _labelled(pairs, same_meaning=True), _labelled(pairs, same_meaning=False)
    wrong: list[str] = []
    paraphrases_served = 0
    for pair in pairs:
        hit = await cache.lookup(GUILD, NAMESPACE, pair.query, model=Answer)
        if hit is None:
            continue
        served = (pair.query, hit.value.text)
        if not pair.same_meaning or served in different:
            wrong.append(f"{pair.query!r} -> {hit.value.text!r}")
        elif served in right:
            paraphrases_served += 1
    assert wrong == []
    assert paraphrases_served / sum(pair.same_meaning for pair in pairs) >= 0.70


async def test_strict_guild_serves_no_more_than_the_default(harness: CacheHarness) -> None:
    pairs = [pair for pair in _pairs() if pair.same_meaning]
    cache = await _filled_cache(harness, pairs)
    default_hits = [await cache.lookup(GUILD, NAMESPACE, pair.query, model=Answer) for pair in pairs]
    assert harness.guild_settings is not None
    await _set_strict(harness.guild_settings)
    strict_hits = [await cache.lookup(GUILD, NAMESPACE, pair.query, model=Answer) for pair in pairs]
    served_default = {pair.query for pair, hit in zip(pairs, default_hits, strict=True) if hit is not None}
    served_strict = {pair.query for pair, hit in zip(pairs, strict_hits, strict=True) if hit is not None}
    assert served_strict < served_default


async def _set_strict(guild_settings: GuildSettingsStore) -> None:
    await guild_settings.update(GUILD, cache_strictness="strict")
