"""Claims, from explicit surface evidence only (regular expressions).

Claims: a sentence about the future ("will", "expects", "forecast", "by 2030") is a prediction;
otherwise one with a figure (a percentage, an amount of money, a non-year number, "million") is a
statistic; anything else is an assertion.  A claim is checkable when it names a number, a date or
a named entity (:mod:`core.engine.entities`).  Questions and fragments are not claims.
"""

from __future__ import annotations

import re
from collections import Counter

from core.engine.entities import DATE_RE, YEAR_RE, find_entities
from core.engine.state import AnalysisState
from core.models import Claim, ClaimKind

__all__ = ["classify_claim", "extract_claims", "is_checkable"]

_FIGURE_RE = re.compile(
    r"\d+(?:[.,]\d+)*\s?(?:%|percent|per cent)|[$€£¥]\s?\d|\b(?:million|billion|trillion|thousand|"
    r"doubled|tripled|halved|twice|threefold|tenfold)\b"
)
_NUMBER_RE = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*(?![\w])")
_PREDICTION_RE = re.compile(
    r"\b(?:will|won't|shall|is going to|are going to|expects?|expected to|forecasts?|forecasted|"
    r"predicts?|predicted|anticipates?|is likely to|are likely to|is set to|are set to|on track to|"
    r"poised to|projected to|could reach|next (?:year|decade|month|quarter)|in the coming|"
    r"in the future)\b",
    re.IGNORECASE,
)
_BY_YEAR_RE = re.compile(r"\b(?:by|until|before)\s+(20[2-9]\d|2100)\b")
_PAST_PERFECT_RE = re.compile(r"\bhad\b", re.IGNORECASE)
_WILL_AS_NOUN_RE = re.compile(r"\b(?:the|political|free|good|ill|own|their|his|her)\s+will\b", re.IGNORECASE)

def classify_claim(text: str) -> ClaimKind:
    """Prediction, statistic or assertion, from the words of one sentence."""
    if _is_prediction(text):
        return "prediction"
    if _FIGURE_RE.search(text) or _has_plain_number(text):
        return "statistic"
    return "assertion"


def _is_prediction(text: str) -> bool:
    match = _PREDICTION_RE.search(text)
    if match and not (match.group().lower() == "will" and _WILL_AS_NOUN_RE.search(text)):
        return True
    return bool(_BY_YEAR_RE.search(text)) and not _PAST_PERFECT_RE.search(text)


def _has_plain_number(text: str) -> bool:
    """A number that is not just a year: "32 gigawatts" counts, "in 2023" does not."""
    years = {match.span() for match in YEAR_RE.finditer(text)}
    return any(match.span() not in years for match in _NUMBER_RE.finditer(text))


def is_checkable(text: str) -> bool:
    """Names something a reader could look up: a number, a date or a named entity."""
    return bool(re.search(r"\d", text) or DATE_RE.search(text) or any(find_entities(text)))


def extract_claims(state: AnalysisState) -> list[Claim]:
    """The strongest claims, in document order.

    Figures and forecasts rank first, then checkable claims, then by salience; with several
    sources, the best claim of each source is taken in turn so every source is heard.
    """
    ranked: list[tuple[float, int, Claim]] = []
    for sentence in state.sentences:
        if sentence.clean.endswith("?") or sentence.words < 5:
            continue
        kind = classify_claim(sentence.clean)
        checkable = is_checkable(sentence.clean)
        priority = (2.0 if kind != "assertion" else 0.0) + (1.0 if checkable else 0.0)
        priority += float(state.insight_scores[sentence.index])
        claim = Claim(text=sentence.clean, kind=kind, checkable=checkable, source_index=sentence.source_index)
        ranked.append((priority, sentence.index, claim))
    ranked.sort(key=lambda item: (-item[0], item[1]))
    turn_in_source = Counter[int]()
    turns = []
    for priority, index, claim in ranked:
        turns.append((turn_in_source[claim.source_index], -priority, index, claim))
        turn_in_source[claim.source_index] += 1
    turns.sort(key=lambda item: item[:3])
    chosen = sorted(turns[: state.profile.claims], key=lambda item: item[2])
    return [claim for *_, claim in chosen]
