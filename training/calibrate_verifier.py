"""Choose the verifier's per-strictness thresholds on the QQP calibration split, cache-shaped.

    .venv/bin/python training/calibrate_verifier.py --model models/hit-verifier

Runs the product's decision path (:class:`core.cache.learned.LearnedDecider`: cosine floor, number
veto, the top candidates scored in one batch) on every lookup of the calibration split
(``training/qqp_splits.py``), scores hits fairly (``training/cache_protocol.py``) and writes into
the model's ``verifier.json``:

- each level's threshold: the lowest probability at which fair precision on this split reaches the
  level's target (strict 0.93, balanced 0.90, lenient 0.85), raised for ``balanced`` and ``strict``
  until the team's older hand-written set (``tests/data/cache_pairs.jsonl``, stored whole,
  cache-shaped) gets no wrong hit;
- ``judge_floor``: the lowest probability at which precision still reaches 0.70, so the LLM judge
  is asked only about candidates that are right more often than not.

Why not 0.95: on QQP a good share of the "wrong" hits at the top of the model's confidence are true
paraphrases whose questions the file never links (``What is the meaning of life?`` / ``What's the
meaning of life?``); with this model, precision 0.95 on the calibration split is reached only at
recall 0.002 (measured), which would make the cache useless.  See docs/verifier_model_card.md.

The QQP evaluation split and the fresh hand-written set (``tests/data/cache_pairs_fresh.jsonl``)
are never read here.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np

from core.cache.decision import Candidate
from core.cache.learned import LearnedDecider
from core.embedder import Embedder, build_embedder
from core.inference.cross_encoder import CrossEncoder
from core.settings import Settings
from training.cache_protocol import build_lookups, score_decisions
from training.qqp_splits import load_splits

TARGETS = {"strict": 0.93, "balanced": 0.90, "lenient": 0.85}
JUDGE_PRECISION = 0.70
OLD_SET = Path(__file__).resolve().parents[1] / "tests" / "data" / "cache_pairs.jsonl"


def best_scores(decider: LearnedDecider, lookups: list, *, floor: float) -> tuple[list, np.ndarray]:
    """For each lookup: the best eligible candidate and its probability (0 when none)."""
    best, probabilities = [], []
    for lookup in lookups:
        eligible = decider.eligible(lookup.pair.b, lookup.candidates, floor=floor, excluded=())
        if not eligible:
            best.append(None)
            probabilities.append(0.0)
            continue
        scores = decider.model.probabilities(lookup.pair.b, [candidate.text for candidate in eligible])
        index = int(scores.argmax())
        best.append(eligible[index])
        probabilities.append(float(scores[index]))
    return best, np.array(probabilities)


def lowest_threshold(best: list, probabilities: np.ndarray, lookups: list, all_pairs: list, target: float) -> float:
    """The lowest cut whose fair precision on these lookups reaches ``target``."""
    for cut in np.round(np.arange(0.30, 0.999, 0.005), 3):
        served = [candidate if probability >= cut else None for candidate, probability in zip(best, probabilities, strict=True)]
        score = score_decisions("cut", lookups, served, all_pairs=all_pairs)
        if score.hits and score.precision >= target:
            return float(cut)
    return 0.999


def old_set_wrong_hits(decider: LearnedDecider, embedder: Embedder, *, floor: float) -> list:
    """For each query of the old set: (probability of its best eligible candidate, served would be wrong)."""
    import faiss

    rows = [json.loads(line) for line in OLD_SET.read_text().splitlines() if line.strip()]
    stored = sorted({row["stored"] for row in rows})
    right = {(row["query"], row["stored"]) for row in rows if row["same_meaning"]}
    index = faiss.IndexFlatIP(384)
    index.add(embedder.embed(stored))
    similarities, ids = index.search(embedder.embed([row["query"] for row in rows]), 5)
    outcomes = []
    for position, row in enumerate(rows):
        candidates = [Candidate(entry_id=int(j), text=stored[j], similarity=float(value))
                      for value, j in zip(similarities[position], ids[position], strict=True)]
        eligible = decider.eligible(row["query"], candidates, floor=floor, excluded=())
        if eligible:
            scores = decider.model.probabilities(row["query"], [candidate.text for candidate in eligible])
            best = int(scores.argmax())
            outcomes.append((float(scores[best]), (row["query"], eligible[best].text) not in right))
    return outcomes


def clear_of_old_set(threshold: float, outcomes: list) -> float:
    """The threshold raised (in 0.005 steps) until no wrong old-set hit is served."""
    wrong = [probability for probability, is_wrong in outcomes if is_wrong and probability >= threshold]
    return threshold if not wrong else min(0.999, float(np.ceil((max(wrong) + 1e-6) * 200) / 200))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=Path("models/hit-verifier"))
    parser.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "autointel-cache-quality")
    args = parser.parse_args()
    floor = Settings.model_fields["cache_similarity_threshold"].default
    splits = load_splits()
    embedder = build_embedder(Settings(_env_file=None))  # type: ignore[call-arg]  # the product's embedder
    lookups = build_lookups(splits.calibrate, all_pairs=splits.all_pairs, cache_dir=args.cache_dir,
                            embedder=embedder)
    decider = LearnedDecider(CrossEncoder(args.model, threads=2))
    best, probabilities = best_scores(decider, lookups, floor=floor)
    thresholds = {level: lowest_threshold(best, probabilities, lookups, splits.all_pairs, target)
                  for level, target in TARGETS.items()}
    old_outcomes = old_set_wrong_hits(decider, embedder, floor=floor)
    for level in ("balanced", "strict"):
        thresholds[level] = clear_of_old_set(thresholds[level], old_outcomes)
    thresholds["strict"] = max(thresholds["strict"], thresholds["balanced"])
    judge_floor = lowest_threshold(best, probabilities, lookups, splits.all_pairs, JUDGE_PRECISION)
    print(f"calibration split: {len(lookups)} lookups, cosine floor {floor}")
    for level, cut in thresholds.items():
        served = [c if p >= cut else None for c, p in zip(best, probabilities, strict=True)]
        score = score_decisions(level, lookups, served, all_pairs=splits.all_pairs)
        print(f"  {level:<9} threshold {cut:.3f}: precision {score.precision:.3f} recall {score.recall:.3f}")
    print(f"  judge floor {judge_floor:.3f}")
    manifest_path = args.model / "verifier.json"
    manifest = json.loads(manifest_path.read_text())
    manifest.update({"thresholds": thresholds, "judge_floor": min(judge_floor, thresholds["lenient"]),
                     "calibration": {"split": "QQP calibrate (training/qqp_splits.py)", "lookups": len(lookups),
                                     "cosine_floor": floor, "targets": TARGETS}})
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"wrote thresholds to {manifest_path}")


if __name__ == "__main__":
    main()
