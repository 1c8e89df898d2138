"""A pair marked "Wrong answer?" never matches again in that guild, and the entry is forgotten."""

from __future__ import annotations

from core.cache import StoreItem, ThresholdDecider
from tests.core.cache.conftest import Answer, CacheHarness

GUILD = 5_005
OTHER_GUILD = 5_006
NAMESPACE = "autointel:quick:local:v1"
STORED = "How can I learn Python quickly at home?"
QUERY = "What is the fastest way to learn Python at home?"


async def test_marked_pair_is_forgotten_and_never_matches_again(harness: CacheHarness) -> None:
    cache = await harness.open(decider=ThresholdDecider())  # the decision is not under test: any hit will do
    for guild in (GUILD, OTHER_GUILD):
        await harness.guild_settings.update(guild, cache_similarity_threshold=0.5)  # type: ignore[union-attr]
        await cache.store_many(guild, NAMESPACE, [StoreItem(query_text=STORED, value=Answer(text=STORED))])
    hit = await cache.lookup(GUILD, NAMESPACE, QUERY, model=Answer)
    assert hit is not None and hit.how == "semantic"

    assert await cache.mark_wrong(GUILD, NAMESPACE, QUERY, hit.entry_id, user_id=42)
    assert await cache.lookup(GUILD, NAMESPACE, QUERY, model=Answer) is None
    await cache.store(GUILD, NAMESPACE, STORED, Answer(text=STORED))  # the same request stored anew
    assert await cache.lookup(GUILD, NAMESPACE, QUERY, model=Answer) is None
    again = await cache.lookup(GUILD, NAMESPACE, STORED, model=Answer)
    assert again is not None and again.how == "exact"  # the entry itself still answers its own request
    other = await cache.lookup(OTHER_GUILD, NAMESPACE, QUERY, model=Answer)
    assert other is not None  # another guild's cache is untouched
    assert (await cache.stats(GUILD)).wrong_answers == 1
    assert (await cache.stats(OTHER_GUILD)).wrong_answers == 0


async def test_marking_an_entry_that_is_gone_changes_nothing(harness: CacheHarness) -> None:
    cache = await harness.open()
    entry_id = await cache.store(GUILD, NAMESPACE, STORED, Answer(text=STORED))
    assert await cache.forget(GUILD, entry_id)
    assert not await cache.mark_wrong(GUILD, NAMESPACE, QUERY, entry_id, user_id=42)
    assert not await cache.mark_wrong(OTHER_GUILD, NAMESPACE, QUERY, entry_id, user_id=42)
    assert (await cache.stats(GUILD)).wrong_answers == 0
