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

The summary is news-aware: in an article-shaped source (:mod:`core.engine.shape`) the lede (the
first sentence, or the most central sentence of the opening when the first is not lede-like)
comes first, and later sentences count a little less than early ones (news puts what matters
first).  Chat logs and notes get no lede and no position weight.  The headline is the first
summary sentence cut to one line.
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
    "headline_text",
    "insight_text",
    "key_insights",
    "lede_indexes",
    "mmr_select",
    "one_line",
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
#: The lede is looked for among the first sentences of an article.
LEDE_OPENING = 3
_LEDE_MIN_WORDS = 8
#: In an article, the last sentence's summary score is scaled by ``1 - POSITION_WEIGHT``.
POSITION_WEIGHT = 0.25
HEADLINE_MAX_CHARS = 120
_HEADLINE_MIN_CHARS = 40
_HEADLINE_PREFIX = {"conversation": "Discussion: ", "list": "Notes: ", "article": ""}
_SPEAKER_RE = re.compile(r"^(?:<[\w.@-]{2,32}>|[\w.@-]{2,32}:)\s+(?=\S)")
_DATELINE_RE = re.compile(r"^[A-Z][A-Z .'’-]{2,}(?:,\s[^,–—]{2,40}){0,2}\s+[-–—]+\s+")
_ATTRIBUTION_RE = re.compile(
    r",\s+(?:according to [^,]+|(?:[^,]{0,60}\s)?(?:said|says|announced|reported|confirmed|told [^,]{1,40})"
    r"(?:\s+on\s+\w+)?)\s*[.!]?$"
)
_SENTENCE_END = frozenset(".!?…\"”’')")
_CLAUSE_BREAK_RE = re.compile(r",\s|;\s|\s[-–—]\s|:\s")

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
    exclude: Sequence[int] = (), already: Sequence[int] = (),
) -> list[int]:
    """Indexes of up to ``count`` sentences picked by maximal marginal relevance, best first.

    ``already`` are sentences picked before (a lede): they are not picked again, and a candidate
    similar to them is penalised as if they had been picked here.
    """
    order = np.argsort(-scores, kind="stable")
    blocked = set(exclude) | set(already)
    pool = np.array([index for index in order if index not in blocked][:MMR_POOL], dtype=np.int64)
    if pool.size == 0 or count <= 0:
        return []
    pool_vectors = embeddings[pool]
    redundancy = np.full(pool.size, -np.inf, dtype=np.float32)
    if already:
        redundancy = (pool_vectors @ embeddings[list(already)].T).max(axis=1).astype(np.float32)
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
    """The ledes of the article-shaped sources first, then central sentences in document order."""
    count = state.profile.summary_sentences
    ledes = lede_indexes(state)[: max(1, count // 2)]
    picked = mmr_select(
        _position_weighted(state), state.embeddings,
        count=count - len(ledes), diversity_lambda=SUMMARY_LAMBDA, already=ledes,
    )
    return ledes + sorted(picked)


def lede_indexes(state: AnalysisState) -> list[int]:
    """The lede of each article-shaped source, in source order (see the module docstring)."""
    openings: dict[int, list[int]] = {}
    for sentence in state.sentences:
        opening = openings.setdefault(sentence.source_index, [])
        if len(opening) < LEDE_OPENING:
            opening.append(sentence.index)
    ledes = []
    for source_index, opening in sorted(openings.items()):
        if state.shape_of(source_index) != "article":
            continue
        candidates = [index for index in opening if _lede_like(state.sentences[index])]
        if not candidates:
            continue
        best = max(candidates, key=lambda index: (float(state.summary_scores[index]), -index))
        first = candidates[0]
        central_enough = state.summary_scores[first] >= 0.5 * state.summary_scores[best]
        ledes.append(first if first == opening[0] and central_enough else best)
    return ledes


def _lede_like(sentence: Sentence) -> bool:
    """A statement of some length: not a question, not a quotation opening a feature story."""
    clean = sentence.clean
    return sentence.words >= _LEDE_MIN_WORDS and not clean.endswith("?") and clean[:1] not in "\"“‘'"


def _position_weighted(state: AnalysisState) -> np.ndarray:
    """Summary scores, scaled down with the position in the source for article-shaped sources."""
    scores = state.summary_scores.copy()
    counts = np.bincount(state.source_indexes, minlength=state.source_count)
    seen: dict[int, int] = {}
    for sentence in state.sentences:
        source = sentence.source_index
        position = seen.get(source, 0)
        seen[source] = position + 1
        if state.shape_of(source) == "article" and counts[source] > 1:
            scores[sentence.index] *= 1.0 - POSITION_WEIGHT * position / (counts[source] - 1)
    return scores


def headline_text(state: AnalysisState, summary: Sequence[int]) -> str:
    """One line saying what the text is about: the lede, or the most central summary sentence."""
    if not summary:
        return ""
    ledes = set(lede_indexes(state))
    first = summary[0]
    if first not in ledes:
        first = max(summary, key=lambda index: (float(state.summary_scores[index]), -index))
    shape = state.shape_of(state.sentences[first].source_index)
    return _HEADLINE_PREFIX[shape] + one_line(state.sentences[first].clean)


def one_line(clean: str, *, limit: int = HEADLINE_MAX_CHARS) -> str:
    """A sentence cut to a headline: no speaker, dateline or trailing attribution, at most ``limit``."""
    text = _SPEAKER_RE.sub("", clean, count=1)
    text = _DATELINE_RE.sub("", text, count=1)
    text = _ATTRIBUTION_RE.sub("", text).rstrip(" .!")
    if len(text) > limit:
        breaks = [match.start() for match in _CLAUSE_BREAK_RE.finditer(text, 0, limit)]
        usable = [position for position in breaks if position >= _HEADLINE_MIN_CHARS]
        text = text[: usable[-1]] if usable else text[: limit - 1].rsplit(" ", 1)[0] + "…"
    return text[:1].upper() + text[1:]


def summary_text(state: AnalysisState, indexes: Sequence[int]) -> str:
    """The summary sentences joined (each ending in a full stop), stopping before :data:`_SUMMARY_MAX_CHARS`."""
    parts: list[str] = []
    for index in indexes:
        clean = state.sentences[index].clean
        if clean[-1] not in _SENTENCE_END:
            clean += "."  # a chat message or a note: joined, it would run into the next one
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
