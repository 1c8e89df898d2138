"""The QQP splits the verifier is trained, calibrated and evaluated on, all disjoint by question.

``../shared/data/qqp_dev_pairs.jsonl.gz`` (60,000 labelled pairs) is shuffled with
``random.Random(4)`` (the seed the cache benchmarks have always used):

- ``eval``: the first 10,000 pairs (the same sample as the earlier cache-quality figures).  Never
  trained or calibrated on.
- ``calibrate``: the next 5,000 pairs, less every pair that shares a question with ``eval``.  The
  per-strictness thresholds are chosen here, cache-shaped, and nowhere else.
- ``train``: the remaining 45,000, less every pair that shares a question with ``eval`` or
  ``calibrate``.

QQP repeats questions across pairs, so "disjoint" is checked on normalised question text, not on
pair position.  Used by ``training/train_verifier.py`` and ``benchmarks/cache_quality.py``; never
imported by the bot.
"""

from __future__ import annotations

import gzip
import json
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "CALIBRATE_PAIRS",
    "DEFAULT_DATA",
    "EVAL_PAIRS",
    "SEED",
    "QqpPair",
    "QqpSplits",
    "equivalence_classes",
    "load_splits",
    "normalise_question",
]

SEED = 4
EVAL_PAIRS = 10_000
CALIBRATE_PAIRS = 5_000
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "qqp_dev_pairs.jsonl.gz"
_SPACE = re.compile(r"\s+")
_TRAILING = re.compile(r"[\s?.!]+$")


@dataclass(frozen=True, slots=True)
class QqpPair:
    a: str
    b: str
    label: int


@dataclass(frozen=True, slots=True)
class QqpSplits:
    train: list[QqpPair]
    calibrate: list[QqpPair]
    eval: list[QqpPair]
    all_pairs: list[QqpPair]


def normalise_question(text: str) -> str:
    """Casefolded, single-spaced, without trailing punctuation: the form "the same question" means."""
    return _TRAILING.sub("", _SPACE.sub(" ", text.strip().casefold()))


def _read(path: Path) -> list[QqpPair]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    return [QqpPair(a=row["a"], b=row["b"], label=int(row["label"])) for row in rows]


def _texts(pairs: Iterable[QqpPair]) -> set[str]:
    return {normalise_question(text) for pair in pairs for text in (pair.a, pair.b)}


def _without(pairs: Sequence[QqpPair], banned: set[str]) -> list[QqpPair]:
    return [
        pair for pair in pairs
        if normalise_question(pair.a) not in banned and normalise_question(pair.b) not in banned
    ]


def load_splits(path: Path = DEFAULT_DATA) -> QqpSplits:
    pairs = _read(path)
    order = list(range(len(pairs)))
    random.Random(SEED).shuffle(order)
    shuffled = [pairs[index] for index in order]
    evaluation = shuffled[:EVAL_PAIRS]
    eval_texts = _texts(evaluation)
    calibrate = _without(shuffled[EVAL_PAIRS : EVAL_PAIRS + CALIBRATE_PAIRS], eval_texts)
    train = _without(shuffled[EVAL_PAIRS + CALIBRATE_PAIRS :], eval_texts | _texts(calibrate))
    return QqpSplits(train=train, calibrate=calibrate, eval=evaluation, all_pairs=pairs)


def equivalence_classes(pairs: Iterable[QqpPair]) -> dict[str, str]:
    """Map each normalised question to a representative of its class of label-1-linked questions."""
    parent: dict[str, str] = {}

    def find(text: str) -> str:
        parent.setdefault(text, text)
        while parent[text] != text:
            parent[text] = parent[parent[text]]
            text = parent[text]
        return text

    for pair in pairs:
        a, b = normalise_question(pair.a), normalise_question(pair.b)
        root_a, root_b = find(a), find(b)
        if pair.label == 1 and root_a != root_b:
            parent[root_a] = root_b
    return {text: find(text) for text in list(parent)}
