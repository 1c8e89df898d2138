"""Behaviour of the per-guild semantic cache with real SQLite, FAISS and MiniLM."""

from __future__ import annotations

import asyncio
import logging

import pytest
from pydantic import BaseModel

from core.cache import SemanticCache, StoreItem
from core.shards import ShardSet
from tests.core.cache.conftest import Answer, CacheHarness, MovableClock

NS = "autointel:standard:local:v1"
GUILD = 111
OTHER_GUILD = 222
DAY = 86_400.0

QUESTION = "How much did the company spend on renewable energy projects in Europe last year?"
REWORDED = "How much did the company spend on renewable energy projects in Europe during last year?"
UNRELATED = "What is a good recipe for a chocolate cake with raspberries?"


async def test_repeated_query_hits_exactly_without_embedding(harness: CacheHarness, cache: SemanticCache) -> None:
    entry_id = await cache.store(GUILD, NS, QUESTION, Answer(text="42 million"))
    embedded_before = harness.embedder.texts_embedded

    hit = await cache.lookup(GUILD, NS, "  how much did the COMPANY spend on renewable energy projects in Europe, last year ", model=Answer)

    assert hit is not None
    assert (hit.how, hit.similarity, hit.entry_id, hit.value.text) == ("exact", 1.0, entry_id, "42 million")
    assert harness.embedder.texts_embedded == embedded_before


async def test_reworded_query_hits_semantically(cache: SemanticCache) -> None:
    await cache.store(GUILD, NS, QUESTION, Answer(text="42 million"))

    hit = await cache.lookup(GUILD, NS, REWORDED, model=Answer)

    assert hit is not None
    assert hit.how == "semantic"
    assert 0.92 <= hit.similarity < 1.0
    assert hit.value.text == "42 million"


async def test_unrelated_query_misses(cache: SemanticCache) -> None:
    await cache.store(GUILD, NS, QUESTION, Answer(text="42 million"))

    assert await cache.lookup(GUILD, NS, UNRELATED, model=Answer) is None


async def test_lookup_in_other_guild_never_hits(cache: SemanticCache) -> None:
    await cache.store(GUILD, NS, QUESTION, Answer(text="guild one's answer"))

    assert await cache.lookup(OTHER_GUILD, NS, QUESTION, model=Answer) is None
    assert await cache.lookup(OTHER_GUILD, NS, REWORDED, model=Answer) is None
    own = await cache.lookup(GUILD, NS, QUESTION, model=Answer)
    assert own is not None and own.value.text == "guild one's answer"


async def test_other_namespace_never_answers(cache: SemanticCache) -> None:
    await cache.store(GUILD, "autointel:quick:local:v1", QUESTION, Answer(text="quick report"))

    assert await cache.lookup(GUILD, "autointel:deep:local:v1", QUESTION, model=Answer) is None
    assert await cache.lookup(GUILD, "autointel:deep:local:v1", REWORDED, model=Answer) is None


async def test_expired_entry_is_never_served_and_is_purged(cache: SemanticCache, clock: MovableClock) -> None:
    await cache.store(GUILD, NS, QUESTION, Answer(text="old"))
    clock.advance(7 * DAY + 1)

    assert await cache.lookup(GUILD, NS, QUESTION, model=Answer) is None
    assert await cache.lookup(GUILD, NS, REWORDED, model=Answer) is None
    stats = await cache.stats(GUILD)
    assert (stats.entries, stats.expired) == (0, 1)
    assert await cache.indexed_entry_ids(GUILD) == set()


async def test_hit_refreshes_time_to_live(cache: SemanticCache, clock: MovableClock) -> None:
    await cache.store(GUILD, NS, QUESTION, Answer(text="kept"))
    clock.advance(6 * DAY)
    assert await cache.lookup(GUILD, NS, QUESTION, model=Answer) is not None
    clock.advance(6 * DAY)

    hit = await cache.lookup(GUILD, NS, QUESTION, model=Answer)

    assert hit is not None and hit.age_seconds == 12 * DAY


async def test_guild_time_to_live_setting_is_used(harness: CacheHarness, cache: SemanticCache, clock: MovableClock) -> None:
    assert harness.guild_settings is not None
    await harness.guild_settings.update(GUILD, cache_ttl_days=1.0)
    await cache.store(GUILD, NS, QUESTION, Answer(text="short-lived"))
    await cache.store(OTHER_GUILD, NS, QUESTION, Answer(text="default ttl"))
    clock.advance(2 * DAY)

    assert await cache.lookup(GUILD, NS, QUESTION, model=Answer) is None
    assert await cache.lookup(OTHER_GUILD, NS, QUESTION, model=Answer) is not None


async def test_capacity_evicts_least_recently_used(harness: CacheHarness, clock: MovableClock) -> None:
    cache = await harness.open(capacity=3)
    for number in range(3):
        await cache.store(GUILD, NS, f"question number {number} about the harbour", Answer(text=str(number)))
        clock.advance(60)
    assert await cache.lookup(GUILD, NS, "question number 0 about the harbour", model=Answer) is not None
    clock.advance(60)

    await cache.store(GUILD, NS, "question number 3 about the harbour", Answer(text="3"))

    found = [
        (await cache.lookup(GUILD, NS, f"question number {number} about the harbour", model=Answer, semantic=False))
        is not None
        for number in range(4)
    ]
    assert found == [True, False, True, True]
    stats = await cache.stats(GUILD)
    assert (stats.entries, stats.evictions) == (3, 1)
    assert len(await cache.indexed_entry_ids(GUILD)) == 3


async def test_changed_schema_is_skipped_counted_stale_and_removed(cache: SemanticCache) -> None:
    await cache.store(GUILD, NS, QUESTION, Answer(text="v1"))
    await cache.store(GUILD, NS, UNRELATED, Answer(text="v1 cake"))

    class AnswerV2(BaseModel):
        schema_version: int = 2
        text: str

    class AnswerStricter(BaseModel):
        schema_version: int = 1
        text: str
        sources: list[str]

    for model in (AnswerV2, AnswerStricter):
        model.__module__, model.__qualname__ = Answer.__module__, Answer.__qualname__

    assert await cache.lookup(GUILD, NS, QUESTION, model=AnswerV2) is None
    assert await cache.lookup(GUILD, NS, UNRELATED, model=AnswerStricter) is None
    stats = await cache.stats(GUILD)
    assert (stats.entries, stats.stale, stats.misses) == (0, 2, 2)
    assert await cache.indexed_entry_ids(GUILD) == set()


async def test_corrupt_index_file_is_rebuilt_from_rows(harness: CacheHarness, cache: SemanticCache) -> None:
    entry_id = await cache.store(GUILD, NS, QUESTION, Answer(text="42 million"))
    cache = await harness.restart()
    (harness.cache_dir / f"{GUILD}.faiss").write_bytes(b"not a faiss index at all")

    hit = await cache.lookup(GUILD, NS, REWORDED, model=Answer)

    assert hit is not None and hit.entry_id == entry_id
    assert await cache.indexed_entry_ids(GUILD) == {entry_id}


async def test_restart_keeps_every_entry_even_without_index_file(harness: CacheHarness, cache: SemanticCache) -> None:
    ids = [await cache.store(GUILD, NS, f"note {number}: the bridge opens at {number} o'clock", Answer(text=str(number)))
           for number in range(5)]
    await harness.close()
    (harness.cache_dir / f"{GUILD}.faiss").unlink()
    cache = await harness.open()

    for number in range(5):
        hit = await cache.lookup(GUILD, NS, f"note {number}: the bridge opens at {number} o'clock", model=Answer)
        assert hit is not None and hit.value.text == str(number)
    assert await cache.indexed_entry_ids(GUILD) == set(ids)


async def test_stale_index_file_loses_deleted_entries_on_load(harness: CacheHarness, cache: SemanticCache) -> None:
    path = harness.cache_dir / f"{GUILD}.faiss"
    kept = await cache.store(GUILD, NS, QUESTION, Answer(text="kept"))
    gone = await cache.store(GUILD, NS, UNRELATED, Answer(text="gone"))
    await harness.close()
    saved = path.read_bytes()  # holds both entries
    cache = await harness.open()
    assert await cache.forget(GUILD, gone)
    await harness.close()
    path.write_bytes(saved)  # as if the process died before the flush that dropped `gone`
    cache = await harness.open()

    assert await cache.indexed_entry_ids(GUILD) == {kept}
    assert await cache.lookup(GUILD, NS, UNRELATED, model=Answer) is None


async def test_concurrent_lookups_and_stores_all_land(cache: SemanticCache) -> None:
    texts = [f"report {number}: shipping volumes at port {number} rose sharply" for number in range(12)]

    async def store_then_find(text: str) -> bool:
        await cache.store(GUILD + len(text) % 2, NS, text, Answer(text=text))
        hit = await cache.lookup(GUILD + len(text) % 2, NS, text, model=Answer)
        return hit is not None and hit.value.text == text

    results = await asyncio.gather(*(store_then_find(text) for text in texts))
    lookups = await asyncio.gather(
        *(cache.lookup(GUILD + len(text) % 2, NS, text + " again", model=Answer) for text in texts)
    )

    assert all(results)
    assert all(hit is None or hit.value.text.startswith("report") for hit in lookups)
    counts = [(await cache.stats(guild)).entries for guild in (GUILD, GUILD + 1)]
    assert sum(counts) == 12


async def test_forget_removes_only_own_guild_entry(cache: SemanticCache) -> None:
    entry_id = await cache.store(GUILD, NS, QUESTION, Answer(text="mine"))

    assert not await cache.forget(OTHER_GUILD, entry_id)
    assert await cache.lookup(GUILD, NS, QUESTION, model=Answer) is not None
    assert await cache.forget(GUILD, entry_id)
    assert await cache.lookup(GUILD, NS, QUESTION, model=Answer) is None
    assert await cache.lookup(GUILD, NS, REWORDED, model=Answer) is None


async def test_clear_empties_one_guild_only(harness: CacheHarness, cache: SemanticCache) -> None:
    await cache.store(GUILD, NS, QUESTION, Answer(text="one"))
    await cache.store(OTHER_GUILD, NS, QUESTION, Answer(text="two"))

    assert await cache.clear(GUILD) == 1
    cache = await harness.restart()

    assert await cache.lookup(GUILD, NS, QUESTION, model=Answer) is None
    assert await cache.lookup(GUILD, NS, REWORDED, model=Answer) is None
    other = await cache.lookup(OTHER_GUILD, NS, REWORDED, model=Answer)
    assert other is not None and other.value.text == "two"


async def test_storing_same_query_replaces_entry(cache: SemanticCache) -> None:
    first = await cache.store(GUILD, NS, QUESTION, Answer(text="first"))
    second = await cache.store(GUILD, NS, QUESTION.upper(), Answer(text="second"))

    hit = await cache.lookup(GUILD, NS, QUESTION, model=Answer)

    assert second != first
    assert hit is not None and (hit.entry_id, hit.value.text) == (second, "second")
    assert await cache.indexed_entry_ids(GUILD) == {second}


async def test_extra_keys_find_the_entry_exactly(cache: SemanticCache) -> None:
    url = "https://example.com/News/Article?id=7"
    entry_id = await cache.store(GUILD, NS, QUESTION, Answer(text="from url"), keys=[url])

    hit = await cache.lookup_key(GUILD, NS, url, model=Answer)

    assert hit is not None and (hit.how, hit.entry_id) == ("exact", entry_id)
    assert await cache.lookup_key(GUILD, NS, url.lower(), model=Answer) is None
    assert await cache.lookup_key(OTHER_GUILD, NS, url, model=Answer) is None


async def test_long_text_is_cached_by_exact_layer_only(harness: CacheHarness, cache: SemanticCache) -> None:
    long_text = " ".join(f"Paragraph {number} describes the quarterly figures in detail." for number in range(60))
    await cache.store(GUILD, NS, long_text, Answer(text="long report"))

    exact = await cache.lookup(GUILD, NS, long_text, model=Answer)
    changed = await cache.lookup(GUILD, NS, long_text.replace("Paragraph 59", "Paragraph 61"), model=Answer)

    assert exact is not None and exact.how == "exact"
    assert changed is None
    assert (await cache.stats(GUILD)).semantic_entries == 0


async def test_guild_index_bound_unloads_and_reloads_on_demand(harness: CacheHarness) -> None:
    cache = await harness.open(max_loaded_guilds=2)
    for guild_id in range(1, 6):
        await cache.store(guild_id, NS, f"{QUESTION} guild {guild_id}", Answer(text=str(guild_id)))

    for guild_id in range(1, 6):
        hit = await cache.lookup(guild_id, NS, f"{REWORDED} guild {guild_id}", model=Answer)
        assert hit is not None and hit.value.text == str(guild_id)
    loaded = [(await cache.stats(guild_id)).index_loaded for guild_id in range(1, 6)]
    assert loaded == [False, False, False, True, True]


async def test_store_many_batches_and_everything_is_found(cache: SemanticCache) -> None:
    items = [StoreItem(query_text=f"batch question {number} about tides", value=Answer(text=str(number)))
             for number in range(20)]

    ids = await cache.store_many(GUILD, NS, items)

    assert len(set(ids)) == 20
    for number in range(20):
        hit = await cache.lookup(GUILD, NS, f"batch question {number} about tides", model=Answer)
        assert hit is not None and hit.value.text == str(number)


async def test_stats_count_hits_misses_and_windows(cache: SemanticCache, clock: MovableClock) -> None:
    await cache.store(GUILD, NS, QUESTION, Answer(text="x"))
    await cache.lookup(GUILD, NS, QUESTION, model=Answer)
    clock.advance(2 * DAY)
    await cache.lookup(GUILD, NS, REWORDED, model=Answer)
    await cache.lookup(GUILD, NS, UNRELATED, model=Answer)

    stats = await cache.stats(GUILD)

    assert (stats.exact_hits, stats.semantic_hits, stats.misses) == (1, 1, 1)
    assert (stats.hits_24h, stats.lookups_24h, stats.hits_7d, stats.lookups_7d) == (1, 2, 2, 3)
    assert stats.hit_rate_24h == 0.5
    assert stats.entries == 1 and stats.size_bytes > 0
    assert (await cache.stats(OTHER_GUILD)).lookups_7d == 0


async def test_clean_restart_uses_the_saved_index_without_rebuilding(
    harness: CacheHarness, cache: SemanticCache, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="core.cache")
    entry_id = await cache.store(GUILD, NS, QUESTION, Answer(text="saved"))
    cache = await harness.restart()
    caplog.clear()  # only what the reloaded cache logs counts (the first load reconciles the new row)

    assert await cache.indexed_entry_ids(GUILD) == {entry_id}

    assert not [record for record in caplog.records if "rebuild" in record.message or "reconciled" in record.message]


async def test_corrupt_embedding_row_is_left_out_of_the_index_but_found_exactly(
    harness: CacheHarness, cache: SemanticCache
) -> None:
    broken = await cache.store(GUILD, NS, QUESTION, Answer(text="broken vector"))
    healthy = await cache.store(GUILD, NS, UNRELATED, Answer(text="fine"))
    await harness.close()
    (harness.cache_dir / f"{GUILD}.faiss").unlink()
    cache = await harness.open()
    assert harness.storage is not None
    async with harness.storage.backend.transaction() as tx:
        await tx.execute("UPDATE cache_entries SET embedding = $1 WHERE id = $2", b"\x01\x02", broken)

    exact = await cache.lookup(GUILD, NS, QUESTION, model=Answer)

    assert exact is not None and exact.value.text == "broken vector"
    assert await cache.indexed_entry_ids(GUILD) == {healthy}


async def test_storing_right_after_a_missed_lookup_reuses_its_embedding(
    harness: CacheHarness, cache: SemanticCache
) -> None:
    await cache.store(GUILD, NS, UNRELATED, Answer(text="cake"))
    assert await cache.lookup(GUILD, NS, QUESTION, model=Answer) is None  # embedded, searched, missed
    embedded_before = harness.embedder.texts_embedded

    await cache.store(GUILD, NS, QUESTION, Answer(text="analysed"))

    assert harness.embedder.texts_embedded == embedded_before
    hit = await cache.lookup(GUILD, NS, REWORDED, model=Answer)
    assert hit is not None and hit.value.text == "analysed"


async def test_only_this_shards_guild_indexes_stay_loaded(harness: CacheHarness) -> None:
    shards = ShardSet(count=2, ids=(0,))
    own_guild, other_shard_guild = (10 << 22) + 1, (11 << 22) + 1
    cache = await harness.open(owns_guild=shards.owns)
    for guild_id in (own_guild, other_shard_guild):
        await cache.store(guild_id, NS, QUESTION, Answer(text=str(guild_id)))
    await harness.restart(owns_guild=shards.owns)  # empty memory, rows and files on disk
    cache = harness.cache
    assert cache is not None

    hits = [await cache.lookup(guild_id, NS, REWORDED, model=Answer) for guild_id in (own_guild, other_shard_guild)]

    assert [hit.value.text if hit else None for hit in hits] == [str(own_guild), str(other_shard_guild)]
    assert [hit.how if hit else None for hit in hits] == ["semantic", "semantic"]
    assert (await cache.stats(own_guild)).index_loaded
    assert not (await cache.stats(other_shard_guild)).index_loaded
