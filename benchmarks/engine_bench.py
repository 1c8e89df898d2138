"""The local engine and its embedder on both inference backends, side by side in one run.

Run: ``.venv/bin/python benchmarks/engine_bench.py`` (``make bench``).  Options: ``--repeat N``
(default 3, the median is reported), ``--words 1000,5000,20000``, ``--depth standard``,
``--backends torch,onnx``.

Each backend runs in its own child process (so that its peak RSS is its own), one after the
other: ``torch`` is all-MiniLM-L6-v2 in fp32 on PyTorch through sentence-transformers (the engine
before issue 14), ``onnx`` the same model exported to int8 and run on ONNX Runtime (the default
now).  For each: one short sentence embedded alone (p50 of 300), batch throughput (512 sentences
in batches of 64), then the engine sizes below.

The texts are generated, seeded, from eight topic vocabularies (subjects, verbs, objects) and
fourteen sentence templates (statistics, forecasts, causes, contrasts, quotes, plain statements),
with places, people, numbers and years drawn at random and an optional trailing clause from five
more: about 99 % of the sentences are distinct, averaging 19 words, in Markdown paragraphs of five
to nine sentences with a heading before about a third of them.

The model is loaded and warmed up before timing.  For each size, each repeat times the model
alone on the text's sentences ("model s": the same 512-sentence batches the engine sends) and
then the whole ``LocalEngine.analyse`` (segmenting, embedding, clustering, extraction; "engine
s", median wall time, and "cpu s", process CPU time over all threads), alternately, so the
``engine/model`` ratio compares runs that saw the same machine load.  The load average is printed
because the machine is shared.  Peak RSS is the process's high-water mark (``resource``) after
each size, so it is cumulative: the 20,000-word row is the peak of the whole run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from core.embedder import Embedder, SentenceTransformerEmbedder, build_embedder
from core.engine.local import EMBED_BATCH_SENTENCES, LocalEngine
from core.engine.text import segment_sources
from core.gate import WorkerGate
from core.models import SourceDocument
from core.settings import Depth, Settings, default_embedding_model_path

_TOPICS = {
    "solar power": (
        ["solar farms", "rooftop panels", "module makers", "solar installers", "utility-scale plants"],
        ["cut", "expanded", "doubled", "reported", "connected"],
        ["generation capacity", "panel prices", "installation costs", "grid connections", "output"],
    ),
    "public health": (
        ["hospitals", "vaccination programmes", "clinics", "health ministries", "nurses"],
        ["treated", "vaccinated", "screened", "reported", "funded"],
        ["patients", "waiting lists", "infection rates", "clinic visits", "hospital admissions"],
    ),
    "housing": (
        ["first-time buyers", "landlords", "city councils", "builders", "mortgage lenders"],
        ["paid", "approved", "built", "raised", "delayed"],
        ["rents", "house prices", "building permits", "mortgage rates", "new homes"],
    ),
    "farming": (
        ["wheat farmers", "dairy farms", "growers", "agricultural cooperatives", "orchards"],
        ["harvested", "planted", "irrigated", "sold", "exported"],
        ["crop yields", "grain exports", "fertiliser use", "milk output", "harvests"],
    ),
    "semiconductors": (
        ["chipmakers", "foundries", "fabrication plants", "chip designers", "equipment suppliers"],
        ["shipped", "produced", "designed", "invested in", "expanded"],
        ["wafer output", "chip orders", "memory prices", "factory capacity", "transistor density"],
    ),
    "ocean science": (
        ["marine biologists", "research vessels", "coral reefs", "fishing fleets", "ocean buoys"],
        ["measured", "mapped", "recorded", "sampled", "monitored"],
        ["sea temperatures", "fish stocks", "plankton blooms", "reef cover", "ocean acidity"],
    ),
    "urban transport": (
        ["bus operators", "cycling lanes", "metro lines", "commuters", "city planners"],
        ["carried", "extended", "opened", "priced", "redesigned"],
        ["ridership", "fares", "journey times", "bike trips", "traffic delays"],
    ),
    "online retail": (
        ["online shops", "delivery firms", "marketplaces", "warehouses", "shoppers"],
        ["shipped", "sold", "returned", "ordered", "discounted"],
        ["parcel volumes", "basket sizes", "return rates", "delivery times", "online sales"],
    ),
}
_PLACES = ["Kenya", "Brazil", "Germany", "India", "Canada", "Japan", "Spain", "Mexico", "Norway", "Chile"]
_PEOPLE = ["Dr. Amara Okafor", "Prof. Lena Novak", "Carlos Mendes", "Dr. Wei Zhang", "Sofia Rossi"]
_MONTHS = ["January", "March", "May", "July", "September", "November"]
_CLAUSES = [
    ", according to a survey of {firms} firms published in {month}.",
    ", a figure that surprised few observers in {place}.",
    ", and regional officials say the effect could last for several more seasons.",
    ", which the industry association highlighted in its {month} briefing to investors.",
    ", although the data from smaller towns remain patchy and incomplete.",
]
_TEMPLATES = [
    "In {year}, {subject} in {place} {verb} {object} by {pct}%.",
    "{Subject} {verb} {object} by {pct}% between {year} and {year2}.",
    "{Subject} will probably raise {object} by {pct}% by {future}, analysts expect.",
    "Because {object} kept rising, {subject} in {place} {verb} fewer contracts.",
    "Higher {object} led to a sharp change in how {subject} plan their year.",
    "However, {subject} in {place} saw {object} fall, whereas their neighbours did not.",
    "{Person} said that {subject} had never {verb} so much {object} before.",
    "{Subject} spent ${money} million on {object} last year.",
    "Every year, {subject} watch {object} closely before the season starts.",
    "For the first time, {subject} in {place} {verb} more {object} than they did in {year}.",
    "Unexpectedly, {object} in {place} moved against the long-term trend.",
    "As {object} rose, {subject} adjusted their budgets and hiring plans.",
    "Most {subject} describe {object} as the main concern of the coming decade.",
    "Reports from {place} suggest that {subject} now depend on {object} more than ever.",
]


def generate_article(words: int, *, seed: int = 7) -> str:
    """A Markdown article of about ``words`` words from the topic vocabularies and templates."""
    rng = random.Random(seed)
    topics = list(_TOPICS)
    parts: list[str] = []
    count = 0
    while count < words:
        topic = rng.choice(topics)
        if rng.random() < 0.3:
            parts.append(f"## {topic.title()}")
        paragraph = " ".join(_sentence(rng, topic) for _ in range(rng.randint(5, 9)))
        parts.append(paragraph)
        count += len(paragraph.split())
    return "\n\n".join(parts)


def _sentence(rng: random.Random, topic: str) -> str:
    subjects, verbs, objects = _TOPICS[topic]
    subject, obj = rng.choice(subjects), rng.choice(objects)
    year = rng.randint(2005, 2023)
    text = rng.choice(_TEMPLATES).format(
        subject=subject, Subject=subject[0].upper() + subject[1:], verb=rng.choice(verbs), object=obj,
        place=rng.choice(_PLACES), Person=rng.choice(_PEOPLE), pct=rng.choice([3, 5, 8, 12, 17, 24, 31, 46]),
        year=year, year2=year + rng.randint(1, 6), future=rng.choice([2030, 2035, 2040]),
        money=rng.randint(2, 900),
    )
    if rng.random() < 0.6:
        text = text[:-1] + rng.choice(_CLAUSES).format(
            firms=rng.randint(40, 900), month=rng.choice(_MONTHS), place=rng.choice(_PLACES)
        )
    return text


def _peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / (1024 * 1024)


class _Timing:
    """Wall and process CPU seconds of one block (CPU counts every thread of this process)."""

    def __enter__(self) -> _Timing:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.wall = time.perf_counter() - self._wall
        self.cpu = time.process_time() - self._cpu


def _embed_only(embedder: Embedder, texts: list[str]) -> None:
    for start in range(0, len(texts), EMBED_BATCH_SENTENCES):
        embedder.embed(texts[start : start + EMBED_BATCH_SENTENCES])


async def _time_size(
    engine: LocalEngine, embedder: Embedder, *, words: int, depth: Depth, repeat: int
) -> dict[str, float]:
    """Engine and model-only runs alternated, so both see the same machine load."""
    text = generate_article(words)
    document = SourceDocument(text=text, title=f"{words} words")
    texts = [sentence.clean for sentence in segment_sources([text])]
    engine_runs: list[_Timing] = []
    model_runs: list[_Timing] = []
    for _ in range(repeat):
        with _Timing() as model_run:
            _embed_only(embedder, texts)
        with _Timing() as engine_run:
            await engine.analyse([document], depth=depth)
        model_runs.append(model_run)
        engine_runs.append(engine_run)
    engine_wall = statistics.median(run.wall for run in engine_runs)
    model_wall = statistics.median(run.wall for run in model_runs)
    return {
        "words": float(len(text.split())),
        "sentences": float(len(texts)),
        "engine_s": engine_wall,
        "engine_min_s": min(run.wall for run in engine_runs),
        "engine_cpu_s": statistics.median(run.cpu for run in engine_runs),
        "model_s": model_wall,
        "ratio": engine_wall / model_wall,
        "peak_rss_mib": _peak_rss_mib(),
    }


def _embedder(backend: str) -> Embedder:
    if backend == "torch":
        return SentenceTransformerEmbedder(default_embedding_model_path(), batch_size=64, torch_threads=2)
    return build_embedder(Settings(_env_file=None, torch_threads=2))  # type: ignore[call-arg]


def _embedding_timings(embedder: Embedder) -> dict[str, float]:
    sentences = [sentence.clean for sentence in segment_sources([generate_article(12_000, seed=3)])][:512]
    short = "How do rising interest rates affect house prices?"
    for _ in range(20):
        embedder.embed([short])
    durations = []
    for _ in range(300):
        started = time.perf_counter()
        embedder.embed([short])
        durations.append(time.perf_counter() - started)
    started = time.perf_counter()
    for start in range(0, len(sentences), 64):
        embedder.embed(sentences[start : start + 64])
    return {"one_ms": statistics.median(durations) * 1000,
            "batch_per_s": len(sentences) / (time.perf_counter() - started)}


async def _run(sizes: Sequence[int], *, depth: Depth, repeat: int, backend: str) -> list[dict[str, float]]:
    import faiss

    faiss.omp_set_num_threads(1)
    embedder = _embedder(backend)
    embedder.embed(["load the model"])
    timings = _embedding_timings(embedder)
    async with WorkerGate(max_workers=2) as gate:
        engine = LocalEngine(embedder=embedder, gate=gate)
        await engine.analyse([SourceDocument(text=generate_article(300, seed=1))], depth="standard")
        return [
            {**await _time_size(engine, embedder, words=words, depth=depth, repeat=repeat), **timings}
            for words in sizes
        ]


def _child(args: argparse.Namespace, backend: str) -> list[dict[str, float]]:
    """Run one backend in a child process; its rows come back as JSON on stdout."""
    import json
    import subprocess

    command = [sys.executable, __file__, "--child", backend, "--words", args.words, "--depth", args.depth,
               "--repeat", str(args.repeat)]
    completed = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", default="1000,5000,20000")
    parser.add_argument("--depth", default="standard", choices=["quick", "standard", "deep"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--backends", default="torch,onnx")
    parser.add_argument("--child", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = [int(size) for size in args.words.split(",")]
    if args.child:
        import json

        print(json.dumps(asyncio.run(_run(sizes, depth=args.depth, repeat=args.repeat, backend=args.child))))
        return
    load_before = os.getloadavg()[0]
    results = {backend: _child(args, backend) for backend in args.backends.split(",")}
    print(f"local engine, depth={args.depth}, median of {args.repeat}, cpus={os.cpu_count()}, "
          f"load average {load_before:.1f} before / {os.getloadavg()[0]:.1f} after")
    print(f"{'backend':>7} {'1 sentence ms':>13} {'batch sent/s':>12} {'words':>7} {'engine s':>9} {'min s':>6} "
          f"{'cpu s':>6} {'model s':>8} {'peak RSS MiB':>12}")
    for backend, rows in results.items():
        for row in rows:
            print(f"{backend:>7} {row['one_ms']:>13.2f} {row['batch_per_s']:>12.0f} {row['words']:>7.0f} "
                  f"{row['engine_s']:>9.2f} {row['engine_min_s']:>6.2f} {row['engine_cpu_s']:>6.2f} "
                  f"{row['model_s']:>8.2f} {row['peak_rss_mib']:>12.0f}")
    if {"torch", "onnx"} <= results.keys():
        old, new = results["torch"][0], results["onnx"][0]
        print(f"one sentence: onnx {new['one_ms']:.2f} ms vs torch {old['one_ms']:.2f} ms "
              f"({old['one_ms'] / new['one_ms']:.1f}x); batch {new['batch_per_s'] / old['batch_per_s']:.1f}x")
    five = next((row for row in results.get("onnx", []) if 4_000 <= row["words"] <= 6_000), None)
    if five is not None:
        verdict = "met" if five["engine_s"] <= 0.7 else f"missed by {five['engine_s'] - 0.7:.2f} s"
        print(f"target 5,000 words <= 0.7 s on onnx (median wall): {verdict}")


if __name__ == "__main__":
    main()
