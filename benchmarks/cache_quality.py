"""Cache hit quality: QQP evaluation split (fair and literal protocols), the hand-written sets, cost.

1. QQP evaluation split (``training/qqp_splits.py``: the first 10,000 pairs of the seed-4 shuffle,
   disjoint by question from everything the verifier was trained or calibrated on), cache-shaped:
   every ``a`` stored in one guild, every ``b`` looked up against its 5 nearest entries.  Scored
   fairly (a hit is right when the served text is the query or is linked to it by label-1 pairs
   anywhere in the file; recall over lookups with such an equivalent stored) and literally (right
   only when it is the lookup's own label-1 partner).  Rows side by side: cosine thresholds,
   GPTCache 0.1.44's default decision, the old rule decider, the trained verifier at each level.
2. The hand-written sets, ``tests/data/cache_pairs_fresh.jsonl`` (held out, never tuned on) and
   ``tests/data/cache_pairs.jsonl`` (the older set), each stored whole in one guild and every query
   looked up: wrong hits and paraphrase recall per kind, at each strictness level.  As in the
   product, the exact layer answers first: a query equal to a stored request after normalisation
   (case, punctuation, spacing) is a hit before any decider is asked.
3. Cost: a semantic hit (embed, search, verify) and a miss, next to one embedding, p50.

    .venv/bin/python benchmarks/cache_quality.py
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from benchmarks.baselines.rule_verifier import DEFAULT_THRESHOLD, VerifyingDecider
from core.cache.decision import Candidate
from core.cache.keys import normalise_query
from core.cache.learned import STRICTNESS_LEVELS, LearnedDecider
from core.embedder import Embedder, build_embedder
from core.inference.cross_encoder import CrossEncoder
from core.settings import Settings
from training.cache_protocol import Lookup, Score, build_lookups, score_decisions
from training.qqp_splits import load_splits

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
OWN_SETS = {"fresh (held out)": DATA / "cache_pairs_fresh.jsonl", "old": DATA / "cache_pairs.jsonl",
            "blind3 (held out, session 6)": DATA / "cache_pairs_blind3.jsonl"}
FLOOR = Settings.model_fields["cache_similarity_threshold"].default

Decide = Callable[[str, Sequence[Candidate]], Candidate | None]


def deciders(verifier: LearnedDecider) -> dict[str, Decide]:
    rules = VerifyingDecider()
    result: dict[str, Decide] = {
        f"cosine >= {t:.2f}": (lambda q, c, t=t: c[0] if c and c[0].similarity >= t else None)
        for t in (0.80, 0.85, 0.90, 0.95)
    }
    for level in STRICTNESS_LEVELS:
        result[f"old rules, {level}"] = lambda q, c, level=level: rules.decide(
            q, c, threshold=DEFAULT_THRESHOLD, strictness=level)
    for level in STRICTNESS_LEVELS:
        result[f"trained verifier, {level}"] = lambda q, c, level=level: verifier.decide(
            q, c, threshold=FLOOR, strictness=level).served
    return result


def gptcache_decision() -> Callable[[Lookup], Candidate | None] | None:
    """GPTCache 0.1.44's default: top_k=1 from its L2 faiss store, SearchDistanceEvaluation,
    ``similarity_threshold`` 0.8, the rank threshold computed as ``gptcache.adapter.adapt`` does."""
    try:
        from gptcache.config import Config
        from gptcache.similarity_evaluation.distance import SearchDistanceEvaluation
    except ImportError:
        print("(gptcache is not installed: pip install -e '.[bench]'; its row is left out)")
        return None
    evaluation = SearchDistanceEvaluation()
    min_rank, max_rank = evaluation.range()
    rank_threshold = min(max((max_rank - min_rank) * Config().similarity_threshold, min_rank), max_rank)

    def decide(lookup: Lookup) -> Candidate | None:
        nearest = lookup.l2_nearest
        rank = evaluation.evaluation({}, {"search_result": (nearest.similarity, nearest.entry_id)})
        return nearest if rank_threshold <= rank else None

    return decide


def qqp_rows(verifier: LearnedDecider, embedder: Embedder, cache_dir: Path) -> None:
    splits = load_splits()
    lookups = build_lookups(splits.eval, all_pairs=splits.all_pairs, cache_dir=cache_dir, embedder=embedder)
    print(f"\n## QQP evaluation split: {len(lookups)} lookups, {len({p.a for p in splits.eval})} stored, "
          f"{sum(lookup.has_equivalent for lookup in lookups)} with an equivalent stored, "
          f"{sum(p.label for p in splits.eval)} label-1; verifier cosine floor {FLOOR}")
    served: dict[str, list[Candidate | None]] = {
        name: [decide(lookup.pair.b, lookup.candidates) for lookup in lookups]
        for name, decide in deciders(verifier).items()
    }
    gptcache = gptcache_decision()
    if gptcache is not None:
        served["GPTCache 0.1.44 default"] = [gptcache(lookup) for lookup in lookups]
    for fair in (True, False):
        print(f"\n### {'fair' if fair else 'literal'} protocol")
        print_scores([score_decisions(name, lookups, hits, all_pairs=splits.all_pairs, fair=fair)
                      for name, hits in served.items()])


def print_scores(scores: Sequence[Score]) -> None:
    print(f"| {'decision':<28} | {'hits':>5} | {'correct':>7} | {'precision':>9} | {'recall':>6} | {'wrong/1k':>8} |")
    print(f"|{'-' * 30}|{'-' * 7}|{'-' * 9}|{'-' * 11}|{'-' * 8}|{'-' * 10}|")
    for s in scores:
        print(f"| {s.name:<28} | {s.hits:>5} | {s.correct:>7} | {s.precision:>9.3f} | {s.recall:>6.3f} "
              f"| {s.wrong_per_1000:>8.1f} |")


def read_pairs(path: Path) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [row for row in rows if "_comment" not in row]


def own_set_rows(verifier: LearnedDecider, embedder: Embedder, sets: dict[str, Path]) -> None:
    """Each set stored whole in one guild; every query looked up against its 5 nearest entries."""
    import faiss

    for title, path in sets.items():
        pairs = read_pairs(path)
        stored = sorted({pair["stored"] for pair in pairs})
        index = faiss.IndexFlatIP(384)
        index.add(embedder.embed(stored))
        similarities, ids = index.search(embedder.embed([pair["query"] for pair in pairs]), 5)
        same = {(pair["query"], pair["stored"]) for pair in pairs if pair["same_meaning"]}
        exact = {normalise_query(text): position for position, text in enumerate(stored)}
        print(f"\n## {title} set: {path.name}, {len(pairs)} pairs "
              f"({sum(not p['same_meaning'] for p in pairs)} near-misses, {sum(p['same_meaning'] for p in pairs)} "
              "paraphrases), all stored in one guild")
        print("| decision | wrong hits | paraphrases hit | wrong by kind | paraphrase recall by kind |")
        print("|---|---|---|---|---|")
        for name, decide in deciders(verifier).items():
            if name.startswith("cosine") and name != "cosine >= 0.90":
                continue
            wrong: dict[str, int] = {}
            hit: dict[str, list[int]] = {}
            for row, pair in enumerate(pairs):
                candidates = [Candidate(entry_id=int(j), text=stored[j], similarity=float(s))
                              for s, j in zip(similarities[row], ids[row], strict=True)]
                position = exact.get(normalise_query(pair["query"]))  # the cache's exact layer comes first
                served = Candidate(entry_id=position, text=stored[position], similarity=1.0) \
                    if position is not None else decide(pair["query"], candidates)
                right = served is not None and (pair["query"], served.text) in same
                if served is not None and not right:
                    wrong[pair["kind"]] = wrong.get(pair["kind"], 0) + 1
                if pair["same_meaning"]:
                    hit.setdefault(pair["kind"], [0, 0])[0] += int(right)
                    hit[pair["kind"]][1] += 1
            total_hit = sum(h for h, _ in hit.values())
            total_para = sum(n for _, n in hit.values())
            print(f"| {name} | {sum(wrong.values())} | {total_hit}/{total_para} ({total_hit / total_para:.0%}) | "
                  f"{', '.join(f'{k} {v}' for k, v in sorted(wrong.items())) or '-'} | "
                  f"{', '.join(f'{k} {h}/{n}' for k, (h, n) in sorted(hit.items()))} |")


def cost_rows(verifier: LearnedDecider, embedder: Embedder, *, samples: int = 300) -> None:
    """Semantic hit and miss, as the cache's gate job runs them, next to one embedding (p50)."""
    import faiss

    pairs = [pair for pair in read_pairs(OWN_SETS["old"]) + read_pairs(OWN_SETS["fresh (held out)"])]
    stored = sorted({pair["stored"] for pair in pairs})
    index = faiss.IndexFlatIP(384)
    index.add(embedder.embed(stored))
    queries = [pair["query"] for pair in pairs][:samples]

    def lookup(query: str) -> Candidate | None:
        vector = embedder.embed([query])
        similarities, ids = index.search(vector, 5)
        candidates = [Candidate(entry_id=int(j), text=stored[j], similarity=float(s))
                      for s, j in zip(similarities[0], ids[0], strict=True)]
        return verifier.decide(query, candidates, threshold=FLOOR).served

    embed_times, hit_times, miss_times = [], [], []
    for query in queries:
        started = time.perf_counter()
        embedder.embed([query])
        embed_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        served = lookup(query)
        (hit_times if served is not None else miss_times).append(time.perf_counter() - started)
    embedding = statistics.median(embed_times) * 1000
    print(f"\n## Cost ({len(queries)} lookups, {len(hit_times)} hits)")
    print("| step | p50 ms | x one embedding |\n|---|---|---|")
    print(f"| one embedding | {embedding:.2f} | 1.00 |")
    for name, times in (("semantic hit (embed + search + verify)", hit_times), ("miss (embed + search + verify)", miss_times)):
        if times:
            value = statistics.median(times) * 1000
            print(f"| {name} | {value:.2f} | {value / embedding:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "autointel-cache-quality")
    parser.add_argument("--verifier", type=Path, default=None, help="verifier folder (default: the shipped one)")
    parser.add_argument("--skip-qqp", action="store_true")
    parser.add_argument("--skip-cost", action="store_true")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=PATH",
                        help="a pair file to score instead of the two hand-written test sets (repeatable)")
    args = parser.parse_args()
    sets = dict(OWN_SETS)
    if args.set:
        sets = {name: Path(path) for name, _, path in (value.partition("=") for value in args.set)}
    settings = Settings(verifier_model=str(args.verifier or ""))
    verifier = LearnedDecider(CrossEncoder(settings.verifier_model_path, threads=settings.torch_threads))  # as the bot runs it
    verifier.warm_up()
    embedder = build_embedder(settings)  # the product's embedder (int8 ONNX MiniLM)
    print(f"verifier: {verifier.model.manifest.model_id}, thresholds {dict(verifier.model.manifest.thresholds)}")
    own_set_rows(verifier, embedder, sets)
    if not args.skip_cost:
        cost_rows(verifier, embedder)
    if not args.skip_qqp:
        qqp_rows(verifier, embedder, args.cache_dir)


if __name__ == "__main__":
    main()
