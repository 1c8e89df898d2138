"""Diverse selection and insight wording."""

from __future__ import annotations

import numpy as np

from core.engine.rank import insight_text, mmr_select


def unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def test_mmr_skips_a_near_duplicate_of_what_it_already_picked() -> None:
    embeddings = np.stack([unit(1, 0, 0), unit(0.99, 0.05, 0), unit(0, 1, 0), unit(0, 0, 1)])
    scores = np.array([1.0, 0.95, 0.6, 0.3], dtype=np.float32)

    assert mmr_select(scores, embeddings, count=2, diversity_lambda=0.6) == [0, 2]


def test_mmr_with_lambda_one_is_plain_ranking_and_respects_exclusions() -> None:
    embeddings = np.stack([unit(1, 0), unit(1, 0.01), unit(0, 1)])
    scores = np.array([0.2, 0.9, 0.5], dtype=np.float32)

    assert mmr_select(scores, embeddings, count=3, diversity_lambda=1.0) == [1, 2, 0]
    assert mmr_select(scores, embeddings, count=3, diversity_lambda=1.0, exclude=[1]) == [2, 0]


def test_insight_drops_filler_openers_but_keeps_meaningful_ones() -> None:
    assert insight_text("Moreover, prices fell sharply.") == "Prices fell sharply."
    assert insight_text("However, prices fell sharply.") == "However, prices fell sharply."
    long = "word " * 100
    assert len(insight_text(long)) <= 300 and insight_text(long).endswith("…")
