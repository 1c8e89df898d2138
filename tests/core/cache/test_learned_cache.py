"""The trained verifier inside the real cache: each hand-written pair set stored in one guild and
every query looked up, with the real embedder, real FAISS, real SQLite and the shipped model.

``cache_pairs_fresh.jsonl`` was written before the verifier was trained or calibrated and was never
used to tune it (see its header line); ``cache_pairs.jsonl`` is the older set.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from core.cache import SemanticCache, StoreItem
from core.cache.learned import LearnedDecider
from core.guild_settings import GuildSettingsStore
from core.inference.cross_encoder import DEFAULT_VERIFIER_DIR, CrossEncoder
from tests.core.cache.conftest import Answer, CacheHarness

_DATA = Path(__file__).resolve().parents[2] / "data"
GUILD = 4_004
NAMESPACE = "autointel:standard:local:v1"
# Floors near the measured figures of the shipped model at the default level (docs/verifier_model_card.md,
# session 6: fresh 0 wrong and 81 / 139, older 0 and 48 / 60, blind3 3 and 60 / 100), each with one pair
# of room: int8 kernels may round differently on another CPU, and a pair at the threshold may flip.
# The targets are 0 wrong hits and >= 70 % of paraphrases on the fresh set: recall missed, and said so.
FRESH_MAX_WRONG = 1
FRESH_MIN_RECALL = 0.57
OLD_MAX_WRONG = 0
OLD_MIN_RECALL = 0.78
BLIND3_MAX_WRONG = 4
BLIND3_MIN_RECALL = 0.59


class LabelledPair(BaseModel):
    kind: str
    stored: str
    query: str
    same_meaning: bool


def _pairs(name: str) -> list[LabelledPair]:
    lines = (_DATA / name).read_text().splitlines()
    return [LabelledPair.model_validate_json(line) for line in lines if line.strip() and '"_comment"' not in line]


@pytest.fixture(scope="module")
def decider() -> LearnedDecider:
    return LearnedDecider(CrossEncoder(DEFAULT_VERIFIER_DIR))


async def _filled_cache(harness: CacheHarness, decider: LearnedDecider, pairs: list[LabelledPair]) -> SemanticCache:
    cache = await harness.open(decider=decider)
    stored_texts = sorted({pair.stored for pair in pairs})
    await cache.store_many(
        GUILD, NAMESPACE, [StoreItem(query_text=text, value=Answer(text=text)) for text in stored_texts]
    )
    return cache


async def _served(cache: SemanticCache, pairs: list[LabelledPair]) -> tuple[list[str], int]:
    """Wrong hits (any hit for a near-miss; a paraphrase served an entry it was not paired with as
    the same) and the number of paraphrases served their own meaning."""
    right = {(pair.query, pair.stored) for pair in pairs if pair.same_meaning}
    wrong: list[str] = []
    paraphrases_served = 0
    for pair in pairs:
        hit = await cache.lookup(GUILD, NAMESPACE, pair.query, model=Answer)
        if hit is None:
            continue
        if (pair.query, hit.value.text) in right:
            paraphrases_served += 1
        else:
            wrong.append(f"{pair.kind}: {pair.query!r} -> {hit.value.text!r}")
    return wrong, paraphrases_served


async def test_fresh_set_through_the_cache(harness: CacheHarness, decider: LearnedDecider) -> None:
    pairs = _pairs("cache_pairs_fresh.jsonl")
    assert len(pairs) >= 300
    wrong, served = await _served(await _filled_cache(harness, decider, pairs), pairs)
    assert len(wrong) <= FRESH_MAX_WRONG, wrong
    assert served / sum(pair.same_meaning for pair in pairs) >= FRESH_MIN_RECALL


async def test_old_set_through_the_cache(harness: CacheHarness, decider: LearnedDecider) -> None:
    pairs = _pairs("cache_pairs.jsonl")
    wrong, served = await _served(await _filled_cache(harness, decider, pairs), pairs)
    assert len(wrong) <= OLD_MAX_WRONG, wrong
    assert served / sum(pair.same_meaning for pair in pairs) >= OLD_MIN_RECALL


async def test_third_held_out_set_through_the_cache(harness: CacheHarness, decider: LearnedDecider) -> None:
    pairs = _pairs("cache_pairs_blind3.jsonl")
    assert len(pairs) == 240
    wrong, served = await _served(await _filled_cache(harness, decider, pairs), pairs)
    assert len(wrong) <= BLIND3_MAX_WRONG, wrong
    assert served / sum(pair.same_meaning for pair in pairs) >= BLIND3_MIN_RECALL


async def test_strict_guild_serves_no_more_than_the_default(harness: CacheHarness, decider: LearnedDecider) -> None:
    pairs = [pair for pair in _pairs("cache_pairs_fresh.jsonl") if pair.same_meaning]
    cache = await _filled_cache(harness, decider, pairs)
    default_hits = [await cache.lookup(GUILD, NAMESPACE, pair.query, model=Answer) for pair in pairs]
    assert harness.guild_settings is not None
    await _set_strict(harness.guild_settings)
    strict_hits = [await cache.lookup(GUILD, NAMESPACE, pair.query, model=Answer) for pair in pairs]
    served_default = {pair.query for pair, hit in zip(pairs, default_hits, strict=True) if hit is not None}
    served_strict = {pair.query for pair, hit in zip(pairs, strict_hits, strict=True) if hit is not None}
    assert served_strict <= served_default
    assert len(served_strict) < len(served_default)


async def _set_strict(guild_settings: GuildSettingsStore) -> None:
    await guild_settings.update(GUILD, cache_strictness="strict")
