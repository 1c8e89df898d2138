"""The cache-shaped QQP protocol shared by calibration and the benchmark.

Store every ``a`` of a split in one guild (identical texts are one entry, as in the cache), look up
every ``b``: its nearest stored entries by cosine (the packaged MiniLM, FAISS inner product) are the
candidates a decider sees.

Two ways to score a hit:

- **fair**: correct when the served text equals the query after normalisation, or is linked to it by
  label-1 pairs anywhere in the 60,000-pair file (QQP repeats questions across pairs, so the
  question stored from another pair may be exactly the right answer).  Recall is over the lookups
  that have such an equivalent stored.
- **literal**: correct only when the served text is the ``a`` of the lookup's own pair and that pair
  is labelled 1.  Recall is over label-1 lookups.
"""

from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.cache.decision import Candidate
from core.embedder import Embedder
from training.qqp_splits import QqpPair, equivalence_classes, normalise_question

__all__ = ["Lookup", "Score", "build_lookups", "embed_cached", "score_decisions"]

NEIGHBOURS = 5


@dataclass(frozen=True, slots=True)
class Lookup:
    pair: QqpPair
    candidates: list[Candidate]
    l2_nearest: Candidate
    has_equivalent: bool


@dataclass(frozen=True, slots=True)
class Score:
    name: str
    hits: int
    correct: int
    precision: float
    recall: float
    wrong_per_1000: float


def embed_cached(texts: Sequence[str], *, cache_dir: Path, embedder: Embedder) -> np.ndarray:
    digest = hashlib.sha256("\n".join([embedder.name, *texts]).encode()).hexdigest()[:16]
    path = cache_dir / f"vectors-{digest}.npy"
    if path.exists():
        return np.load(path)
    started = time.perf_counter()
    vectors = embedder.embed(list(texts))
    print(f"embedded {len(texts)} texts in {time.perf_counter() - started:.0f}s")
    cache_dir.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


@functools.lru_cache(maxsize=200_000)
def _normalised(text: str) -> str:
    return normalise_question(text)


def build_lookups(
    pairs: Sequence[QqpPair], *, all_pairs: Sequence[QqpPair], cache_dir: Path, embedder: Embedder
) -> list[Lookup]:
    import faiss

    stored = sorted({pair.a for pair in pairs})
    texts = sorted(set(stored) | {pair.b for pair in pairs})
    vectors = embed_cached(texts, cache_dir=cache_dir, embedder=embedder)
    position = {text: index for index, text in enumerate(texts)}
    stored_vectors = vectors[[position[text] for text in stored]]
    query_vectors = vectors[[position[pair.b] for pair in pairs]]
    inner = faiss.IndexFlatIP(stored_vectors.shape[1])
    inner.add(stored_vectors)
    similarities, ids = inner.search(query_vectors, NEIGHBOURS)
    l2 = faiss.IndexFlatL2(stored_vectors.shape[1])  # what GPTCache's faiss store uses, top_k=1
    l2.add(stored_vectors)
    distances, l2_ids = l2.search(query_vectors, 1)
    classes = _classes_of(all_pairs)
    stored_classes = {classes.get(normalise_question(text), normalise_question(text)) for text in stored}
    lookups = []
    for row, pair in enumerate(pairs):
        query_class = classes.get(normalise_question(pair.b), normalise_question(pair.b))
        lookups.append(Lookup(
            pair=pair,
            candidates=[Candidate(entry_id=int(j), text=stored[j], similarity=float(s))
                        for s, j in zip(similarities[row], ids[row], strict=True)],
            l2_nearest=Candidate(entry_id=int(l2_ids[row][0]), text=stored[l2_ids[row][0]],
                                 similarity=float(distances[row][0])),
            has_equivalent=query_class in stored_classes,
        ))
    return lookups


_CLASSES: dict[int, dict[str, str]] = {}


def _classes_of(all_pairs: Sequence[QqpPair]) -> dict[str, str]:
    """``equivalence_classes`` of one pair list, computed once per list."""
    key = id(all_pairs)
    if key not in _CLASSES:
        _CLASSES[key] = equivalence_classes(all_pairs)
    return _CLASSES[key]


def score_decisions(
    name: str, lookups: Sequence[Lookup], served: Sequence[Candidate | None], *, all_pairs: Sequence[QqpPair],
    fair: bool = True,
) -> Score:
    classes = _classes_of(all_pairs) if fair else {}
    hits = correct = 0
    for lookup, candidate in zip(lookups, served, strict=True):
        if candidate is None:
            continue
        hits += 1
        if fair:
            query, text = _normalised(lookup.pair.b), _normalised(candidate.text)
            correct += int(text == query or classes.get(text, text) == classes.get(query, query))
        else:
            correct += int(candidate.text == lookup.pair.a and lookup.pair.label == 1)
    denominator = sum(lookup.has_equivalent for lookup in lookups) if fair else sum(
        lookup.pair.label for lookup in lookups)
    return Score(
        name=name, hits=hits, correct=correct, precision=correct / hits if hits else 0.0,
        recall=correct / denominator if denominator else 0.0, wrong_per_1000=(hits - correct) * 1000 / len(lookups),
    )
