"""Choose the verifier's per-strictness thresholds on the QQP calibration split, cache-shaped.

    .venv/bin/python training/calibrate_verifier.py --model models/hit-verifier

Runs the product's decision path (:class:`core.cache.learned.LearnedDecider`: cosine floor, number
veto, the top candidates scored in one batch) on every lookup of the calibration split
(``training/qqp_splits.py``), scores hits fairly (``training/cache_protocol.py``) and writes into
the model's ``verifier.json``:

- each level's threshold: the lowest probability at which precision on this split reaches the
  level's target (strict 0.985, balanced 0.97, lenient 0.93);
- ``judge_floor``: the lowest probability at which precision still reaches 0.75, so the LLM judge
  is asked only about candidates that are right more often than not.

Targets sit above the product's 0.95 so that the drop from a calibration split to unseen pairs
leaves a margin.  The evaluation split and the hand-written sets are never read here.
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

from core.inference.cross_encoder import CrossEncoder
from core.cache.learned import LearnedDecider
from core.embedder import SentenceTransformerEmbedder
from core.settings import Settings, default_embedding_model_path
from training.cache_protocol import build_lookups, score_decisions
from training.qqp_splits import load_splits

TARGETS = {"strict": 0.985, "balanced": 0.97, "lenient": 0.93}
JUDGE_PRECISION = 0.75


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=Path("models/hit-verifier"))
    parser.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "autointel-cache-quality")
    args = parser.parse_args()
    floor = Settings.model_fields["cache_similarity_threshold"].default
    splits = load_splits()
    embedder = SentenceTransformerEmbedder(default_embedding_model_path(), batch_size=128, torch_threads=2)
    lookups = build_lookups(splits.calibrate, all_pairs=splits.all_pairs, cache_dir=args.cache_dir,
                            embed=embedder.embed)
    decider = LearnedDecider(CrossEncoder(args.model, threads=2))
    best, probabilities = best_scores(decider, lookups, floor=floor)
    thresholds = {level: lowest_threshold(best, probabilities, lookups, splits.all_pairs, target)
                  for level, target in TARGETS.items()}
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
