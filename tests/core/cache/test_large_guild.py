"""A guild past the approximate-search size: hits, deletes, rebuilds and restarts still hold."""

from __future__ import annotations

import itertools

from core.cache import SemanticCache, StoreItem
from tests.core.cache.conftest import Answer, CacheHarness

NS = "autointel:standard:local:v1"
GUILD = 333
OTHER_GUILD = 444
SWITCH_AT = 60

COMPANIES = ("Acme", "Globex", "Initech", "Umbrella", "Hooli")
TOPICS = ("solar panels", "wind farms", "employee training", "office rent", "cloud servers", "legal fees")
REGIONS = ("Europe", "Asia", "South America", "Canada", "Australia")


def questions() -> list[str]:
    return [
        f"How much did {company} spend on {topic} in {region} last year?"
        for company, topic, region in itertools.product(COMPANIES, TOPICS, REGIONS)
    ]


async def filled(harness: CacheHarness) -> tuple[SemanticCache, dict[str, int]]:
    cache = await harness.open(approximate_from=SWITCH_AT)
    texts = questions()
    ids = await cache.store_many(GUILD, NS, [StoreItem(query_text=text, value=Answer(text=text)) for text in texts])
    return cache, dict(zip(texts, ids, strict=True))


async def test_reworded_query_hits_its_entry_in_a_large_guild(harness: CacheHarness) -> None:
    cache, ids = await filled(harness)

    hit = await cache.lookup(GUILD, NS, "How much did Globex spend on wind farms in Canada during last year?", model=Answer)

    assert hit is not None and hit.how == "semantic"
    assert hit.entry_id == ids["How much did Globex spend on wind farms in Canada last year?"]
    assert await cache.lookup(OTHER_GUILD, NS, "How much did Globex spend on wind farms in Canada last year?",
                              model=Answer) is None


async def test_forgotten_entry_of_a_large_guild_is_never_served(harness: CacheHarness) -> None:
    cache, ids = await filled(harness)
    text = "How much did Initech spend on office rent in Asia last year?"

    assert await cache.forget(GUILD, ids[text])

    hit = await cache.lookup(GUILD, NS, text, model=Answer)
    assert hit is None or hit.entry_id != ids[text]
    assert await cache.indexed_entry_ids(GUILD) == set(ids.values()) - {ids[text]}


async def test_large_guild_index_is_rebuilt_from_rows_after_losing_its_file(harness: CacheHarness) -> None:
    cache, ids = await filled(harness)
    await cache.forget(GUILD, ids["How much did Hooli spend on legal fees in Europe last year?"])
    await harness.close()
    (harness.cache_dir / f"{GUILD}.faiss").unlink()

    cache = await harness.open(approximate_from=SWITCH_AT)

    expected = set(ids.values()) - {ids["How much did Hooli spend on legal fees in Europe last year?"]}
    assert await cache.indexed_entry_ids(GUILD) == expected
    hit = await cache.lookup(GUILD, NS, "How much did Umbrella spend on cloud servers in Australia during last year?",
                             model=Answer)
    assert hit is not None and hit.entry_id == ids["How much did Umbrella spend on cloud servers in Australia last year?"]


async def test_large_guild_index_file_behind_the_rows_is_reconciled_on_restart(harness: CacheHarness) -> None:
    cache, ids = await filled(harness)
    await harness.close()  # the file now holds all 150 entries
    cache = await harness.open(approximate_from=SWITCH_AT, flush_interval_seconds=3600)
    gone = [ids[text] for text in questions()[:100]]
    for entry_id in gone:  # leaves 50: below the switch size, and the file is not rewritten
        await cache.forget(GUILD, entry_id)
    harness.cache = None  # a crash: nothing flushed
    assert harness.storage is not None
    await harness.storage.close()
    harness.storage = None

    cache = await harness.open(approximate_from=SWITCH_AT)

    assert await cache.indexed_entry_ids(GUILD) == set(ids.values()) - set(gone)
