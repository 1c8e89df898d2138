"""Storage benchmark: many guilds' cache rows in SQLite and in PostgreSQL, side by side.

Run: ``.venv/bin/python benchmarks/storage_bench.py``.
Options: ``--guilds 10000 --entries 100`` (the issue's size), ``--samples 200``, ``--backends
sqlite,postgresql``, ``--dsn postgresql://...`` (an existing, empty database; default: a throwaway
cluster started like the tests do, see ``tests/postgres_server.py``).

Each backend runs in its own child process (so RSS is its own):

1. Fill: ``guilds x entries`` cache rows (exact keys, small JSON payloads, and **random unit
   vectors** of 384 float32 as their embeddings: embedding a million texts would take hours here,
   and a stored vector's content does not change what loading or searching it costs).  The schema
   is made by the product's migrations; the rows go in with each database's bulk loader (COPY for
   PostgreSQL, one ``executemany`` transaction for SQLite): setup, not a measured path.
2. Cold load: a fresh :class:`~core.cache.SemanticCache` (empty index directory, so every index is
   built from the rows alone) loads ``--samples`` random guilds one at a time: reading the rows and
   vectors, building the FAISS index.  p50 / p99.
3. Exact hit: ``lookup(..., semantic=False)`` of a stored question of a random guild: the row read,
   payload validation, and the hit's transaction (expiry refresh + counters).  p50 / p99.
4. Throughput: exact hits a second, one at a time and with 16 concurrent lookups.
5. Semantic lookups: a question no guild stored, so the full path runs: exact miss, embedding
   with the product's int8 ONNX MiniLM on the 2-worker gate, FAISS search of the guild's loaded
   index, the decision (nothing is near a random vector: a miss) and the miss counter.  Lookups a
   second, one at a time and 16 concurrent.
6. RSS of the child at the end (``cache_max_loaded_guilds=64`` indexes held, the ONNX embedder loaded).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg
import numpy as np
from pydantic import BaseModel

from core.cache import SemanticCache, query_key
from core.cache.semantic_cache import schema_version_of, type_tag_of
from core.embedder import Embedder, build_embedder
from core.gate import WorkerGate
from core.guild_settings import GuildSettingsStore
from core.settings import Settings
from core.storage import Storage
from core.storage.postgres import PostgresBackend
from core.storage.sqlite import SqliteBackend

NS = "bench:v1"
DIMENSION = 384
BATCH = 10_000
FIRST_GUILD = 10**17  # Discord-sized ids


class Answer(BaseModel):
    schema_version: int = 1
    text: str


def question(guild_id: int, number: int) -> str:
    return f"guild {guild_id} stored question number {number}: what did the report say?"


COLUMNS = ("guild_id", "namespace", "key_hash", "query_text", "embedding", "value_type", "schema_version",
           "payload", "created_at", "last_used_at", "expires_at")


def bulk_rows(*, guilds: int, entries: int, namespace: str) -> Iterator[list[tuple[object, ...]]]:
    """Rows of ``BATCH`` or fewer: random unit vectors, a stored question and answer per entry."""
    rng = np.random.default_rng(7)
    tag, version = type_tag_of(Answer), schema_version_of(Answer)
    now = time.time()
    expires = now + 30 * 86_400
    rows: list[tuple[object, ...]] = []
    for guild_id in range(FIRST_GUILD, FIRST_GUILD + guilds):
        vectors = rng.standard_normal((entries, DIMENSION)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        for number in range(entries):
            text = question(guild_id, number)
            rows.append((guild_id, namespace, query_key(text), text, vectors[number].tobytes(), tag, version,
                         Answer(text=f"answer {number}").model_dump_json(), now, now, expires))
        if len(rows) >= BATCH:
            yield rows
            rows = []
    if rows:
        yield rows


async def fill_postgresql(dsn: str, *, guilds: int, entries: int, namespace: str) -> float:
    connection = await asyncpg.connect(dsn)
    started = time.perf_counter()
    try:
        for rows in bulk_rows(guilds=guilds, entries=entries, namespace=namespace):
            await connection.copy_records_to_table("cache_entries", records=rows, columns=list(COLUMNS))
        await connection.execute("ANALYZE cache_entries")
    finally:
        await connection.close()
    return time.perf_counter() - started


def fill_sqlite(path: Path, *, guilds: int, entries: int, namespace: str) -> float:
    statement = (f"INSERT INTO cache_entries ({', '.join(COLUMNS)}) "
                 f"VALUES ({', '.join('?' * len(COLUMNS))})")
    started = time.perf_counter()
    with contextlib.closing(sqlite3.connect(path)) as database:
        for rows in bulk_rows(guilds=guilds, entries=entries, namespace=namespace):
            with database:
                database.executemany(statement, rows)
        database.execute("ANALYZE")
    return time.perf_counter() - started


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def measure(storage: Storage, directory: Path, embedder: Embedder, *, guilds: int, entries: int,
                  samples: int) -> dict[str, float]:
    settings = Settings(_env_file=None, data_dir=directory)  # type: ignore[call-arg]
    rng = random.Random(11)
    async with WorkerGate(max_workers=2) as gate:
        guild_settings = GuildSettingsStore(storage.guild_settings, settings)
        cache = SemanticCache(metadata=storage.cache, feedback=storage.feedback, gate=gate, embedder=embedder,
                              guild_settings=guild_settings, directory=directory / "cache", max_loaded_guilds=64)
        await cache.setup()
        chosen = rng.sample(range(FIRST_GUILD, FIRST_GUILD + guilds), min(samples, guilds))
        loads = []
        for guild_id in chosen:
            started = time.perf_counter()
            found = await cache.indexed_entry_ids(guild_id)
            loads.append(time.perf_counter() - started)
            assert len(found) == entries
        picks = [(rng.choice(chosen), rng.randrange(entries)) for _ in range(max(samples, 1000))]
        for guild_id in chosen:  # warm the per-guild settings getter, as a running bot has it
            await guild_settings.effective(guild_id)
        hits = []
        for guild_id, number in picks:
            started = time.perf_counter()
            hit = await cache.lookup(guild_id, NS, question(guild_id, number), model=Answer, semantic=False)
            hits.append(time.perf_counter() - started)
            assert hit is not None and hit.value.text == f"answer {number}"
        concurrent = await _concurrent_rate(cache, picks)
        semantic = await _semantic_rates(cache, chosen[-64:], count=max(100, samples))
        await cache.close()
    return semantic | {
        "load_p50_ms": percentile(loads, 0.5) * 1000, "load_p99_ms": percentile(loads, 0.99) * 1000,
        "hit_p50_ms": percentile(hits, 0.5) * 1000, "hit_p99_ms": percentile(hits, 0.99) * 1000,
        "hits_per_s": len(hits) / sum(hits), "hits_per_s_16": concurrent,
    }


async def _concurrent_rate(cache: SemanticCache, picks: list[tuple[int, int]]) -> float:
    queue = list(picks)

    async def worker() -> None:
        while queue:
            guild_id, number = queue.pop()
            await cache.lookup(guild_id, NS, question(guild_id, number), model=Answer, semantic=False)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(16)))
    return len(picks) / (time.perf_counter() - started)


async def _semantic_rates(cache: SemanticCache, guild_ids: list[int], *, count: int) -> dict[str, float]:
    """Semantic lookups (embed + search + decide) of questions nobody stored, in guilds already loaded."""
    asks = [(guild_ids[number % len(guild_ids)], f"unstored question {number}: how did the harbour vote go?")
            for number in range(count)]
    durations = []
    for guild_id, text in asks:
        started = time.perf_counter()
        assert await cache.lookup(guild_id, NS, text, model=Answer) is None  # random vectors: nothing near
        durations.append(time.perf_counter() - started)
    queue = [(guild_id, f"{text} (again)") for guild_id, text in asks]

    async def worker() -> None:
        while queue:
            guild_id, text = queue.pop()
            await cache.lookup(guild_id, NS, text, model=Answer)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(16)))
    return {"semantic_p50_ms": percentile(durations, 0.5) * 1000, "semantic_per_s": len(durations) / sum(durations),
            "semantic_per_s_16": count / (time.perf_counter() - started)}


async def child(kind: str, dsn: str, *, guilds: int, entries: int, samples: int) -> dict[str, float]:
    embedder = build_embedder(Settings(_env_file=None))  # type: ignore[call-arg]
    namespace = f"{NS}@{embedder.name}"  # as SemanticCache scopes it: vectors of one model only
    with tempfile.TemporaryDirectory(prefix="storage-bench-") as folder:
        directory = Path(folder)
        backend = PostgresBackend(dsn) if kind == "postgresql" else SqliteBackend(directory / "intel.db")
        async with Storage(backend):  # the schema, by the product's migrations
            pass
        if kind == "postgresql":
            fill_seconds = await fill_postgresql(dsn, guilds=guilds, entries=entries, namespace=namespace)
        else:
            fill_seconds = fill_sqlite(directory / "intel.db", guilds=guilds, entries=entries, namespace=namespace)
        backend = PostgresBackend(dsn) if kind == "postgresql" else SqliteBackend(directory / "intel.db")
        async with Storage(backend) as storage:
            figures = await measure(storage, directory, embedder, guilds=guilds, entries=entries, samples=samples)
    figures["fill_rows_per_s"] = guilds * entries / fill_seconds
    figures["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return figures


def run_child(kind: str, dsn: str, arguments: argparse.Namespace) -> dict[str, float]:
    command = [sys.executable, __file__, "--child", kind, "--dsn", dsn, "--guilds", str(arguments.guilds),
               "--entries", str(arguments.entries), "--samples", str(arguments.samples)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def print_table(results: dict[str, dict[str, float]], arguments: argparse.Namespace) -> None:
    rows = [
        ("bulk fill (setup, not the product path), rows/s", "fill_rows_per_s", "{:,.0f}"),
        ("cold load of one guild's index, p50 (ms)", "load_p50_ms", "{:.1f}"),
        ("cold load of one guild's index, p99 (ms)", "load_p99_ms", "{:.1f}"),
        ("exact hit, p50 (ms)", "hit_p50_ms", "{:.2f}"),
        ("exact hit, p99 (ms)", "hit_p99_ms", "{:.2f}"),
        ("exact hits/s, one at a time", "hits_per_s", "{:,.0f}"),
        ("exact hits/s, 16 concurrent", "hits_per_s_16", "{:,.0f}"),
        ("semantic lookup, p50 (ms)", "semantic_p50_ms", "{:.1f}"),
        ("semantic lookups/s, one at a time", "semantic_per_s", "{:,.0f}"),
        ("semantic lookups/s, 16 concurrent", "semantic_per_s_16", "{:,.0f}"),
        ("peak RSS of the process (MB)", "rss_mb", "{:,.0f}"),
    ]
    kinds = list(results)
    print(f"\n{arguments.guilds:,} guilds x {arguments.entries} entries, {arguments.samples} sampled guilds\n")
    print("| measure | " + " | ".join(kinds) + " |")
    print("| --- |" + " --- |" * len(kinds))
    for label, key, form in rows:
        print(f"| {label} | " + " | ".join(form.format(results[kind][key]) for kind in kinds) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--guilds", type=int, default=10_000)
    parser.add_argument("--entries", type=int, default=100)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--dsn", default="")
    parser.add_argument("--child", choices=["sqlite", "postgresql"])
    arguments = parser.parse_args()
    if arguments.child:
        figures = asyncio.run(child(arguments.child, arguments.dsn, guilds=arguments.guilds,
                                    entries=arguments.entries, samples=arguments.samples))
        print(json.dumps(figures))
        return
    results: dict[str, dict[str, float]] = {}
    server = None
    dsn = arguments.dsn
    try:
        for kind in arguments.backends.split(","):
            if kind == "postgresql" and not dsn:
                from tests.postgres_server import PostgresServer, psql

                server = PostgresServer()
                server.start()
                psql(server.admin_dsn, "CREATE DATABASE bench")
                dsn = server.dsn("bench")
            results[kind] = run_child(kind, dsn, arguments)
            print(f"{kind}: {json.dumps(results[kind])}", file=sys.stderr)
    finally:
        if server is not None:
            server.stop()
    print_table(results, arguments)


if __name__ == "__main__":
    main()
