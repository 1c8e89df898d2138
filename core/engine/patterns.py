"""Patterns that say what they relate, each backed by at least two sentences.

A pattern is a relation the text states, with its parts named:

* **causal**: a cause and an effect joined by an explicit connector ("X led to Y", "Y because
  of X", "As a result, ..." after the sentence giving the cause);
* **divergence**: two sides set against each other ("A, but B", "Although A, B", "Whereas",
  or a sentence opening "However," against the sentence before it);
* **temporal** (a trend): one quantity moving ("rents climbed 4%") in two or more sentences, with
  its direction and figures;
* **anomaly**: one percentage of a quantity far outside its others (1.5 x IQR, four or more
  percentages of that quantity), shown against a typical one;
* **convergence**: sentences of two or more sources saying nearly the same thing.

Every side of a relation must name something (two content words or more), so a bare marker word
("The causes are well understood", "unusually", "almost every year") never makes a pattern.  A
pattern is kept only with two evidence sentences: a relation stated across two sentences has
them; a relation stated inside one sentence needs another sentence of the text that supports it
(shares two content words with its sides, or has cosine :data:`SUPPORT_SIMILARITY` to it).

Confidence: the type's base, plus 0.1 for each evidence sentence beyond two and 0.1 when the
evidence comes from two or more sources, capped at :data:`MAX_CONFIDENCE`.  Types are
interleaved so a report shows several kinds before a second of one kind.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from core.engine.entities import PERCENT_RE
from core.engine.rank import one_line
from core.engine.state import AnalysisState
from core.engine.text import Sentence, content_word_set, content_words
from core.models import PatternAnalysis, PatternType

__all__ = ["MAX_CONFIDENCE", "SUPPORT_SIMILARITY", "Relation", "detect_patterns", "sentence_relations"]

MAX_CONFIDENCE = 0.9
#: A sentence this similar to a relation's sentence supports it even without shared words ...
SUPPORT_SIMILARITY = 0.5
#: ... and so does one of the sentences around it (same source) this similar.
NEIGHBOUR_SIMILARITY = 0.4
_NEIGHBOURHOOD = 2
#: Sentences of two sources this similar to a theme's representative restate it (convergence).
AGREEMENT_SIMILARITY = 0.7
_MIN_SHARED_WORDS = 2
_ANOMALY_MIN_VALUES = 4
_TREND_FIGURES = 4
_MIN_SIDE_WORDS = 2
_SIDE_MAX_WORDS = 14
_BASE: dict[PatternType, float] = {
    "causal": 0.55, "divergence": 0.5, "temporal": 0.5, "anomaly": 0.5, "convergence": 0.45,
}

_EFFECT_FIRST_RE = re.compile(
    r"\b(?:because of|because|(?<!\bis )(?<!\bare )(?<!\bwas )(?<!\bwere )due to|owing to|thanks to|as a result of|driven by|caused by|triggered by|"
    r"fu?ell?ed by|made worse by|worsened by|blamed on|stem(?:s|med|ming)? from)\s+",
    re.IGNORECASE,
)
_CAUSE_FIRST_RE = re.compile(
    r"\s+(?:led to|leads to|leading to|lead to|resulted in|results in|resulting in|caused|causes|"
    r"triggered|drove (?:up|down)|contributed to)\s+",
    re.IGNORECASE,
)
_CAUSE_BEFORE_RE = re.compile(
    r"^(?:as a result|consequently|therefore|because of this|for this reason|that is why|this is why|"
    r"hence|this means)\b,?\s*",
    re.IGNORECASE,
)
_CONTRAST_BEFORE_RE = re.compile(
    r"^(?:however|but|yet|in contrast|by contrast|on the other hand|nevertheless|nonetheless|conversely)\b,?\s*",
    re.IGNORECASE,
)
_CONTRAST_INSIDE_RE = re.compile(r",\s+(?:but|yet|while|whereas)\s+|\s+whereas\s+", re.IGNORECASE)
_CONTRAST_OPENING_RE = re.compile(r"^(?:while|although|though|even though|despite|unlike|whereas)\s+", re.IGNORECASE)
_REPORTING_FRAME_RE = re.compile(
    r"^.*?\b(?:said|says|say|found|find|finds|showed|shows|argued|argues|believes|warned|noted|reported|"
    r"thinks|claims|wrote)\s+(?:that\s+)?",
    re.IGNORECASE,
)
_TRAILING_FILLER_RE = re.compile(
    r"(?:[\s,]+(?:and|but|or|was|were|is|are|has been|have been|had been|been|be|partly|largely|"
    r"mainly|mostly|in part|probably|possibly|also|often|usually|sometimes|which|that))+$",
    re.IGNORECASE,
)
_CLAUSE_SPLIT_RE = re.compile(r",\s+|;\s+|\s+(?:and\s+)?(?:that|which)\s+")
_LEADING_FILLER_RE = re.compile(r"^(?:and|but|so|then|partly|largely|mainly)\s+", re.IGNORECASE)

_UP = "rose|risen|rises|rising|increased|increases|grew|grown|grows|climbed|climbs|jumped|jumps|surged|" \
      "soared|gained|gains|doubled|tripled|widened|improved|improves"
_DOWN = "fell|fallen|falls|falling|dropped|drops|declined|declines|decreased|decreases|slipped|slid|" \
        "slumped|plunged|shrank|eased|halved|narrowed|cooled"
_FIGURE = r"[$€£¥]?\s?\d[\d,.]*\s?(?:%|percent|per cent|percentage points?|(?:million|billion|trillion)?\s?(?:dollars|euros|pounds)?)"
_TREND_RE = re.compile(
    rf"\b(?P<verb>{_UP}|{_DOWN})\b(?P<middle>[^,;:.]{{0,40}}?)(?P<figure>{_FIGURE})", re.IGNORECASE
)
_NOUN_TREND_RE = re.compile(
    rf"(?P<figure>{_FIGURE})\s+(?P<verb>rise|increase|gain|jump|fall|drop|decline|decrease)\s+in\s+"
    r"(?P<quantity>[^,;.]{3,60}?)(?=\s+(?:to|from|and|as|after|in|on|over|during)\b|[,;.]|$)",
    re.IGNORECASE,
)
_DOWN_WORDS = frozenset(f"{_DOWN}|fall|drop|decline|decrease".lower().split("|"))
_AUXILIARY_END_RE = re.compile(r"(?:\s+(?:has|have|had|has been|have been|was|were|is|are|also|again))+$", re.IGNORECASE)
_QUANTITY_MAX_WORDS = 8
_PREPOSITION_RE = re.compile(r"\s+(?:of|on|in|at|for|from|within|across|near|over|among|by|with|to)\s+")
_CLAUSE_START_RE = re.compile(r"(?:^|[,;:]\s+|\s+(?:and|while|as|but|whereas|after)\s+)")
_PRONOUNS = frozenset("it its they them this that these those he she we i you which who".split())
_TYPE_TITLES: dict[PatternType, str] = {
    "causal": "Cause → effect",
    "divergence": "Contrast",
    "temporal": "Trend",
    "anomaly": "Outlier",
    "convergence": "Sources agree",
    "correlation": "Moving together",
    "emergence": "Something new",
    "cycle": "Recurring",
}


@dataclass(frozen=True, slots=True)
class Relation:
    """A pattern one sentence states (with the sentence before it, for "However," or "As a result,")."""

    pattern_type: PatternType
    sentences: tuple[int, ...]
    left: str
    right: str


@dataclass(slots=True)
class _Finding:
    pattern_type: PatternType
    description: str
    evidence: list[int]


def detect_patterns(state: AnalysisState) -> list[PatternAnalysis]:
    """Patterns with two or more evidence sentences, interleaved by type, capped by depth."""
    findings = [*_relation_findings(state), *_trend_findings(state), *_anomaly_findings(state)]
    findings += _convergence_findings(state)
    ranked = []
    seen: set[tuple[int, ...]] = set()
    for finding in findings:
        key = tuple(sorted(finding.evidence))
        if len(set(finding.evidence)) < 2 or key in seen:
            continue
        seen.add(key)
        ranked.append(_to_pattern(state, finding))
    ranked.sort(key=lambda item: (-item[0].confidence, item[1]))
    return _interleave_by_type([pattern for pattern, _ in ranked], limit=state.profile.patterns)


# --- Relations stated in words ---------------------------------------------------------------


def sentence_relations(sentence: Sentence, previous: Sentence | None) -> Iterator[Relation]:
    """The causal and contrast relations ``sentence`` states, with both sides named."""
    clean = sentence.clean.rstrip(" .!?")
    pair = (previous.index, sentence.index) if previous is not None else ()
    if pair and previous is not None and (match := _CAUSE_BEFORE_RE.match(clean)):
        yield from _checked("causal", pair, _side(previous.clean), _side(clean[match.end() :]))
    elif pair and previous is not None and (match := _CONTRAST_BEFORE_RE.match(clean)):
        yield from _checked("divergence", pair, _side(previous.clean), _side(clean[match.end() :]))
    own = (sentence.index,)
    if match := _EFFECT_FIRST_RE.search(clean):
        cause = _first_clause(clean[match.end() :])
        yield from _checked("causal", own, _side(cause), _side(clean[: match.start()], tail=True))
    elif match := _CAUSE_FIRST_RE.search(clean):
        yield from _checked(
            "causal", own, _side(clean[: match.start()], tail=True), _side(_first_clause(clean[match.end() :]))
        )
    if match := _CONTRAST_OPENING_RE.match(clean):
        first, _, second = clean[match.end() :].partition(", ")
        yield from _checked("divergence", own, _side(first), _side(second))
    elif match := _CONTRAST_INSIDE_RE.search(clean):
        yield from _checked("divergence", own, _side(clean[: match.start()], tail=True), _side(clean[match.end() :]))


def _checked(pattern_type: PatternType, sentences: tuple[int, ...], left: str, right: str) -> Iterator[Relation]:
    """The relation, if both sides name something (two content words or more each)."""
    if len(content_words(left)) >= _MIN_SIDE_WORDS and len(content_words(right)) >= _MIN_SIDE_WORDS:
        yield Relation(pattern_type, sentences, left, right)


def _first_clause(text: str) -> str:
    return re.split(r",\s|;\s|\s[-–—]\s", text, maxsplit=1)[0]


def _side(text: str, *, tail: bool = False) -> str:
    """One side of a relation as a short phrase: no reporting frame, filler or other clauses.

    ``tail`` is for the text before a connector: its last clause that names something is the side.
    """
    text = text.strip(" ,.;:\"“”")
    if tail:
        text = _REPORTING_FRAME_RE.sub("", _last_clause(text))
    text = _TRAILING_FILLER_RE.sub("", _LEADING_FILLER_RE.sub("", text)).strip(" ,")
    words = text.split()
    if len(words) > _SIDE_MAX_WORDS:
        text = "…" + " ".join(words[-_SIDE_MAX_WORDS:]) if tail else " ".join(words[:_SIDE_MAX_WORDS]) + "…"
    return one_line(text, limit=160) if text else ""


def _last_clause(text: str) -> str:
    pieces = [_TRAILING_FILLER_RE.sub("", piece) for piece in _CLAUSE_SPLIT_RE.split(text)]
    return next((piece for piece in reversed(pieces) if len(content_words(piece)) >= _MIN_SIDE_WORDS), "")


def _relation_findings(state: AnalysisState) -> Iterator[_Finding]:
    previous: Sentence | None = None
    for sentence in state.sentences:
        before = previous if previous is not None and previous.source_index == sentence.source_index else None
        for relation in sentence_relations(sentence, before):
            evidence = list(relation.sentences)
            if len(evidence) < 2:
                evidence += _supporting(state, relation)
            if len(evidence) >= 2:
                yield _Finding(relation.pattern_type, _describe_relation(relation), evidence)
        previous = sentence


def _describe_relation(relation: Relation) -> str:
    joiner = " → " if relation.pattern_type == "causal" else " ↔ "
    return f"{_TYPE_TITLES[relation.pattern_type]}: {relation.left}{joiner}{relation.right}"


def _supporting(state: AnalysisState, relation: Relation) -> list[int]:
    """Other sentences that speak of the relation's sides: best first, as many as evidence allows."""
    own = relation.sentences[0]
    source = state.sentences[own].source_index
    words = set(content_words(f"{relation.left} {relation.right}"))
    similarity = state.embeddings @ state.embeddings[own]
    scored = []
    for sentence in state.sentences:
        if sentence.index == own:
            continue
        shared = len(words & content_word_set(sentence.clean))
        near = sentence.source_index == source and abs(sentence.index - own) <= _NEIGHBOURHOOD
        threshold = NEIGHBOUR_SIMILARITY if near else SUPPORT_SIMILARITY
        if shared >= _MIN_SHARED_WORDS or similarity[sentence.index] >= threshold:
            scored.append((-float(similarity[sentence.index]), sentence.index))
    scored.sort()
    return [index for _, index in scored[: state.profile.evidence_per_pattern - 1]]


# --- Trends and outliers in figures ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Movement:
    sentence: int
    quantity: str
    up: bool
    figure: str


def _movements(sentence: Sentence) -> Iterator[_Movement]:
    """Each quantity the sentence says went up or down, with its figure ("rents climbed 4%")."""
    text = sentence.clean
    for match in _TREND_RE.finditer(text):
        quantity = _quantity_before(text[: match.start()])
        if quantity:
            figure = " ".join(f"{match['verb']}{match['middle']}{match['figure']}".split())
            yield _Movement(sentence.index, quantity, match["verb"].lower() not in _DOWN_WORDS, figure)
    for match in _NOUN_TREND_RE.finditer(text):
        quantity = _side(match["quantity"])
        if content_words(quantity):
            figure = f"{match['figure'].strip()} {match['verb'].lower()}"
            yield _Movement(sentence.index, quantity, match["verb"].lower() not in _DOWN_WORDS, figure)


def _quantity_before(text: str) -> str:
    """The last clause before a verb of change, as the quantity that changed (at most 8 words)."""
    starts = [match.end() for match in _CLAUSE_START_RE.finditer(text)]
    clause = _REPORTING_FRAME_RE.sub("", text[starts[-1] if starts else 0 :].strip())
    clause = _AUXILIARY_END_RE.sub("", clause)
    clause = re.sub(r"^(?:the|a|an|its|their|his|her|our)\s+", "", clause, flags=re.IGNORECASE)
    words = clause.split()
    if not words or len(words) > _QUANTITY_MAX_WORDS or words[-1].lower() in _PRONOUNS:
        return ""
    return " ".join(words) if content_words(" ".join(words)) else ""


def _quantity_head(quantity: str) -> str:
    """"Rents in the capital" -> "Rents": the quantity without its prepositional phrase."""
    return _PREPOSITION_RE.split(quantity, maxsplit=1)[0]


def _quantity_key(quantity: str) -> str:
    """The head noun of a quantity: its last content word before a preposition ("sales of homes")."""
    words = content_words(_quantity_head(quantity)) or content_words(quantity)
    return words[-1].removesuffix("s") if words else ""


def _movement_groups(state: AnalysisState) -> dict[str, list[_Movement]]:
    """Every movement of the text, grouped by the head noun of its quantity."""
    groups: dict[str, list[_Movement]] = {}
    for sentence in state.sentences:
        for movement in _movements(sentence):
            key = _quantity_key(movement.quantity)
            if key:
                groups.setdefault(key, []).append(movement)
    return groups


def _trend_findings(state: AnalysisState) -> Iterator[_Finding]:
    """One quantity moving in two or more sentences: a trend with its direction and figures."""
    for movements in _movement_groups(state).values():
        sentences = list(dict.fromkeys(movement.sentence for movement in movements))
        if len(sentences) < 2:
            continue
        ups = sum(movement.up for movement in movements)
        direction = "up" if ups == len(movements) else "down" if ups == 0 else "up and down"
        figures = "; ".join(movement.figure for movement in movements[:_TREND_FIGURES])
        more = f"; {len(movements) - _TREND_FIGURES} more" if len(movements) > _TREND_FIGURES else ""
        quantity = _quantity_head(movements[0].quantity)
        yield _Finding("temporal", f"Trend: {quantity[:1].lower() + quantity[1:]} {direction} ({figures}{more})", sentences)


def _anomaly_findings(state: AnalysisState) -> Iterator[_Finding]:
    """A percentage of one quantity beyond 1.5 x IQR of that quantity's other percentages.

    Only like is compared with like: the percentages of one trend group ("rents climbed 4%",
    "rents jumped 48%"), at least :data:`_ANOMALY_MIN_VALUES` of them.
    """
    for key, movements in _movement_groups(state).items():
        values = [
            (float(number.group().replace(",", ".")), movement)
            for movement in movements
            if PERCENT_RE.search(movement.figure) and (number := re.search(r"\d+(?:[.,]\d+)?", movement.figure))
        ]
        if len(values) < _ANOMALY_MIN_VALUES:
            continue
        numbers = np.array([value for value, _ in values])
        low, high = np.percentile(numbers, [25, 75])
        spread, median = high - low, float(np.median(numbers))
        for value, movement in values:
            if spread <= 0 or low - 1.5 * spread <= value <= high + 1.5 * spread:
                continue
            typical = min((abs(other - median), item.sentence) for other, item in values if item.sentence != movement.sentence)
            yield _Finding(
                "anomaly",
                f"Outlier: {movement.quantity} {value:g}% against a median of {median:g}% in {len(values)} figures on {key}s",
                [movement.sentence, typical[1]],
            )


# --- Agreement across sources ----------------------------------------------------------------


def _convergence_findings(state: AnalysisState) -> list[_Finding]:
    """Themes where sentences of two or more sources restate one another.

    Judged pairwise (the closest sentences of two different sources in the theme), not against
    the theme's representative: which sentence represents a theme moves with small changes of the
    embedding, whether two sources say the same thing does not.
    """
    if state.source_count < 2:
        return []
    findings = []
    for theme in state.themes:
        members = np.array(theme.members, dtype=np.int64)
        sources = np.array([state.sentences[int(member)].source_index for member in members])
        similarity = state.embeddings[members] @ state.embeddings[members].T
        similarity[sources[:, None] == sources[None, :]] = -1.0  # only pairs across sources
        first, second = np.unravel_index(int(np.argmax(similarity)), similarity.shape)
        if similarity[first, second] < AGREEMENT_SIMILARITY:
            continue
        pair = sorted((int(members[first]), int(members[second])))
        agreeing = {int(source) for source, row in zip(sources, similarity, strict=True)
                    if row.max() >= AGREEMENT_SIMILARITY}
        statement = one_line(state.sentences[pair[0]].clean)
        findings.append(_Finding("convergence", f"Sources agree: {statement} ({len(agreeing)} sources)", pair))
    return findings


# --- Output ----------------------------------------------------------------------------------


def _to_pattern(state: AnalysisState, finding: _Finding) -> tuple[PatternAnalysis, int]:
    evidence = list(dict.fromkeys(finding.evidence))[: state.profile.evidence_per_pattern]
    sources = {state.sentences[index].source_index for index in evidence}
    confidence = _BASE[finding.pattern_type] + 0.1 * (len(evidence) - 2) + (0.1 if len(sources) >= 2 else 0.0)
    return (
        PatternAnalysis(
            pattern_type=finding.pattern_type,
            description=finding.description,
            evidence=[state.sentences[index].quote for index in sorted(evidence)],
            confidence=round(min(MAX_CONFIDENCE, confidence), 2),
        ),
        min(evidence),
    )


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
