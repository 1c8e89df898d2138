"""Which sentences matter: salience scores, diverse selection (MMR), summary and key insights.

Two scores per sentence, both linear in the number of sentences (no ``n x n`` matrix):

* summary score: mostly cosine to the centre of the whole text, partly to the centre of the
  sentence's theme: the sentences that say what the text as a whole is about;
* insight score: mostly cosine to the theme's centre, weighted by the theme's share of the text,
  with a bonus for concrete content (a number, a date, a name): the sentence that best states each
  theme.

Both are scaled by a length factor (fragments under 12 words count less) and min-max normalised to
[0, 1].  Maximal marginal relevance then picks sentences that score high but do not repeat one
another: each pick maximises ``λ·score − (1 − λ)·max similarity to what is already picked``,
over a pool of the best :data:`MMR_POOL` sentences, so the cost is ``picks x pool``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from core.engine.state import AnalysisState, ThemeState
from core.engine.text import Sentence
from core.models import KeyInsight

__all__ = [
    "MMR_POOL",
    "insight_text",
    "key_insights",
    "mmr_select",
    "salience_scores",
    "summary_indexes",
    "summary_text",
]

MMR_POOL = 200
SUMMARY_LAMBDA = 0.6
INSIGHT_LAMBDA = 0.65
#: Another source "supports" an insight if one of its sentences is at least this similar to it.
SUPPORT_SIMILARITY = 0.75
_FULL_LENGTH_WORDS = 12
_INSIGHT_MAX_CHARS = 300
_SUMMARY_MAX_CHARS = 1_800

_CONCRETE_RE = re.compile(r"\d|\b[A-Z][a-z]+\s+[A-Z][a-z]+|\b[A-Z]{2,}\b")
_FILLER_OPENER_RE = re.compile(
    r"^(?:moreover|furthermore|in addition|additionally|also|indeed|in fact|overall|finally|"
    r"first(?:ly)?|second(?:ly)?|third(?:ly)?|for example|for instance|in short|in sum|"
    r"in conclusion|notably|importantly|of course)\s*,\s*",
    re.IGNORECASE,
)


def salience_scores(
    sentences: Sequence[Sentence], embeddings: np.ndarray, labels: np.ndarray, themes: Sequence[ThemeState]
) -> tuple[np.ndarray, np.ndarray]:
    """``(summary_scores, insight_scores)``, each ``(n,)`` float32 in [0, 1]."""
    centre = embeddings.mean(axis=0)
    centre /= max(float(np.linalg.norm(centre)), 1e-12)
    to_text = embeddings @ centre
    centroids = np.stack([theme.centroid for theme in themes])
    to_theme = np.einsum("ij,ij->i", embeddings, centroids[labels])
    sizes = np.array([theme.size for theme in themes], dtype=np.float32)
    share = (sizes / sizes.max())[labels]
    length = np.array([min(1.0, max(0.3, s.words / _FULL_LENGTH_WORDS)) for s in sentences])
    concrete = np.array([0.08 if _CONCRETE_RE.search(s.clean) else 0.0 for s in sentences])
    summary = (0.7 * to_text + 0.3 * to_theme) * length
    insight = (0.55 * to_theme + 0.2 * to_text + 0.25 * share) * length + concrete
    return _normalised(summary), _normalised(insight)


def _normalised(scores: np.ndarray) -> np.ndarray:
    low, high = float(scores.min()), float(scores.max())
    if high - low < 1e-9:
        return np.ones_like(scores, dtype=np.float32)
    return ((scores - low) / (high - low)).astype(np.float32)


def mmr_select(
    scores: np.ndarray, embeddings: np.ndarray, *, count: int, diversity_lambda: float,
    exclude: Sequence[int] = (),
) -> list[int]:
    """Indexes of up to ``count`` sentences picked by maximal marginal relevance, best first."""
    order = np.argsort(-scores, kind="stable")
    blocked = set(exclude)
    pool = np.array([index for index in order if index not in blocked][:MMR_POOL], dtype=np.int64)
    if pool.size == 0:
        return []
    pool_vectors = embeddings[pool]
    redundancy = np.full(pool.size, -np.inf, dtype=np.float32)
    chosen: list[int] = []
    available = np.ones(pool.size, dtype=bool)
    for _ in range(min(count, pool.size)):
        penalty = np.where(np.isfinite(redundancy), redundancy, 0.0)
        value = diversity_lambda * scores[pool] - (1 - diversity_lambda) * penalty
        value = np.where(available, value, -np.inf)
        best = int(np.argmax(value))
        chosen.append(int(pool[best]))
        available[best] = False
        redundancy = np.maximum(redundancy, pool_vectors @ pool_vectors[best])
    return chosen


def summary_indexes(state: AnalysisState) -> list[int]:
    """The most central sentences, picked for coverage, in document order."""
    picked = mmr_select(
        state.summary_scores, state.embeddings,
        count=state.profile.summary_sentences, diversity_lambda=SUMMARY_LAMBDA,
    )
    return sorted(picked)


def summary_text(state: AnalysisState, indexes: Sequence[int]) -> str:
    """The summary sentences joined, stopping before :data:`_SUMMARY_MAX_CHARS`."""
    parts: list[str] = []
    for index in indexes:
        clean = state.sentences[index].clean
        if parts and sum(len(part) + 1 for part in parts) + len(clean) > _SUMMARY_MAX_CHARS:
            break
        parts.append(clean)
    return " ".join(parts)


def key_insights(state: AnalysisState, *, summary: Sequence[int] = ()) -> list[KeyInsight]:
    """The most important sentences, diverse, most important first, each with its verbatim quote.

    Sentences already in the summary are left out when the text is long enough to offer others,
    so the report does not say the same thing twice.
    """
    wanted = state.profile.insights
    exclude = summary if len(state.sentences) >= 2 * (wanted + len(summary)) else ()
    picked = mmr_select(
        state.insight_scores, state.embeddings, count=wanted, diversity_lambda=INSIGHT_LAMBDA, exclude=exclude
    )
    picked.sort(key=lambda index: (-float(state.insight_scores[index]), index))
    return [
        KeyInsight(
            insight=insight_text(state.sentences[index].clean),
            evidence=state.sentences[index].quote,
            importance=round(float(state.insight_scores[index]), 3),
            source_indexes=_supporting_sources(state, index),
        )
        for index in picked
    ]


def insight_text(clean: str) -> str:
    """The sentence as an insight: filler openers ("Moreover, ") dropped, capitalised, capped."""
    text = _FILLER_OPENER_RE.sub("", clean) or clean
    text = text[0].upper() + text[1:]
    if len(text) > _INSIGHT_MAX_CHARS:
        text = text[: _INSIGHT_MAX_CHARS - 1].rsplit(" ", 1)[0] + "…"
    return text


def _supporting_sources(state: AnalysisState, index: int) -> list[int]:
    own = state.sentences[index].source_index
    if state.source_count == 1:
        return [own]
    similarity = state.embeddings @ state.embeddings[index]
    sources = state.source_indexes[similarity >= SUPPORT_SIMILARITY]
    return sorted({own, *(int(source) for source in sources)})
