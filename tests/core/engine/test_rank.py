"""Diverse selection and insight wording."""

from __future__ import annotations

import numpy as np

from core.engine.rank import insight_text, mmr_select, one_line


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


def test_mmr_penalises_what_was_picked_before_and_never_repeats_it() -> None:
    embeddings = np.stack([unit(1, 0, 0), unit(0.99, 0.05, 0), unit(0, 1, 0)])
    scores = np.array([1.0, 0.95, 0.6], dtype=np.float32)

    assert mmr_select(scores, embeddings, count=1, diversity_lambda=0.6, already=[0]) == [2]


def test_headline_is_one_line_without_dateline_speaker_or_trailing_attribution() -> None:
    assert one_line("SALZGITTER, Germany, 14 May 2025 - Voltaris AG today opened its first factory.") == (
        "Voltaris AG today opened its first factory"
    )
    assert one_line("priya: so the plan is to release 3.4 on Thursday.") == "So the plan is to release 3.4 on Thursday"
    assert one_line("Four people died in the floods, regional authorities said.") == "Four people died in the floods"
    lede = (
        "The Great Barrier Reef is undergoing its sixth mass bleaching event since 2016, Australia's reef "
        "management agency confirmed on Thursday, after aerial surveys found heat-stressed coral."
    )
    assert one_line(lede) == "The Great Barrier Reef is undergoing its sixth mass bleaching event since 2016"
    assert len(one_line("word " * 60)) <= 120
