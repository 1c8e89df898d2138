"""Cross-source synthesis: what several sources share, where they differ, where they contradict.

Runs on the local engine's :class:`~core.engine.state.AnalysisState` (sentences of all sources,
their unit embeddings, theme labels), blocking, on a worker thread.  Three findings:

- **common themes**: themes whose sentences come from two or more sources;
- **divergences**: themes only one source covers, and near-identical statements from two sources
  that give different figures;
- **contradictions**: statements from two sources about the same thing (cosine similarity at
  least :data:`SAME_STATEMENT_SIMILARITY`) where one is negated and the other is not, or one says
  up and the other says down.  Each is reported with both sentences, quoted.

Which sources support each key insight is computed where the insight is picked
(``core.engine.rank``); the synthesis summary counts the insights backed by several sources.
Word lists are English; other languages get common themes and coverage only.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict

from core.engine.state import AnalysisState
from core.models import CrossSourceSynthesis, KeyInsight

__all__ = [
    "DIFFERENT_FIGURES_SIMILARITY",
    "SAME_STATEMENT_SIMILARITY",
    "StatementPair",
    "find_statement_pairs",
    "synthesise",
]

_log = logging.getLogger(__name__)

#: Two sentences from different sources this similar talk about the same thing.
SAME_STATEMENT_SIMILARITY = 0.70
#: Stricter: only near-identical statements are compared for their figures.
DIFFERENT_FIGURES_SIMILARITY = 0.80
MAX_FINDINGS = 5
_ROW_CHUNK = 1024
_MAX_CANDIDATES = 400

_WORD_RE = re.compile(r"[a-z]+(?:'[a-z]+)?")
_NUMBER_RE = re.compile(r"\d+(?:[.,]\d+)*")
_NEGATIONS = frozenset(
    "not no never none nobody nothing neither nor without cannot isn't wasn't aren't weren't "
    "don't doesn't didn't won't wouldn't can't couldn't shouldn't hasn't haven't hadn't".split()
)
_UP_WORDS = frozenset(
    "rise rises rose risen rising increase increases increased increasing grow grows grew grown "
    "growing growth gain gains gained higher more climb climbs climbed jump jumps jumped surge "
    "surged soar soared boost boosted expand expanded expanding up improve improved".split()
)
_DOWN_WORDS = frozenset(
    "fall falls fell fallen falling decrease decreases decreased decreasing decline declines "
    "declined declining drop drops dropped shrink shrinks shrank shrunk lower less fewer down cut "
    "cuts reduce reduced reduces plunge plunged slump slumped worsen worsened".split()
)


class StatementPair(BaseModel):
    """Two sentences from different sources about the same thing."""

    model_config = ConfigDict(frozen=True)

    first: int
    second: int
    similarity: float


def synthesise(
    state: AnalysisState, *, source_labels: Sequence[str], key_insights: Sequence[KeyInsight] = ()
) -> CrossSourceSynthesis:
    """The cross-source part of a report over two or more sources.  Blocking."""
    source_of = state.source_indexes
    pairs = find_statement_pairs(state.embeddings, source_of, minimum=SAME_STATEMENT_SIMILARITY)
    contradictions, divergent_figures = _compare_statements(state, pairs)
    common, single = _theme_coverage(state)
    divergences = [_only_one_source(label, source) for label, source in single] + divergent_figures
    return CrossSourceSynthesis(
        common_themes=[_shared_theme(label, sources, size) for label, sources, size in common][:MAX_FINDINGS],
        divergences=divergences[:MAX_FINDINGS],
        contradictions=contradictions[:MAX_FINDINGS],
        summary=_summary(
            source_count=len(source_labels), common=len(common), divergences=len(divergences),
            contradictions=len(contradictions), key_insights=key_insights,
        ),
    )


def find_statement_pairs(
    embeddings: np.ndarray, source_of: np.ndarray, *, minimum: float
) -> list[StatementPair]:
    """Cross-source sentence pairs with cosine similarity >= ``minimum``, most similar first.

    Compared in row chunks so memory stays ``chunk x n`` however long the sources are.
    """
    found: list[StatementPair] = []
    for start in range(0, embeddings.shape[0], _ROW_CHUNK):
        block = embeddings[start : start + _ROW_CHUNK] @ embeddings.T
        rows, columns = np.nonzero(block >= minimum)
        for row, column in zip(rows.tolist(), columns.tolist(), strict=True):
            first = start + row
            if first < column and source_of[first] != source_of[column]:
                found.append(StatementPair(first=first, second=column, similarity=float(block[row, column])))
    found.sort(key=lambda pair: (-pair.similarity, pair.first, pair.second))
    return found[:_MAX_CANDIDATES]


def _compare_statements(state: AnalysisState, pairs: list[StatementPair]) -> tuple[list[str], list[str]]:
    """Contradictions and different-figure divergences; each sentence is used at most once."""
    contradictions: list[str] = []
    divergences: list[str] = []
    used: set[int] = set()
    for pair in pairs:
        if pair.first in used or pair.second in used:
            continue
        first, second = state.sentences[pair.first], state.sentences[pair.second]
        if _opposed(first.clean, second.clean):
            quoted = _quote_pair(first.source_index, first.quote, second.source_index, second.quote)
            contradictions.append(quoted[:1].upper() + quoted[1:])
        elif pair.similarity >= DIFFERENT_FIGURES_SIMILARITY and _different_figures(first.clean, second.clean):
            divergences.append(
                "Different figures: " + _quote_pair(first.source_index, first.quote, second.source_index, second.quote)
            )
        else:
            continue
        used.update((pair.first, pair.second))
    return contradictions, divergences


def _words(text: str) -> set[str]:
    return set(_WORD_RE.findall(text.lower().replace("’", "'")))


def _opposed(first: str, second: str) -> bool:
    """One statement negated and the other not, or one going up where the other goes down."""
    first_words, second_words = _words(first), _words(second)
    if bool(first_words & _NEGATIONS) != bool(second_words & _NEGATIONS):
        return True
    return _direction(first_words) * _direction(second_words) < 0


def _direction(words: set[str]) -> int:
    up, down = bool(words & _UP_WORDS), bool(words & _DOWN_WORDS)
    return int(up) - int(down)


def _different_figures(first: str, second: str) -> bool:
    first_numbers, second_numbers = set(_NUMBER_RE.findall(first)), set(_NUMBER_RE.findall(second))
    return bool(first_numbers) and bool(second_numbers) and first_numbers != second_numbers


def _theme_coverage(state: AnalysisState) -> tuple[list[tuple[str, list[int], int]], list[tuple[str, int]]]:
    """Themes with two or more sources (label, sources, size), and themes with exactly one."""
    source_of = state.source_indexes
    common: list[tuple[str, list[int], int]] = []
    single: list[tuple[str, int]] = []
    for theme in state.themes:
        sources = sorted({int(source_of[member]) for member in theme.members})
        if len(sources) > 1:
            common.append((theme.label, sources, theme.size))
        elif state.source_count > 1:
            single.append((theme.label, sources[0]))
    common.sort(key=lambda item: (-len(item[1]), -item[2], item[0]))
    return common, single


def _shared_theme(label: str, sources: list[int], size: int) -> str:
    return f"{label}: covered by {_source_list(sources)} ({size} sentences)"


def _only_one_source(label: str, source: int) -> str:
    return f"Only source {source + 1} covers {label}."


def _quote_pair(first_source: int, first: str, second_source: int, second: str) -> str:
    return f'source {first_source + 1} says "{_trim(first)}" while source {second_source + 1} says "{_trim(second)}"'


def _trim(quote: str, limit: int = 300) -> str:
    return quote if len(quote) <= limit else quote[: limit - 1].rsplit(" ", 1)[0] + "…"


def _source_list(sources: Sequence[int]) -> str:
    numbers = [str(source + 1) for source in sources]
    if len(numbers) == 1:
        return f"source {numbers[0]}"
    return "sources " + ", ".join(numbers[:-1]) + " and " + numbers[-1]


def _summary(
    *, source_count: int, common: int, divergences: int, contradictions: int, key_insights: Sequence[KeyInsight]
) -> str:
    shared = sum(1 for insight in key_insights if len(set(insight.source_indexes)) > 1)
    parts = [
        f"{source_count} sources share {common} theme{_plural(common)}",
        f"{contradictions} contradiction{_plural(contradictions)} and {divergences} divergence{_plural(divergences)} found",
    ]
    if key_insights:
        parts.append(f"{shared} of {len(key_insights)} key insights are supported by more than one source")
    return "; ".join(parts) + "."


def _plural(count: int) -> str:
    return "" if count == 1 else "s"
