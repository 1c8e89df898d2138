"""Storage benchmark: many guilds' cache rows in SQLite and in PostgreSQL, side by side.

Run: ``.venv/bin/python benchmarks/storage_bench.py``.
Options: ``--guilds 10000 --entries 100`` (the issue's size), ``--samples 200``, ``--backends
sqlite,postgresql``, ``--dsn postgresql://...`` (an existing, empty database; default: a throwaway
cluster started like the tests do, see ``tests/postgres_server.py``).

Each backend runs in its own child process (so RSS is its own):

1. Fill: ``guilds x entries`` cache rows (384-d float32 vectors in the rows, exact keys, small
   JSON payloads) through the backend's public ``transaction()`` API, 10,000 rows a transaction.
2. Cold load: a fresh :class:`~core.cache.SemanticCache` (empty index directory, so every index is
   built from the rows alone) loads ``--samples`` random guilds one at a time: reading the rows and
   vectors, building the FAISS index.  p50 / p99.
3. Exact hit: ``lookup(..., semantic=False)`` of a stored question of a random guild: the row read,
   payload validation, and the hit's transaction (expiry refresh + counters).  p50 / p99.
4. Throughput: exact hits a second, one at a time and with 16 concurrent lookups.
5. RSS of the child at the end (``cache_max_loaded_guilds=64`` indexes held; no embedding model is
   loaded: add ~300 MB for MiniLM in the bot).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from pydantic import BaseModel

from core.cache import SemanticCache, query_key
from core.cache.semantic_cache import schema_version_of, type_tag_of
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


class NoModel:
    """The cache needs only the dimension to load and serve exact hits; nothing here embeds."""

    name = "none"
    dimension = DIMENSION

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        raise AssertionError("the storage benchmark never embeds")


def question(guild_id: int, number: int) -> str:
    return f"guild {guild_id} stored question number {number}: what did the report say?"


async def fill(storage: Storage, *, guilds: int, entries: int) -> float:
    rng = np.random.default_rng(7)
    tag, version = type_tag_of(Answer), schema_version_of(Answer)
    expires = time.time() + 30 * 86_400
    rows: list[tuple[object, ...]] = []
    started = time.perf_counter()
    for guild_id in range(FIRST_GUILD, FIRST_GUILD + guilds):
        vectors = rng.standard_normal((entries, DIMENSION)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        for number in range(entries):
            text = question(guild_id, number)
            rows.append((guild_id, NS, query_key(text), text, vectors[number].tobytes(), tag, version,
                         Answer(text=f"answer {number}").model_dump_json(), time.time(), time.time(), expires))
        if len(rows) >= BATCH:
            await _insert(storage, rows)
            rows = []
    await _insert(storage, rows)
    return time.perf_counter() - started


async def _insert(storage: Storage, rows: list[tuple[object, ...]]) -> None:
    if not rows:
        return
    async with storage.backend.transaction() as tx:
        await tx.executemany(
            "INSERT INTO cache_entries (guild_id, namespace, key_hash, query_text, embedding, value_type, "
            "schema_version, payload, created_at, last_used_at, expires_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)", rows,
        )


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def measure(storage: Storage, directory: Path, *, guilds: int, entries: int, samples: int) -> dict[str, float]:
    settings = Settings(_env_file=None, data_dir=directory)  # type: ignore[call-arg]
    rng = random.Random(11)
    async with WorkerGate(max_workers=2) as gate:
        guild_settings = GuildSettingsStore(storage.guild_settings, settings)
        cache = SemanticCache(metadata=storage.cache, feedback=storage.feedback, gate=gate, embedder=NoModel(), guild_settings=guild_settings,
                              directory=directory / "cache", max_loaded_guilds=64)
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
        await cache.close()
    return {
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


async def child(kind: str, dsn: str, *, guilds: int, entries: int, samples: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="storage-bench-") as folder:
        directory = Path(folder)
        backend = PostgresBackend(dsn) if kind == "postgresql" else SqliteBackend(directory / "intel.db")
        async with Storage(backend) as storage:
            fill_seconds = await fill(storage, guilds=guilds, entries=entries)
            figures = await measure(storage, directory, guilds=guilds, entries=entries, samples=samples)
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
        ("fill, rows/s", "fill_rows_per_s", "{:,.0f}"),
        ("cold load of one guild's index, p50 (ms)", "load_p50_ms", "{:.1f}"),
        ("cold load of one guild's index, p99 (ms)", "load_p99_ms", "{:.1f}"),
        ("exact hit, p50 (ms)", "hit_p50_ms", "{:.2f}"),
        ("exact hit, p99 (ms)", "hit_p99_ms", "{:.2f}"),
        ("exact hits/s, one at a time", "hits_per_s", "{:,.0f}"),
        ("exact hits/s, 16 concurrent", "hits_per_s_16", "{:,.0f}"),
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
