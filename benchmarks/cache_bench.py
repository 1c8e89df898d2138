"""Semantic cache benchmark: hit latency by size, GPTCache side by side, and 1,000 guilds.

Run: ``.venv/bin/python benchmarks/cache_bench.py`` (needs the ``bench`` extra: ``gptcache==0.1.44``,
``sqlalchemy``, ``psutil``).  Options: ``--sizes 1000,10000,100000``, ``--queries 200``,
``--gptcache-entries 1000``, ``--guilds 1000 --per-guild 1000``, ``--only latency|gptcache|guilds``.

Data: questions from ``../shared/data/qqp_dev_pairs.jsonl.gz`` (``--data``), seeded sample.  The
first up-to-3,000 distinct questions are embedded with the real all-MiniLM-L6-v2.  Bigger
indexes are filled with generated vectors: a real question's vector plus Gaussian noise
(sigma 0.07 per dimension, cosine ~0.6 to its source), renormalised; their texts are marked as
variants.  Stored values are small pydantic models.

1. Latency: one guild holding N entries.  Exact hits look up stored questions verbatim.  Semantic
   hits look up "Quick question: <stored question>" (never stored, so the exact layer misses and
   the real model embeds it); the guild threshold is 0.85 so these hit.  Right before each
   semantic lookup the same text is embedded once on a gate worker (the floor of a semantic
   lookup, on the thread where the cache embeds), so each pair sees the same machine load; the
   table gives the ratio of the medians and the median of the per-pair ratios.  An index-only
   column compares ``omp_set_num_threads(1)`` (what the runtime sets) with the OpenMP default on
   the cache's own layout for that size (flat below 20,000 entries, IVF above).
1b. For sizes from 20,000: the IVF layout against a flat index over the same vectors the cache
   holds, with real queries ("Quick question: <stored question>" and reworded QQP partners):
   recall@5, same best candidate, search p50 of both, and the build time including training.
2. GPTCache 0.1.44 with its ``sqlite,faiss`` data manager and the same MiniLM embedding function:
   the same M entries stored one by one (ours: ``store``; theirs: ``api.put``) and in a batch
   (ours: ``store_many``; theirs: ``Cache.import_data``), then the same queries: stored questions
   verbatim (repeats) and reworded (QQP label-1 partner of a stored question).  The product's
   flow for a new question, side by side: ours ``lookup`` (miss) then ``store`` (reusing the
   lookup's vector); GPTCache's LLM-adapter flow (one ``adapt`` call: embed once, search, miss,
   "LLM", save) and its ``api.get`` then ``api.put`` (embeds twice).
3. 1,000 guilds x 1,000 entries (child process, so its peak RSS is its own; the real model is
   loaded as in the bot): peak RSS with ``cache_max_loaded_guilds=64`` and the cold-load time of
   one guild's index (reopen the cache, then load guilds that are not in memory).
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import faiss
import numpy as np
from pydantic import BaseModel

from core.cache import SemanticCache, StoreItem
from core.cache.vector_index import APPROXIMATE_FROM, FaissVectorIndex
from core.embedder import SentenceTransformerEmbedder
from core.gate import WorkerGate
from core.guild_settings import GuildSettingsStore
from core.settings import Settings, default_embedding_model_path
from core.storage import Storage

NS = "bench:v1"
GUILD = 1
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "qqp_dev_pairs.jsonl.gz"
NOISE = 0.07
_VARIANT = re.compile(r"^variant (\d+) of (\d+):")


class Answer(BaseModel):
    schema_version: int = 1
    text: str


class Corpus(BaseModel):
    questions: list[str]
    partners: dict[int, str]  # index of a question -> a label-1 rewording of it


def load_corpus(path: Path, *, count: int, seed: int = 7) -> Corpus:
    pairs = [json.loads(line) for line in gzip.open(path, "rt", encoding="utf-8")]
    random.Random(seed).shuffle(pairs)
    questions: list[str] = []
    partners: dict[int, str] = {}
    seen: set[str] = set()
    for pair in pairs:
        if pair["a"] in seen or len(questions) >= count:
            continue
        seen.add(pair["a"])
        if pair["label"] == 1:
            partners[len(questions)] = pair["b"]
        questions.append(pair["a"])
    return Corpus(questions=questions, partners=partners)


class TableEmbedder:
    """Real vectors for the base questions, generated vectors for ``variant K of I:`` texts, the real model otherwise."""

    def __init__(self, model: SentenceTransformerEmbedder, texts: Sequence[str], vectors: np.ndarray) -> None:
        self.model = model
        self.table = {text: vectors[row] for row, text in enumerate(texts)}
        self.base = vectors
        self.name = model.name
        self.dimension = int(vectors.shape[1])

    def variant_vector(self, variant: int, base: int) -> np.ndarray:
        noise = np.random.default_rng(variant).standard_normal(self.dimension).astype(np.float32) * NOISE
        vector = self.base[base] + noise
        return vector / np.linalg.norm(vector)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        rows: list[np.ndarray | None] = []
        for text in texts:
            match = _VARIANT.match(text)
            rows.append(self.variant_vector(int(match[1]), int(match[2])) if match else self.table.get(text))
        unknown = [position for position, row in enumerate(rows) if row is None]
        if unknown:
            embedded = self.model.embed([texts[position] for position in unknown])
            for offset, position in enumerate(unknown):
                rows[position] = embedded[offset]
        return np.stack([row for row in rows if row is not None]).astype(np.float32)


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] if ordered else float("nan")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f}"


def row(*cells: object) -> str:
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


async def timed(call: Callable[[], Awaitable[object]]) -> tuple[float, object]:
    started = time.perf_counter()
    result = await call()
    return time.perf_counter() - started, result


class OpenCache:
    """A database, guild settings and cache in a temporary directory."""

    def __init__(self, directory: Path, gate: WorkerGate, embedder: object, **options: object) -> None:
        self.settings = Settings(_env_file=None, data_dir=directory)  # type: ignore[call-arg]
        self.gate = gate
        self.embedder = embedder
        self.options = options
        self.storage = Storage.from_settings(self.settings)
        self.cache: SemanticCache

    async def __aenter__(self) -> SemanticCache:
        await self.storage.open()
        guild_settings = GuildSettingsStore(self.storage.guild_settings, self.settings)
        await guild_settings.update(GUILD, cache_similarity_threshold=0.85)
        self.cache = SemanticCache(
            metadata=self.storage.cache, feedback=self.storage.feedback, gate=self.gate, embedder=self.embedder,  # type: ignore[arg-type]
            guild_settings=guild_settings, directory=self.settings.data_dir / "cache", **self.options,  # type: ignore[arg-type]
        )
        await self.cache.setup()
        return self.cache

    async def __aexit__(self, *exc_info: object) -> None:
        await self.cache.close()
        await self.storage.close()


# --- 1. latency by size ----------------------------------------------------------------------

def fill_items(size: int, corpus: Corpus) -> list[StoreItem]:
    base_count = len(corpus.questions)
    items = [StoreItem(query_text=text, value=Answer(text=f"answer {number}"))
             for number, text in enumerate(corpus.questions[:size])]
    items += [
        StoreItem(query_text=f"variant {number} of {number % base_count}: {corpus.questions[number % base_count]}",
                  value=Answer(text=f"answer {number}"))
        for number in range(len(items), size)
    ]
    return items


async def latency_for_size(size: int, corpus: Corpus, embedder: TableEmbedder, gate: WorkerGate, queries: int) -> list[str]:
    with tempfile.TemporaryDirectory() as directory:
        async with OpenCache(Path(directory), gate, embedder, capacity=size + 10) as cache:
            items = fill_items(size, corpus)
            started = time.perf_counter()
            for start in range(0, size, 2000):
                await cache.store_many(GUILD, NS, items[start:start + 2000])
            fill_seconds = time.perf_counter() - started
            picks = random.Random(size).sample(range(min(size, len(corpus.questions))), queries)
            exact = [(await timed(lambda pick=pick: cache.lookup(GUILD, NS, corpus.questions[pick], model=Answer)))[0]
                     for pick in picks]
            paired = await semantic_side_by_side(cache, embedder, gate, [corpus.questions[p] for p in picks])
    omp = faiss_thread_row(size, embedder)
    print(f"  {size:,} entries: filled in {fill_seconds:.1f}s; semantic hits: {len(paired.semantic)}/{queries}",
          file=sys.stderr)
    semantic, floor = statistics.median(paired.semantic), statistics.median(paired.floor)
    return [
        row(f"{size:,}", ms(statistics.median(exact)), ms(percentile(exact, 0.99)), ms(semantic),
            ms(percentile(paired.semantic, 0.99)), ms(floor), f"{semantic / floor:.2f}x",
            f"{statistics.median(paired.ratios):.2f}x", *omp),
    ]


class SideBySide(BaseModel):
    semantic: list[float] = []
    floor: list[float] = []
    ratios: list[float] = []


async def semantic_side_by_side(
    cache: SemanticCache, embedder: TableEmbedder, gate: WorkerGate, questions: Sequence[str]
) -> SideBySide:
    """Per query: one embedding on a gate worker (where the cache embeds), then the lookup; paired."""
    result = SideBySide()
    for question in questions:
        query = f"Quick question: {question}"
        floor, _ = await timed(lambda query=query: gate.run(embedder.model.embed, [query]))
        seconds, hit = await timed(lambda query=query: cache.lookup(GUILD, NS, query, model=Answer))
        if hit is not None and hit.how == "semantic":  # type: ignore[attr-defined]
            result.semantic.append(seconds)
            result.floor.append(floor)
            result.ratios.append(seconds / floor)
    return result


def faiss_thread_row(size: int, embedder: TableEmbedder) -> list[str]:
    """Flat search p50 at this size with one OpenMP thread and with the default."""
    index = FaissVectorIndex(Path("/nonexistent"), dimension=embedder.dimension)
    vectors = np.stack([embedder.variant_vector(number, number % len(embedder.base)) for number in range(size)])
    index.add(list(range(size)), vectors)
    results = []
    for threads in (1, os.cpu_count() or 1):
        faiss.omp_set_num_threads(threads)
        times = []
        for number in range(200):
            started = time.perf_counter()
            index.search(vectors[number], limit=20)
            times.append(time.perf_counter() - started)
        results.append(ms(statistics.median(times)))
    faiss.omp_set_num_threads(1)
    return results


def approximate_search_row(size: int, corpus: Corpus, embedder: TableEmbedder, queries: np.ndarray) -> str:
    """The IVF layout against a flat index over the same vectors the cache holds: recall, time, training."""
    vectors = embedder.embed([item.query_text for item in fill_items(size, corpus)])
    ids = list(range(size))
    flat = FaissVectorIndex(Path("/nonexistent"), dimension=embedder.dimension, approximate_from=size + 1)
    flat.add(ids, vectors)
    approximate = FaissVectorIndex(Path("/nonexistent"), dimension=embedder.dimension)
    started = time.perf_counter()
    approximate.add(ids, vectors)
    build_seconds = time.perf_counter() - started
    found, top_same, times = [], [], {"flat": [], "ivf": []}
    for query in queries:
        results = {}
        for name, index in (("flat", flat), ("ivf", approximate)):
            began = time.perf_counter()
            results[name] = [match.entry_id for match in index.search(query, limit=5)]
            times[name].append(time.perf_counter() - began)
        found.append(len(set(results["flat"]) & set(results["ivf"])) / len(results["flat"]))
        top_same.append(results["flat"][0] == results["ivf"][0])
    return row(f"{size:,}", approximate.list_count, approximate.probe_count,
               f"{statistics.mean(found):.4f}", f"{statistics.mean(top_same):.4f}", ms(statistics.median(times["flat"])),
               ms(statistics.median(times["ivf"])), f"{build_seconds:.2f}")


async def approximate_search_table(sizes: Sequence[int], corpus: Corpus, embedder: TableEmbedder,
                                   gate: WorkerGate, queries: int) -> list[str]:
    picks = random.Random(3).sample(range(len(corpus.questions)), queries)
    texts = [f"Quick question: {corpus.questions[pick]}" for pick in picks]
    texts += [corpus.partners[number] for number in sorted(corpus.partners)][:queries]
    vectors = await gate.run(embedder.model.embed, texts)
    return [approximate_search_row(size, corpus, embedder, vectors) for size in sizes]


# --- 2. GPTCache side by side ----------------------------------------------------------------

def gptcache_instance(directory: Path, embedder: SentenceTransformerEmbedder, entries: int) -> object:
    """GPTCache with its sqlite,faiss data manager and our MiniLM as its embedding function."""
    from gptcache import Cache
    from gptcache.manager import manager_factory
    from gptcache.processor.pre import get_prompt
    from gptcache.similarity_evaluation.distance import SearchDistanceEvaluation

    cache = Cache()
    manager = manager_factory(
        "sqlite,faiss", data_dir=str(directory), vector_params={"dimension": embedder.dimension}, max_size=entries * 4
    )
    cache.init(
        pre_embedding_func=get_prompt, embedding_func=lambda text, **_: embedder.embed([text])[0],
        data_manager=manager, similarity_evaluation=SearchDistanceEvaluation(),
    )
    return cache


def time_into(totals: dict[str, float], key: str, work: Callable[[], object]) -> None:
    started = time.perf_counter()
    work()
    totals[key] = totals.get(key, 0.0) + time.perf_counter() - started


async def atime_into(totals: dict[str, float], key: str, work: Callable[[], Awaitable[object]]) -> None:
    started = time.perf_counter()
    await work()
    totals[key] = totals.get(key, 0.0) + time.perf_counter() - started


async def interleaved_stores(ours: tuple[SemanticCache, SemanticCache], theirs: tuple[object, object],
                             questions: list[str]) -> dict[str, float]:
    """Store the same questions into all four caches, alternating in chunks so load drifts hit all alike."""
    from gptcache.adapter.api import put

    totals: dict[str, float] = {}
    for start in range(0, len(questions), 50):
        chunk = questions[start:start + 50]
        answers = [Answer(text=f"answer {start + offset}") for offset in range(len(chunk))]

        async def ours_one(chunk: list[str] = chunk, answers: list[Answer] = answers) -> None:
            for question, answer in zip(chunk, answers, strict=True):
                await ours[0].store(GUILD, NS, question, answer)

        def theirs_one(chunk: list[str] = chunk, answers: list[Answer] = answers) -> None:
            for question, answer in zip(chunk, answers, strict=True):
                put(question, answer.text, cache_obj=theirs[0])

        items = [StoreItem(query_text=question, value=answer) for question, answer in zip(chunk, answers, strict=True)]
        await atime_into(totals, "ours_one", ours_one)
        time_into(totals, "theirs_one", theirs_one)
        await atime_into(totals, "ours_batch", lambda items=items: ours[1].store_many(GUILD, NS, items))
        time_into(totals, "theirs_batch", lambda chunk=chunk, answers=answers: theirs[1].import_data(  # type: ignore[attr-defined]
            chunk, [answer.text for answer in answers]))
    return {key: len(questions) / seconds for key, seconds in totals.items()}


async def interleaved_flows(ours: SemanticCache, theirs: tuple[object, object], questions: list[str]) -> dict[str, float]:
    """The product's flow for a new question, for each system, alternating in chunks of 50.

    Ours: ``lookup`` (exact read, then embed + search), a miss, then ``store`` (which reuses the
    lookup's vector).  GPTCache's LLM adapters: one ``adapt`` call (embed, search, miss, call the
    "LLM", save with the same embedding).  GPTCache's ``api.get`` then ``api.put`` (embeds twice).
    Questions per second; a hit (a near-duplicate already stored) skips the store on every side.
    """
    from gptcache.adapter import api
    from gptcache.adapter.adapter import adapt

    totals: dict[str, float] = {}
    for start in range(0, len(questions), 50):
        chunk = questions[start:start + 50]

        async def ours_flow(chunk: list[str] = chunk) -> None:
            for question in chunk:
                if await ours.lookup(GUILD, NS, question, model=Answer) is None:
                    await ours.store(GUILD, NS, question, Answer(text=f"answer to {question}"))

        def adapter_flow(chunk: list[str] = chunk) -> None:
            for question in chunk:
                adapt(lambda *_, question=question, **__: f"answer to {question}", api._cache_data_converter,
                      api._update_cache_callback, prompt=question, cache_obj=theirs[0])

        def get_put_flow(chunk: list[str] = chunk) -> None:
            for question in chunk:
                if api.get(question, cache_obj=theirs[1]) is None:
                    api.put(question, f"answer to {question}", cache_obj=theirs[1])

        await atime_into(totals, "ours", ours_flow)
        time_into(totals, "adapter", adapter_flow)
        time_into(totals, "get_put", get_put_flow)
    return {key: len(questions) / seconds for key, seconds in totals.items()}


async def interleaved_lookups(ours: SemanticCache, theirs: object, texts: list[str]) -> dict[str, list[float]]:
    from gptcache.adapter.api import get

    times: dict[str, list[float]] = {"ours": [], "theirs": []}
    for text in texts:
        times["ours"].append((await timed(lambda text=text: ours.lookup(GUILD, NS, text, model=Answer)))[0])
        started = time.perf_counter()
        get(text, cache_obj=theirs)
        times["theirs"].append(time.perf_counter() - started)
    return times


def lasting_temp_dir() -> Path:
    """A temp dir removed at exit *after* GPTCache's own atexit flush (atexit runs last-registered first)."""
    import atexit
    import shutil

    directory = Path(tempfile.mkdtemp(prefix="cache-bench-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    return directory


async def compare_with_gptcache(corpus: Corpus, model: SentenceTransformerEmbedder, gate: WorkerGate,
                                entries: int, queries: int) -> list[str]:
    questions = corpus.questions[:entries]
    reworded = [corpus.partners[number] for number in sorted(corpus.partners) if number < entries]
    query_sets = {"repeat": random.Random(11).sample(questions, min(queries, len(questions))),
                  "reworded": reworded[:queries]}
    directory = lasting_temp_dir()
    theirs = tuple(gptcache_instance(directory / f"g{number}", model, entries) for number in range(1, 5))
    async with OpenCache(directory / "o1", gate, model, capacity=entries * 4) as ours_one, \
            OpenCache(directory / "o2", gate, model, capacity=entries * 4) as ours_batch, \
            OpenCache(directory / "o3", gate, model, capacity=entries * 4) as ours_flow:
        stores = await interleaved_stores((ours_one, ours_batch), theirs[:2], questions)
        flows = await interleaved_flows(ours_flow, theirs[2:], questions)
        lookups = {kind: await interleaved_lookups(ours_one, theirs[0], texts) for kind, texts in query_sets.items()}
    lines = []
    for kind, times in lookups.items():
        for label, share in (("p50", 0.5), ("p99", 0.99)):
            mine, other = percentile(times["ours"], share), percentile(times["theirs"], share)
            lines.append(row(f"lookup {kind} {label} (ms)", ms(mine), ms(other), f"{mine / other:.2f}x"))
    for key, label in (("one", "store only, one by one (entries/s)"), ("batch", "store only, batch (entries/s)")):
        mine, other = stores[f"ours_{key}"], stores[f"theirs_{key}"]
        lines.append(row(label, f"{mine:.1f}", f"{other:.1f}", f"{mine / other:.2f}x"))
    for key, label in (("adapter", "new question: miss then store, vs GPTCache adapter (questions/s)"),
                       ("get_put", "new question: miss then store, vs GPTCache get then put (questions/s)")):
        lines.append(row(label, f"{flows['ours']:.1f}", f"{flows[key]:.1f}", f"{flows['ours'] / flows[key]:.2f}x"))
    lines.append(row("queries per lookup row", len(query_sets["repeat"]), len(query_sets["reworded"]), "(repeat, reworded)"))
    return lines


# --- 3. many guilds (child process) ----------------------------------------------------------

def directory_size(directory: Path) -> int:
    return sum(path.stat().st_size for path in directory.rglob("*") if path.is_file())


async def many_guilds(base_file: Path, guilds: int, per_guild: int, corpus: Corpus) -> None:
    vectors = np.load(base_file)
    model = SentenceTransformerEmbedder(default_embedding_model_path(), torch_threads=2)
    model.load()
    embedder = TableEmbedder(model, corpus.questions[: len(vectors)], vectors)
    base_count = len(vectors)
    with tempfile.TemporaryDirectory() as directory:
        async with WorkerGate(max_workers=2) as gate:
            await gate.run(faiss.omp_set_num_threads, 1)
            started = time.perf_counter()
            async with OpenCache(Path(directory), gate, embedder, max_loaded_guilds=64, capacity=per_guild) as cache:
                for guild_id in range(1, guilds + 1):
                    offset = guild_id * per_guild
                    await cache.store_many(guild_id, NS, [
                        StoreItem(query_text=f"variant {offset + number} of {(offset + number) % base_count}: "
                                  f"guild {guild_id} question {number}", value=Answer(text=f"answer {number}"))
                        for number in range(per_guild)
                    ])
            fill_seconds = time.perf_counter() - started
            async with OpenCache(Path(directory), gate, embedder, max_loaded_guilds=64, capacity=per_guild) as cache:
                loads = [(await timed(lambda guild_id=guild_id: cache.indexed_entry_ids(guild_id)))[0]
                         for guild_id in random.Random(5).sample(range(1, guilds + 1), min(guilds, 200))]
            disk = directory_size(Path(directory))
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({
        "fill_seconds": fill_seconds, "peak_rss_mib": peak_mib, "cold_p50_ms": statistics.median(loads) * 1000,
        "cold_p99_ms": percentile(loads, 0.99) * 1000, "disk_mib": disk / 2**20,
    }))


def run_many_guilds_child(args: argparse.Namespace, base_file: Path) -> list[str]:
    command = [sys.executable, __file__, "--child-guilds", str(base_file), "--guilds", str(args.guilds),
               "--per-guild", str(args.per_guild), "--data", str(args.data)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    result = json.loads(output)
    total = args.guilds * args.per_guild
    return [
        row(f"{args.guilds:,} x {args.per_guild:,} ({total:,} vectors)", f"{result['peak_rss_mib']:.0f}",
            f"{result['cold_p50_ms']:.1f}", f"{result['cold_p99_ms']:.1f}", f"{result['fill_seconds']:.0f}",
            f"{result['disk_mib']:.0f}"),
    ]


# --- main ------------------------------------------------------------------------------------

def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--base", type=int, default=3000, help="real questions embedded with the model")
    parser.add_argument("--gptcache-entries", type=int, default=1000)
    parser.add_argument("--guilds", type=int, default=1000)
    parser.add_argument("--per-guild", type=int, default=1000)
    parser.add_argument("--only", choices=("latency", "gptcache", "guilds"))
    parser.add_argument("--child-guilds", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args()


async def main(args: argparse.Namespace) -> None:
    corpus = load_corpus(args.data, count=args.base)
    if args.child_guilds:
        await many_guilds(args.child_guilds, args.guilds, args.per_guild, corpus)
        return
    model = SentenceTransformerEmbedder(default_embedding_model_path(), torch_threads=2)
    async with WorkerGate(max_workers=2) as gate:
        await gate.run(faiss.omp_set_num_threads, 1)
        await gate.run(model.load)
        started = time.perf_counter()
        vectors = await gate.run(model.embed, corpus.questions)
        print(f"embedded {len(corpus.questions):,} questions in {time.perf_counter() - started:.1f}s", file=sys.stderr)
        embedder = TableEmbedder(model, corpus.questions, vectors)
        print(f"machine: {os.cpu_count()} cores; faiss {faiss.__version__}; torch threads 2; gate workers 2\n")
        if args.only in (None, "latency"):
            print("## 1. Hit latency by index size (ms)\n")
            print(row("entries", "exact p50", "exact p99", "semantic p50", "semantic p99", "one embedding p50",
                      "semantic / embedding (p50s)", "semantic / embedding (median of pairs)",
                      "index search p50, 1 thread", f"index search p50, {os.cpu_count()} threads"))
            print(row(*["---"] * 10))
            sizes = [int(part) for part in args.sizes.split(",")]
            for size in sizes:
                print("\n".join(await latency_for_size(size, corpus, embedder, gate, args.queries)), flush=True)
            large = [size for size in sizes if size >= APPROXIMATE_FROM]
            if large:
                print(f"\n## 1b. Approximate (IVF) search against flat, same vectors, {2 * args.queries} real queries\n")
                print(row("entries", "IVF lists", "lists probed", "recall@5", "same top 1", "flat search p50 (ms)",
                          "IVF search p50 (ms)", "IVF build incl. training (s)"))
                print(row(*["---"] * 8))
                print("\n".join(await approximate_search_table(large, corpus, embedder, gate, args.queries)), flush=True)
        if args.only in (None, "gptcache"):
            print(f"\n## 2. Against GPTCache 0.1.44 ({args.gptcache_entries:,} entries, real embeddings)\n")
            print(row("measure", "ours", "GPTCache", "ours / GPTCache"))
            print(row("---", "---", "---", "---"))
            print("\n".join(await compare_with_gptcache(corpus, model, gate, args.gptcache_entries, args.queries)), flush=True)
    if args.only in (None, "guilds"):
        with tempfile.TemporaryDirectory() as directory:
            base_file = Path(directory) / "base.npy"
            np.save(base_file, vectors)
            print("\n## 3. Many guilds (max 64 indexes loaded)\n")
            print(row("guilds x entries", "peak RSS (MiB)", "cold load p50 (ms)", "cold load p99 (ms)", "fill (s)", "disk (MiB)"))
            print(row(*["---"] * 6))
            print("\n".join(run_many_guilds_child(args, base_file)), flush=True)


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
