"""One contract for every storage backend: each test runs on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from core.errors import CacheUnavailableError, StorageUnavailableError
from core.storage import Storage
from core.storage.models import NewChunk, NewEntry, NewReport, normalise_feedback_text
from tests.conftest import OpenStorage

NOW = 1_700_000_000.0
LATER = NOW + 3600
DAY = "2026-11-29"


def entry(key: str, *, vector: np.ndarray | None = None, aliases: list[str] | None = None) -> NewEntry:
    return NewEntry(
        key_hash=key, alias_hashes=aliases or [], query_text=f"question {key}",
        embedding=None if vector is None else vector.astype(np.float32).tobytes(),
        value_type="tests.Answer", schema_version=1, payload=f'{{"text": "{key}"}}',
    )


def report(guild_id: int, title: str, *, chunks: int = 2, fingerprint: str = "") -> NewReport:
    return NewReport(
        guild_id=guild_id, user_id=5, title=title, source_urls=["https://a.example/x", "https://b.example/y"],
        depth="standard", engine="local", payload=f'{{"title": "{title}"}}', fingerprint=fingerprint or title,
        created_at=NOW,
        chunks=[NewChunk(kind="summary", text=f"{title} passage {number}", embedding=bytes([number]) * 8)
                for number in range(chunks)],
    )


# --- the backend itself -------------------------------------------------------------------------


async def test_migrations_are_applied_once_and_recorded(open_storage: OpenStorage) -> None:
    first = await open_storage()
    version = await first.backend.schema_version()
    await first.close()
    again = await open_storage()

    assert version == 3
    assert await again.backend.schema_version() == 3
    async with again.backend.reading() as db:
        assert await db.fetchval("SELECT COUNT(*) FROM schema_migrations") == 3


async def test_a_transaction_that_raises_leaves_nothing_behind(storage: Storage) -> None:
    with pytest.raises(RuntimeError, match="half way"):
        async with storage.backend.transaction() as tx:
            await tx.execute(
                "INSERT INTO guild_settings (guild_id, data, updated_at) VALUES ($1, $2, $3)", 1, "{}", NOW
            )
            raise RuntimeError("half way")
    async with storage.backend.transaction() as tx:
        await tx.execute("INSERT INTO guild_settings (guild_id, data, updated_at) VALUES ($1, $2, $3)", 2, "{}", NOW)

    assert await storage.guild_settings.get(1) is None
    assert await storage.guild_settings.get(2) == "{}"


async def test_a_failed_statement_rolls_back_the_whole_transaction(storage: Storage) -> None:
    await storage.guild_settings.put(3, '{"a": 1}', updated_at=NOW)
    with pytest.raises(StorageUnavailableError):
        async with storage.backend.transaction() as tx:
            await tx.execute("UPDATE guild_settings SET data = $1 WHERE guild_id = $2", '{"a": 2}', 3)
            await tx.execute("INSERT INTO no_such_table VALUES ($1)", 1)

    assert await storage.guild_settings.get(3) == '{"a": 1}'


async def test_use_after_close_is_a_clear_storage_error(storage: Storage) -> None:
    await storage.close()
    await storage.close()  # idempotent

    with pytest.raises(StorageUnavailableError, match="database is unavailable"):
        await storage.guild_settings.get(1)
    with pytest.raises(CacheUnavailableError):
        await storage.cache.find_by_key(1, "ns", "k", now=NOW)


# --- cache rows ---------------------------------------------------------------------------------


async def test_cache_entry_is_found_by_key_and_alias_only_in_its_guild(storage: Storage) -> None:
    outcome = await storage.cache.insert(1, "ns", [entry("k1", aliases=["url-1"])], now=NOW, expires_at=LATER,
                                         capacity=10)
    (entry_id,) = outcome.entry_ids

    by_key = await storage.cache.find_by_key(1, "ns", "k1", now=NOW)
    by_alias = await storage.cache.find_by_key(1, "ns", "url-1", now=NOW)
    assert by_key is not None and by_key.entry_id == entry_id and by_key.payload == '{"text": "k1"}'
    assert by_alias is not None and by_alias.entry_id == entry_id
    assert await storage.cache.find_by_key(2, "ns", "k1", now=NOW) is None
    assert await storage.cache.find_by_key(1, "other", "k1", now=NOW) is None
    assert await storage.cache.get_entry(2, "ns", entry_id, now=NOW) is None
    assert await storage.cache.find_by_key(1, "ns", "k1", now=LATER) is None, "expired entries are not served"


async def test_storing_the_same_key_replaces_the_entry(storage: Storage) -> None:
    first = await storage.cache.insert(1, "ns", [entry("k")], now=NOW, expires_at=LATER, capacity=10)
    second = await storage.cache.insert(1, "ns", [entry("k")], now=NOW + 1, expires_at=LATER, capacity=10)

    assert second.removed_ids == first.entry_ids
    assert (await storage.cache.stats(1, now=NOW)).entries == 1


async def test_capacity_evicts_least_recently_used_and_counts_it(storage: Storage) -> None:
    outcome = await storage.cache.insert(1, "ns", [entry(f"k{n}") for n in range(3)], now=NOW, expires_at=LATER,
                                         capacity=10)
    await storage.cache.record_hit(1, outcome.entry_ids[0], how="exact", now=NOW + 5, expires_at=LATER)
    evicting = await storage.cache.insert(1, "ns", [entry("k3")], now=NOW + 10, expires_at=LATER, capacity=3)
    stats = await storage.cache.stats(1, now=NOW + 10)

    assert evicting.evicted == 1 and evicting.removed_ids == [outcome.entry_ids[1]]
    assert stats.entries == 3 and stats.evictions == 1 and stats.exact_hits == 1


async def test_hits_misses_and_windows_are_counted_per_guild(storage: Storage) -> None:
    (entry_id,) = (await storage.cache.insert(1, "ns", [entry("k")], now=NOW, expires_at=LATER, capacity=9)).entry_ids
    await storage.cache.record_hit(1, entry_id, how="semantic", now=NOW, expires_at=LATER)
    await storage.cache.record_miss(1, now=NOW)
    await storage.cache.record_miss(1, now=NOW, stale_entry_id=entry_id)
    stats = await storage.cache.stats(1, now=NOW)
    other = await storage.cache.stats(2, now=NOW)

    assert (stats.semantic_hits, stats.misses, stats.stale, stats.entries) == (1, 2, 1, 0)
    assert (stats.hits_24h, stats.lookups_24h, stats.hits_7d, stats.lookups_7d) == (1, 3, 1, 3)
    assert other.lookups_7d == 0 and other.misses == 0


async def test_delete_clear_and_purge_touch_only_their_guild(storage: Storage) -> None:
    ours = (await storage.cache.insert(1, "ns", [entry("a"), entry("b")], now=NOW, expires_at=LATER,
                                       capacity=9)).entry_ids
    short = (await storage.cache.insert(1, "ns", [entry("c")], now=NOW, expires_at=NOW + 10, capacity=9)).entry_ids
    theirs = (await storage.cache.insert(2, "ns", [entry("a")], now=NOW, expires_at=LATER, capacity=9)).entry_ids

    assert await storage.cache.delete(2, ours[0]) is False
    assert await storage.cache.delete(1, ours[0]) is True
    assert await storage.cache.purge_expired(1, now=NOW + 20) == short
    assert await storage.cache.clear(1) == 1
    assert await storage.cache.find_by_key(2, "ns", "a", now=NOW) is not None
    assert [row.entry_id for row in await storage.cache.index_rows(2)] == []  # no embedding: exact only
    assert theirs


async def test_vectors_round_trip_through_the_rows(storage: Storage) -> None:
    vectors = np.random.default_rng(1).standard_normal((3, 384)).astype(np.float32)
    ids = (await storage.cache.insert(
        7, "ns", [entry(f"k{n}", vector=vectors[n]) for n in range(3)] + [entry("exact-only")],
        now=NOW, expires_at=LATER, capacity=9,
    )).entry_ids

    rows = await storage.cache.index_rows(7)
    blobs = await storage.cache.embeddings(7, ids)

    assert sorted(row.entry_id for row in rows) == ids[:3]
    assert set(blobs) == set(ids[:3])
    for position, entry_id in enumerate(ids[:3]):
        assert np.array_equal(np.frombuffer(blobs[entry_id], dtype=np.float32), vectors[position])
    assert await storage.cache.embeddings(8, ids) == {}


# --- reports ------------------------------------------------------------------------------------


async def test_report_and_passages_are_stored_together_and_read_per_guild(storage: Storage) -> None:
    first, chunk_ids = await storage.reports.add(report(1, "Trams", chunks=3, fingerprint="fp-1"))
    second, _ = await storage.reports.add(report(1, "Buses"))
    await storage.reports.add(report(2, "Elsewhere"))

    vectors = await storage.reports.chunk_vectors(1)
    hits = await storage.reports.chunk_hits(1, chunk_ids[:2])
    history = await storage.reports.history(1, limit=1, offset=0)
    summaries = await storage.reports.summaries(1, [first, second])

    assert [vector.chunk_id for vector in vectors] == [*chunk_ids, *[v.chunk_id for v in vectors[3:]]]
    assert vectors[1].embedding == bytes([1]) * 8
    assert {(hit.report_id, hit.title, hit.text) for hit in hits} == {
        (first, "Trams", "Trams passage 0"), (first, "Trams", "Trams passage 1")}
    assert [summary.report_id for summary in history] == [second]
    assert {summary.title for summary in summaries} == {"Trams", "Buses"}
    assert summaries[0].source_urls == ["https://a.example/x", "https://b.example/y"]
    assert await storage.reports.find_by_fingerprint(1, "fp-1") == first
    assert await storage.reports.find_by_fingerprint(2, "fp-1") is None
    assert (await storage.reports.latest_id(1), await storage.reports.count(1)) == (second, 2)
    assert await storage.reports.payload(1, first) == '{"title": "Trams"}'
    assert await storage.reports.payload(2, first) is None
    assert await storage.reports.chunk_hits(2, chunk_ids) == []


async def test_a_guild_without_reports_has_none(storage: Storage) -> None:
    assert await storage.reports.latest_id(9) == 0
    assert await storage.reports.count(9) == 0
    assert await storage.reports.history(9, limit=5, offset=0) == []
    assert await storage.reports.summaries(9, []) == []


# --- guild settings -----------------------------------------------------------------------------


async def test_guild_settings_are_one_document_per_guild(storage: Storage) -> None:
    await storage.guild_settings.put(1, '{"default_depth": "quick"}', updated_at=NOW)
    await storage.guild_settings.put(1, '{"default_depth": "deep"}', updated_at=NOW + 1)

    assert await storage.guild_settings.get(1) == '{"default_depth": "deep"}'
    assert await storage.guild_settings.get(2) is None


# --- LLM spend ----------------------------------------------------------------------------------


async def test_spend_is_summed_per_guild_and_day(storage: Storage) -> None:
    await storage.spend.record(1, DAY, model="a", prompt_tokens=100, completion_tokens=10, cost_usd=0.25)
    await storage.spend.record(1, DAY, model="b", prompt_tokens=100, completion_tokens=10, cost_usd=0.5)
    await storage.spend.record(1, "2026-11-30", model="a", prompt_tokens=1, completion_tokens=1, cost_usd=0.1)

    spent = await storage.spend.spent(1, DAY)

    assert (spent.calls, spent.prompt_tokens, spent.completion_tokens) == (2, 200, 20)
    assert spent.cost_usd == pytest.approx(0.75)
    assert (await storage.spend.spent(2, DAY)).cost_usd == 0
    assert await storage.spend.committed(1, DAY) == pytest.approx(0.75)


async def test_reservation_fits_the_budget_or_is_refused(storage: Storage) -> None:
    await storage.spend.record(1, DAY, model="a", prompt_tokens=0, completion_tokens=0, cost_usd=0.5)

    assert await storage.spend.reserve(1, DAY, estimate_usd=0.3, budget_usd=1.0)
    assert not await storage.spend.reserve(1, DAY, estimate_usd=0.3, budget_usd=1.0)
    assert await storage.spend.committed(1, DAY) == pytest.approx(0.8)
    await storage.spend.release(1, DAY, estimate_usd=0.3)
    assert await storage.spend.reserve(1, DAY, estimate_usd=0.5, budget_usd=1.0)
    assert not await storage.spend.reserve(2, DAY, estimate_usd=1.5, budget_usd=1.0)
    assert await storage.spend.reserve(2, DAY, estimate_usd=1.0, budget_usd=1.0)
    assert await storage.spend.clear_reservations() == 2
    assert await storage.spend.committed(1, DAY) == pytest.approx(0.5)


async def test_twenty_concurrent_reservations_from_two_processes_never_pass_the_budget(
    open_storage: OpenStorage,
) -> None:
    first, second = await open_storage(), await open_storage()
    await first.spend.record(4, DAY, model="a", prompt_tokens=0, completion_tokens=0, cost_usd=0.35)

    granted = await asyncio.gather(*(
        (first if number % 2 else second).spend.reserve(4, DAY, estimate_usd=0.1, budget_usd=1.0)
        for number in range(20)
    ))

    assert granted.count(True) == 6, "0.35 spent leaves room for exactly six reservations of 0.10"
    assert await first.spend.committed(4, DAY) == pytest.approx(0.95)


# --- cache feedback -----------------------------------------------------------------------------


async def test_negative_pairs_compare_on_the_normalised_texts_per_guild(storage: Storage) -> None:
    added = await storage.feedback.add_negative(1, "ns", "What is  the Tram?", "tram fares", entry_id=4, user_id=9)
    again = await storage.feedback.add_negative(1, "ns", "what is the tram?", "Tram  Fares ", entry_id=4, user_id=8)

    assert added is True and again is False
    assert await storage.feedback.is_negative(1, "ns", "WHAT IS THE TRAM?", "tram fares")
    assert not await storage.feedback.is_negative(2, "ns", "what is the tram?", "tram fares")
    assert not await storage.feedback.is_negative(1, "other", "what is the tram?", "tram fares")
    assert not await storage.feedback.is_negative(1, "ns", "what is the bus?", "tram fares")
    assert (await storage.feedback.count(1), await storage.feedback.count(2)) == (1, 0)


async def test_wrong_answers_lists_the_stored_texts_marked_for_one_query(storage: Storage) -> None:
    await storage.feedback.add_negative(1, "ns", "Why did X fine Y?", "Why did Y fine X?", entry_id=1, user_id=9)
    await storage.feedback.add_negative(1, "ns", "why did x  fine y?", "Why was X fined by Y?", entry_id=2, user_id=9)
    await storage.feedback.add_negative(2, "ns", "Why did X fine Y?", "other guild", entry_id=3, user_id=9)

    assert sorted(await storage.feedback.wrong_answers(1, "ns", "WHY DID X FINE Y?")) == [
        "Why did Y fine X?", "Why was X fined by Y?"]
    assert await storage.feedback.wrong_answers(1, "other", "Why did X fine Y?") == []
    assert await storage.feedback.wrong_answers(3, "ns", "Why did X fine Y?") == []


def test_feedback_normal_form_folds_case_width_and_spaces() -> None:
    assert normalise_feedback_text("  Ｔram\tFARES\n ") == "tram fares"
