"""Patterns, each backed by sentences that state it in so many words.

Every pattern type has explicit textual markers (``because`` / ``led to`` for causal, ``however``
/ ``whereas`` for divergence, and so on, see :data:`MARKERS`).  Sentences with a marker are grouped
by theme, and each (type, theme) group becomes one :class:`~core.models.PatternAnalysis` whose
evidence is the group's sentences, verbatim.  Two patterns come from structure rather than words:
convergence (sentences of one theme, or of several sources, saying nearly the same thing) and
numeric anomaly (a percentage far outside the others, by the 1.5 x IQR rule).

Confidence is a per-marker base (a strong marker such as "led to" counts more than "so"), plus a
little for each further sentence, capped at 0.95.  Types are interleaved by confidence so a report
shows several kinds of pattern before a second pattern of one kind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from core.engine.extract import PERCENT_RE, YEAR_RE
from core.engine.state import AnalysisState, ThemeState
from core.engine.text import Sentence
from core.models import PatternAnalysis, PatternType

__all__ = ["MARKERS", "Marker", "detect_patterns"]

_MAX_CONFIDENCE = 0.95
_EXTRA_EVIDENCE_BONUS = 0.08
#: Sentences of one theme this similar restate each other (convergence).
AGREEMENT_SIMILARITY = 0.7
_QUOTE_CHARS = 160


@dataclass(frozen=True, slots=True)
class Marker:
    """Words that state a pattern, and how much a match is worth on its own."""

    pattern_type: PatternType
    regex: re.Pattern[str]
    confidence: float


def _marker(pattern_type: PatternType, words: str, confidence: float, *, flags: int = re.IGNORECASE) -> Marker:
    return Marker(pattern_type, re.compile(rf"\b(?:{words})\b", flags), confidence)


MARKERS: tuple[Marker, ...] = (
    _marker("causal", r"because|due to|led to|leads? to|leading to|as a result|resulted in|results? in|"
            r"caused|causes|owing to|driven by|drove|triggered|contributed to|stems? from|"
            r"consequently|therefore|thanks to|in response to", 0.7),
    _marker("causal", r"which is why|that is why|hence", 0.55),
    _marker("divergence", r"however|whereas|in contrast|by contrast|on the other hand|conversely|"
            r"unlike|nevertheless|nonetheless|despite|although|even though", 0.65),
    _marker("divergence", r"(?:^|[,;]\s)(?:but|yet)|^while", 0.55),
    _marker("temporal", r"since (?:1[89]|20)\d\d|by (?:1[89]|20)\d\d|from (?:1[89]|20)\d\d to|"
            r"between (?:1[89]|20)\d\d and|over the (?:past|last|next) (?:\w+ )?(?:years|decades?|months)|"
            r"in the (?:past|last|next) decade|this decade|last decade", 0.6),
    _marker("correlation", r"as [^,.;]{3,80}\b(?:rose|rises|rising|increased|increases|grew|grows|fell|"
            r"falls|declined|declines|dropped|climbed|shrank|expanded|got|became)|correlat\w*|"
            r"in tandem|hand in hand|moved together|move together|tracks? closely|"
            r"the more [^,.;]{1,60},? the (?:more|less|fewer|higher|lower)|associated with|"
            r"alongside", 0.6),
    _marker("convergence", r"consensus|agree|agrees|agreed|widely (?:accepted|expected|held)|similarly|"
            r"likewise|in line with|consistent with|echo(?:es|ed)?|confirm(?:s|ed)?|corroborat\w+", 0.55),
    _marker("emergence", r"for the first time|first time|first-ever|emerging|emergence|emergent|nascent|"
            r"newest|newly|rise of|growing number|increasingly|began to|begun to|started to|"
            r"breakthrough|pioneer\w*|start-ups?|startups?", 0.6),
    _marker("emergence", r"new|novel", 0.45, flags=0),
    _marker("cycle", r"every (?:year|month|week|day|summer|winter|spring|autumn|fall|season|decade|"
            r"quarter|morning|evening)|each (?:year|month|week|summer|winter|spring|autumn|season)|"
            r"annual(?:ly)?|seasonal(?:ly)?|cyclical|cycles?|recurr\w+|year after year|boom and bust|"
            r"periodic\w*|yearly|daily cycle", 0.6),
    _marker("cycle", r"again|once more", 0.45),
    _marker("anomaly", r"unexpected(?:ly)?|unusual(?:ly)?|surpris\w+|anomal\w+|outliers?|"
            r"record (?:high|low)|all-time (?:high|low)|unprecedented|defied|against expectations|"
            r"contrary to|abnormal(?:ly)?|spiked?|plunged?|turned negative|sharp(?:ly)? "
            r"(?:rise|rose|drop|dropped|fall|fell)", 0.6),
)

_TYPE_PHRASES: dict[PatternType, str] = {
    "causal": "Cause and effect",
    "divergence": "Contrast",
    "temporal": "Change over time",
    "correlation": "Things moving together",
    "convergence": "Agreement",
    "emergence": "Something new",
    "cycle": "Recurring pattern",
    "anomaly": "Something unusual",
}


@dataclass(slots=True)
class _Group:
    """Evidence of one pattern type within one theme (or across sources)."""

    pattern_type: PatternType
    theme: int
    sentences: list[int]
    strength: float
    note: str = ""


def detect_patterns(state: AnalysisState) -> list[PatternAnalysis]:
    """Patterns with their evidence, interleaved by type, capped by the depth's pattern count."""
    groups = _marker_groups(state) + _convergence_groups(state) + _anomaly_groups(state)
    ranked = [_to_pattern(state, group) for group in groups]
    ranked.sort(key=lambda item: (-item[0].confidence, item[1]))
    return _interleave_by_type([pattern for pattern, _ in ranked], limit=state.profile.patterns)


def _marker_groups(state: AnalysisState) -> list[_Group]:
    groups: dict[tuple[PatternType, int], _Group] = {}
    for sentence in state.sentences:
        for pattern_type, strength in _sentence_markers(sentence).items():
            theme = int(state.theme_labels[sentence.index])
            group = groups.setdefault((pattern_type, theme), _Group(pattern_type, theme, [], 0.0))
            group.sentences.append(sentence.index)
            group.strength = max(group.strength, strength)
    return list(groups.values())


def _sentence_markers(sentence: Sentence) -> dict[PatternType, float]:
    """The pattern types one sentence states, each with its strongest marker's confidence."""
    found: dict[PatternType, float] = {}
    for marker in MARKERS:
        if marker.regex.search(sentence.clean):
            found[marker.pattern_type] = max(found.get(marker.pattern_type, 0.0), marker.confidence)
    if len(set(YEAR_RE.findall(sentence.clean))) >= 2:
        found["temporal"] = max(found.get("temporal", 0.0), 0.65)
    return found


def _convergence_groups(state: AnalysisState) -> list[_Group]:
    """Themes where sentences (from one source or several) restate one another."""
    groups = []
    for theme in state.themes:
        members = np.array(theme.members, dtype=np.int64)
        similarity = state.embeddings[members] @ state.embeddings[theme.representative]
        agreeing = [int(member) for member, value in zip(members, similarity, strict=True) if value >= AGREEMENT_SIMILARITY]
        sources = {state.sentences[index].source_index for index in agreeing}
        if len(agreeing) >= 3 or len(sources) >= 2:
            strength = 0.45 + 0.1 * (len(sources) - 1)
            note = f"{len(sources)} sources" if len(sources) >= 2 else f"{len(agreeing)} sentences"
            groups.append(_Group("convergence", theme.cluster, _spread_sources(state, agreeing), strength, note))
    return groups


def _spread_sources(state: AnalysisState, indexes: list[int]) -> list[int]:
    """Put one sentence per source first so the evidence shows every agreeing source."""
    seen: set[int] = set()
    first: list[int] = []
    rest: list[int] = []
    for index in indexes:
        source = state.sentences[index].source_index
        (rest if source in seen else first).append(index)
        seen.add(source)
    return first + rest


def _anomaly_groups(state: AnalysisState) -> list[_Group]:
    """Percentages far outside the rest (beyond 1.5 x the interquartile range)."""
    values: list[tuple[float, int]] = []
    for sentence in state.sentences:
        for match in PERCENT_RE.finditer(sentence.clean):
            number = re.match(r"\d+(?:[.,]\d+)?", match.group())
            if number:
                values.append((float(number.group().replace(",", ".")), sentence.index))
    if len(values) < 5:
        return []
    numbers = np.array([value for value, _ in values])
    low_quartile, high_quartile = np.percentile(numbers, [25, 75])
    spread = high_quartile - low_quartile
    if spread <= 0:
        return []
    median = float(np.median(numbers))
    return [
        _Group("anomaly", int(state.theme_labels[index]), [index], 0.5,
               f"{value:g}% against a median of {median:g}%")
        for value, index in values
        if value > high_quartile + 1.5 * spread or value < low_quartile - 1.5 * spread
    ]


def _to_pattern(state: AnalysisState, group: _Group) -> tuple[PatternAnalysis, int]:
    limit = state.profile.evidence_per_pattern
    chosen = group.sentences[:limit] if group.pattern_type == "convergence" else _strongest(state, group.sentences, limit)
    confidence = min(_MAX_CONFIDENCE, group.strength + _EXTRA_EVIDENCE_BONUS * (len(group.sentences) - 1))
    return (
        PatternAnalysis(
            pattern_type=group.pattern_type,
            description=_describe(state.themes[group.theme], group, state.sentences[chosen[0]]),
            evidence=[state.sentences[index].quote for index in chosen],
            confidence=round(confidence, 2),
        ),
        min(group.sentences),
    )


def _strongest(state: AnalysisState, indexes: list[int], limit: int) -> list[int]:
    """The most salient evidence sentences, shown in document order."""
    best = sorted(indexes, key=lambda index: (-float(state.insight_scores[index]), index))[:limit]
    return sorted(best)


def _describe(theme: ThemeState, group: _Group, example: Sentence) -> str:
    count = len(group.sentences)
    detail = group.note or f"{count} statement{'s' if count != 1 else ''}"
    quote = example.clean if len(example.clean) <= _QUOTE_CHARS else example.clean[: _QUOTE_CHARS - 1].rsplit(" ", 1)[0] + "…"
    return f"{_TYPE_PHRASES[group.pattern_type]} in “{theme.label}” ({detail}): {quote}"


def _interleave_by_type(patterns: list[PatternAnalysis], *, limit: int) -> list[PatternAnalysis]:
    """Best pattern of each type first, then the second best of each type, and so on."""
    rounds: dict[PatternType, int] = {}
    keyed = []
    for position, pattern in enumerate(patterns):
        rank = rounds.get(pattern.pattern_type, 0)
        rounds[pattern.pattern_type] = rank + 1
        keyed.append((rank, position, pattern))
    keyed.sort(key=lambda item: (item[0], item[1]))
    return [pattern for _, _, pattern in keyed[:limit]]
