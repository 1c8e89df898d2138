"""Theme clusters: spherical k-means over sentence embeddings, labelled by key phrases.

The number of themes comes from the text: every ``k`` from 2 up to the depth's maximum (and at
most one theme per three sentences) is tried, and the one with the best silhouette wins (ties go
to the smaller ``k``).  The silhouette is computed on at most :data:`SILHOUETTE_SAMPLE` evenly
spaced sentences against all sentences, so memory stays ``sample x n`` rather than ``n x n``.
k-means is FAISS's, seeded, so the same text gives the same themes.

Keywords are c-TF-IDF unigrams.  The label is the theme's key phrase: the run of two or three
content words ("mass bleaching event", "sea surface temperatures") that recurs in the theme's
sentences with the most keyword weight, or the top keyword alone when no phrase recurs.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Sequence

import faiss
import numpy as np

from core.engine.state import ThemeState
from core.engine.text import STOPWORDS, Sentence, content_words

__all__ = [
    "SILHOUETTE_SAMPLE", "build_themes", "cluster_sentences", "key_phrases", "theme_keywords", "theme_label",
]

_log = logging.getLogger(__name__)

SEED = 1234
SILHOUETTE_SAMPLE = 600
#: Sentences per theme, at least, on average; fewer sentences than this per theme is noise.
MIN_SENTENCES_PER_THEME = 3
#: A depth's minimum number of themes needs this many sentences per theme.
SENTENCES_PER_REQUIRED_THEME = 10
#: A cluster smaller than this is folded into its nearest neighbour.
MIN_THEME_SIZE = 2
_KMEANS_ITERATIONS = 20
#: Words that describe movement or reporting, never a topic, kept out of theme keywords.
_KEYWORD_STOPWORDS = frozenset(
    """rose rise rises rising risen fell fall falls falling fallen grew grow grows growing grown
    increase increased increases increasing decrease decreased decreases decreasing decline declined
    declines declining drop dropped drops dropping climb climbed climbs added add adds adding
    reach reached reaches remain remained remains remaining keep kept keeps became become
    expect expected expects plan plans planned set sets say told tell tells think thinks
    called call calls known large larger largest small smaller smallest high higher highest low
    lower lowest big bigger biggest good better great major main key important often usually
    around roughly about average typical typically recent recently current currently early
    later late least instead whether reason reasons fact facts case cases point points example
    examples result results end side sides part parts kind sort thing change changes changed second
    third fourth compared compare""".split()
)
_PHRASE_TOKEN_RE = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*|[^\w\s]|\d\S*")
_PHRASE_LENGTHS = (3, 2)
#: k-means starts per k, the best kept; 2 starts often settle in a poor split of mixed sources.
_KMEANS_REDOS = 8


def cluster_sentences(embeddings: np.ndarray, *, max_themes: int, min_themes: int = 2) -> np.ndarray:
    """Theme index of each sentence, ``(n,)`` int64, themes numbered by first appearance.

    ``min_themes`` applies only to texts long enough for it (one theme per
    :data:`SENTENCES_PER_REQUIRED_THEME` sentences): a long article whose sentences are all loosely
    related has a flat silhouette that would otherwise always pick 2.
    """
    count = embeddings.shape[0]
    largest = min(max_themes, count // MIN_SENTENCES_PER_THEME)
    if largest < 2:
        return np.zeros(count, dtype=np.int64)
    smallest = min(largest, max(2, min(min_themes, count // SENTENCES_PER_REQUIRED_THEME)))
    _single_openmp_thread()
    sample = np.unique(np.linspace(0, count - 1, num=min(count, SILHOUETTE_SAMPLE)).astype(np.int64))
    sample_similarity = embeddings[sample] @ embeddings.T
    best_labels, best_score = np.zeros(count, dtype=np.int64), -math.inf
    for themes in range(smallest, largest + 1):
        labels = _kmeans(embeddings, themes)
        score = _silhouette(sample_similarity, labels, sample)
        _log.debug("k=%d silhouette=%.4f", themes, score)
        if score > best_score + 1e-6:
            best_labels, best_score = labels, score
    return _renumber(best_labels)


def _single_openmp_thread() -> None:
    """FAISS k-means on a few thousand points is slower with several OpenMP threads, and on a
    shared 2-core machine many times slower (threads spin while the model runs).  Same policy as
    ``core.runtime``: one OpenMP thread, set here too so the engine is fast outside the runtime."""
    if faiss.omp_get_max_threads() != 1:
        faiss.omp_set_num_threads(1)


def _kmeans(embeddings: np.ndarray, themes: int) -> np.ndarray:
    dimension = embeddings.shape[1]
    kmeans = faiss.Kmeans(
        dimension, themes, niter=_KMEANS_ITERATIONS, nredo=_KMEANS_REDOS, seed=SEED,
        spherical=True, min_points_per_centroid=1, verbose=False,
    )
    kmeans.train(embeddings)
    assert kmeans.centroids is not None
    similarity = embeddings @ kmeans.centroids.T
    labels = np.argmax(similarity, axis=1)
    return _fold_small_clusters(labels, similarity)


def _fold_small_clusters(labels: np.ndarray, similarity: np.ndarray) -> np.ndarray:
    """Move members of clusters below :data:`MIN_THEME_SIZE` to their next-nearest cluster."""
    sizes = np.bincount(labels, minlength=similarity.shape[1])
    small = sizes < MIN_THEME_SIZE
    if not small.any() or small.all():
        return labels
    allowed = np.where(small, -np.inf, similarity)
    moved = small[labels]
    labels = labels.copy()
    labels[moved] = np.argmax(allowed[moved], axis=1)
    return labels


def _silhouette(sample_similarity: np.ndarray, labels: np.ndarray, sample: np.ndarray) -> float:
    """Mean silhouette (cosine distance) of the sampled sentences; singletons score 0."""
    themes = int(labels.max()) + 1
    membership = np.zeros((labels.shape[0], themes), dtype=np.float32)
    membership[np.arange(labels.shape[0]), labels] = 1.0
    counts = membership.sum(axis=0)
    totals = sample_similarity @ membership  # (sample, themes): summed similarity to each theme
    rows = np.arange(sample.shape[0])
    own = labels[sample]
    own_count = counts[own]
    # Mean distance to the other members of one's own theme (self-similarity 1 removed).
    own_distance = ((own_count - 1) - (totals[rows, own] - 1)) / np.maximum(own_count - 1, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        other_distance = 1.0 - totals / counts
    other_distance[rows, own] = np.inf
    other_distance[:, counts == 0] = np.inf
    nearest_other = other_distance.min(axis=1)
    widest = np.maximum(own_distance, nearest_other)
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = np.where(widest > 0, (nearest_other - own_distance) / np.where(widest > 0, widest, 1), 0.0)
    scores[own_count <= 1] = 0.0
    return float(scores.mean())


def _renumber(labels: np.ndarray) -> np.ndarray:
    """Renumber themes 0..k-1 in order of first appearance (deterministic, gap-free)."""
    _, first_seen = np.unique(labels, return_index=True)
    order = np.argsort(first_seen, kind="stable")
    mapping = np.empty(int(labels.max()) + 1, dtype=np.int64)
    mapping[np.unique(labels)[order]] = np.arange(order.shape[0])
    return mapping[labels]


def theme_keywords(
    sentences: Sequence[Sentence], labels: np.ndarray, *, themes: int, limit: int
) -> list[list[str]]:
    """Keywords of each theme by class-based TF-IDF over the words of its sentences.

    A word's weight in a theme is the share of the theme's sentences that use it, times
    ``log(1 + mean theme size / sentences using it anywhere)``: words common to every theme fall
    away, words particular to one theme rise.  Plurals and -ing/-ed forms fold into their base when
    both occur; verbs of change (rose, fell) and other words that never name a topic are left out.
    """
    weights = _keyword_weights(sentences, labels, themes=themes)
    return [_top(theme_weights, limit) for theme_weights in weights]


def _top(weights: dict[str, float], limit: int) -> list[str]:
    return [word for word, _ in sorted(weights.items(), key=lambda item: (-item[1], item[0]))[:limit]]


def _keyword_weights(sentences: Sequence[Sentence], labels: np.ndarray, *, themes: int) -> list[dict[str, float]]:
    """The c-TF-IDF weight of each (folded) word in each theme, for words that may be keywords."""
    folded = _fold_inflections([content_words(sentence.clean) for sentence in sentences])
    per_theme = [Counter[str]() for _ in range(themes)]
    for words, label in zip(folded, labels, strict=True):
        per_theme[int(label)].update(set(words))
    everywhere = Counter[str]()
    for counter in per_theme:
        everywhere.update(counter)
    sizes = np.bincount(labels, minlength=themes)
    mean_size = float(sizes.mean())
    return [
        {
            word: count / sizes[theme] * math.log(1 + mean_size / everywhere[word])
            for word, count in counter.items()
            if count >= 2 or sizes[theme] < 4
        }
        for theme, counter in enumerate(per_theme)
    ]


def key_phrases(
    sentences: Sequence[Sentence], labels: np.ndarray, *, weights: Sequence[dict[str, float]], keywords: Sequence[Sequence[str]]
) -> list[list[str]]:
    """Each theme's phrases of two or three content words holding a keyword, best first.

    Phrases that recur (in two of the theme's sentences, or one in a theme of under four) come
    first; within each group a phrase scores the number of sentences using it times the keyword
    weight of its words.
    """
    vocabulary = {word for theme_weights in weights for word in theme_weights}
    counts = [Counter[tuple[str, ...]]() for _ in weights]
    surface: dict[tuple[str, ...], str] = {}
    for sentence, label in zip(sentences, labels, strict=True):
        found = set()
        for key, text in _sentence_phrases(sentence.clean, vocabulary):
            found.add(key)
            surface.setdefault(key, text)
        counts[int(label)].update(found)
    sizes = np.bincount(labels, minlength=len(weights))
    phrases = []
    for theme, counter in enumerate(counts):
        top = set(keywords[theme])
        scored = [
            (not (count >= 2 or sizes[theme] < 4), -count * sum(weights[theme].get(word, 0.0) for word in key), key)
            for key, count in counter.items()
            if top.intersection(key) and (count >= 2 or not key[-1].endswith("ing"))
        ]
        scored.sort()
        phrases.append([surface[key] for *_, key in scored])
    return phrases


def _verb_like(piece: list[tuple[str, str]]) -> bool:
    """A run that is probably a verb phrase: "-ed" after its first word, or an "-ly" adverb.

    "Heat-stressed coral" stays.  (A phrase ending in "-ing" is kept only if it recurs:
    "mass bleaching" does, "developers holding" does not; see :func:`key_phrases`.)
    """
    words = [word for word, _ in piece]
    return any(word.endswith("ed") for word in words[1:]) or any(word.endswith("ly") for word in words)


def _sentence_phrases(text: str, vocabulary: set[str]) -> list[tuple[tuple[str, ...], str]]:
    """``(folded words, text as written)`` of every 2- and 3-word run of content words."""
    runs: list[list[tuple[str, str]]] = [[]]
    for match in _PHRASE_TOKEN_RE.finditer(text):
        token = match.group().replace("’", "'").removesuffix("'s")
        word = token.lower()
        if token[0].isalpha() and len(word) >= 3 and word not in STOPWORDS and word not in _KEYWORD_STOPWORDS:
            runs[-1].append((_base_form(word, vocabulary) or word, token))
            if match.group().endswith(("'s", "’s")):
                runs.append([])
        elif runs[-1]:
            runs.append([])
    phrases = []
    for run in runs:
        for length in _PHRASE_LENGTHS:
            for start in range(len(run) - length + 1):
                piece = run[start : start + length]
                if _verb_like(piece):
                    continue
                phrases.append((tuple(word for word, _ in piece), " ".join(token for _, token in piece)))
    return phrases


def _fold_inflections(documents: list[list[str]]) -> list[list[str]]:
    """Map "prices" to "price", "policies" to "policy", "charging" to "charge" when the base occurs."""
    vocabulary = {word for words in documents for word in words}
    mapping = {word: base for word in vocabulary if (base := _base_form(word, vocabulary))}
    return [[mapping.get(word, word) for word in words if word not in _KEYWORD_STOPWORDS] for words in documents]


def _base_form(word: str, vocabulary: set[str]) -> str | None:
    candidates: list[str] = []
    if word.endswith("ies"):
        candidates.append(word[:-3] + "y")
    if word.endswith("es") and word[-3:-2] in ("s", "x", "z", "h"):
        candidates.append(word[:-2])
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        candidates.append(word[:-1])
    if word.endswith("ing") and len(word) > 5:
        candidates += [word[:-3], word[:-3] + "e"]
    if word.endswith("ed") and len(word) > 4:
        candidates += [word[:-2], word[:-1]]
    return next((candidate for candidate in candidates if candidate in vocabulary), None)


def theme_label(phrases: Sequence[str], keywords: Sequence[str] = ()) -> str:
    """The theme's best key phrase ("Mass bleaching event"), else its top keyword, else "General"."""
    text = phrases[0] if phrases else keywords[0] if keywords else "General"
    return text[0].upper() + text[1:]


def build_themes(
    sentences: Sequence[Sentence], embeddings: np.ndarray, labels: np.ndarray, *, keyword_limit: int
) -> list[ThemeState]:
    """One :class:`ThemeState` per theme: centroid, coherence, keywords, label, representative."""
    themes = int(labels.max()) + 1 if labels.size else 0
    weights = _keyword_weights(sentences, labels, themes=themes)
    keywords = [_top(theme_weights, keyword_limit) for theme_weights in weights]
    phrases = key_phrases(sentences, labels, weights=weights, keywords=keywords)
    used: set[str] = set()
    result = []
    for theme in range(themes):
        members = np.flatnonzero(labels == theme)
        centre = embeddings[members].mean(axis=0)
        centre /= max(float(np.linalg.norm(centre)), 1e-12)
        similarity = embeddings[members] @ centre
        result.append(
            ThemeState(
                cluster=theme,
                members=tuple(int(member) for member in members),
                centroid=centre.astype(np.float32),
                coherence=round(float(similarity.mean()), 3),
                keywords=tuple(keywords[theme]),
                label=_unused_label(
                    phrases[theme], keywords[theme], used,
                    fallback=_first_phrase(sentences[int(members[int(np.argmax(similarity))])].clean),
                ),
                representative=int(members[int(np.argmax(similarity))]),
            )
        )
    return result


def _first_phrase(text: str) -> str:
    """The first run of content words of a sentence (or its first content word): a last-resort label."""
    phrases = _sentence_phrases(text, set())
    words = content_words(text)
    return phrases[0][1] if phrases else words[0] if words else ""


def _unused_label(phrases: Sequence[str], keywords: Sequence[str], used: set[str], *, fallback: str) -> str:
    """The best label no earlier theme has taken (two themes may share their top phrase).

    Key phrases first, then keywords, then the first phrase of the representative sentence.
    """
    options = [theme_label([phrase]) for phrase in phrases] + [theme_label([], [word]) for word in keywords]
    options += [theme_label([fallback])] if fallback else []
    label = next((option for option in options if option.lower() not in used), theme_label(phrases, keywords))
    used.add(label.lower())
    return label
