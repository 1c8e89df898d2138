"""Choose the verifier's per-strictness thresholds on the QQP calibration split, cache-shaped.

    .venv/bin/python training/calibrate_verifier.py --model models/hit-verifier

Runs the product's decision path (:class:`core.cache.learned.LearnedDecider`: cosine floor, number
veto, the top candidates scored in one batch) on every lookup of the calibration split
(``training/qqp_splits.py``), scores hits fairly (``training/cache_protocol.py``) and writes into
the model's ``verifier.json``:

- each level's threshold: the lowest probability at which fair precision on this split reaches the
  level's target (0.85 lenient, 0.88 balanced, 0.90 strict), raised for ``balanced`` until at most one
  of the 180 near-misses of the hand-written dev set (``training/data/cache_pairs_dev.jsonl``, 300
  request pairs written for calibration only, stored whole, cache-shaped) is served, and for
  ``strict`` until none is;
- ``judge_floor``: the lowest probability at which precision still reaches 0.70, so the LLM judge
  is asked only about candidates that are right more often than not.

The QQP evaluation split and both hand-written evaluation sets (``tests/data/cache_pairs_fresh.jsonl``,
``tests/data/cache_pairs.jsonl``) are never read here.
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

TARGETS = {"strict": 0.90, "balanced": 0.88, "lenient": 0.85}
DEV_WRONG_ALLOWED = {"strict": 0, "balanced": 1}  # of the dev set's 180 near-misses
JUDGE_PRECISION = 0.70
# Candidate thresholds: 0.005 apart, 0.0005 apart above 0.99 where a confident model's scores crowd.
CUTS = np.round(np.concatenate([np.arange(0.30, 0.99, 0.005), np.arange(0.99, 0.9995, 0.0005)]), 4)
DEV_SET = Path(__file__).resolve().parent / "data" / "cache_pairs_dev.jsonl"


def best_scores(decider: LearnedDecider, lookups: list, *, floor: float) -> tuple[list, np.ndarray]:
    """For each lookup: the best eligible candidate and its probability (0 when none)."""
    best, probabilities = [], []
    for lookup in lookups:
        eligible = decider.eligible(lookup.pair.b, lookup.candidates, floor=floor, excluded=())
        if not eligible:
            best.append(None)
            probabilities.append(0.0)
            continue
        scores = decider.probabilities(lookup.pair.b, [candidate.text for candidate in eligible])
        index = int(scores.argmax())
        best.append(eligible[index])
        probabilities.append(float(scores[index]))
    return best, np.array(probabilities)


def lowest_threshold(best: list, probabilities: np.ndarray, lookups: list, all_pairs: list, target: float) -> float:
    """The lowest cut whose fair precision on these lookups reaches ``target``."""
    for cut in CUTS:
        served = [candidate if probability >= cut else None for candidate, probability in zip(best, probabilities, strict=True)]
        score = score_decisions("cut", lookups, served, all_pairs=all_pairs)
        if score.hits and score.precision >= target:
            return float(cut)
    return 0.999


def dev_set_outcomes(decider: LearnedDecider, embedder: Embedder, *, floor: float) -> list:
    """For each query of the dev set: (probability of its best eligible candidate, served would be wrong)."""
    import faiss

    rows = _dev_rows()
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
            scores = decider.probabilities(row["query"], [candidate.text for candidate in eligible])
            best = int(scores.argmax())
            outcomes.append((float(scores[best]), (row["query"], eligible[best].text) not in right))
    return outcomes


def _dev_rows() -> list[dict]:
    return [row for row in map(json.loads, DEV_SET.read_text().splitlines()) if "query" in row]


def clear_of_dev_set(threshold: float, outcomes: list, *, allowed: int) -> float:
    """The threshold raised to the lowest cut at which at most ``allowed`` wrong dev-set hits are served."""
    wrong = sorted((probability for probability, is_wrong in outcomes if is_wrong), reverse=True)
    if len(wrong) <= allowed or wrong[allowed] < threshold:
        return threshold
    return float(next((cut for cut in CUTS if cut > wrong[allowed]), 0.9995))


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
    dev_outcomes = dev_set_outcomes(decider, embedder, floor=floor)
    for level, allowed in DEV_WRONG_ALLOWED.items():
        thresholds[level] = clear_of_dev_set(thresholds[level], dev_outcomes, allowed=allowed)
    thresholds["strict"] = max(thresholds["strict"], thresholds["balanced"])
    judge_floor = lowest_threshold(best, probabilities, lookups, splits.all_pairs, JUDGE_PRECISION)
    print(f"calibration split: {len(lookups)} lookups, cosine floor {floor}")
    for level, cut in thresholds.items():
        served = [c if p >= cut else None for c, p in zip(best, probabilities, strict=True)]
        score = score_decisions(level, lookups, served, all_pairs=splits.all_pairs)
        print(f"  {level:<9} threshold {cut:.3f}: precision {score.precision:.3f} recall {score.recall:.3f}")
    print(f"  judge floor {judge_floor:.3f}")
    paraphrases = sum(1 for row in _dev_rows() if row["same_meaning"])
    for level, cut in thresholds.items():
        wrong = sum(1 for probability, is_wrong in dev_outcomes if is_wrong and probability >= cut)
        right = sum(1 for probability, is_wrong in dev_outcomes if not is_wrong and probability >= cut)
        print(f"  dev set at {level}: {wrong} wrong hits, {right}/{paraphrases} paraphrases hit")
    manifest_path = args.model / "verifier.json"
    manifest = json.loads(manifest_path.read_text())
    manifest.update({"thresholds": thresholds, "judge_floor": min(judge_floor, thresholds["lenient"]),
                     "calibration": {"split": "QQP calibrate (training/qqp_splits.py)", "lookups": len(lookups),
                                     "cosine_floor": floor, "targets": TARGETS}})
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"wrote thresholds to {manifest_path}")


if __name__ == "__main__":
    main()
