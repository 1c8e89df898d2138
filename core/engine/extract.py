"""Claims and named entities, from explicit surface evidence only (regular expressions).

Claims: a sentence about the future ("will", "expects", "forecast", "by 2030") is a prediction;
otherwise one with a figure (a percentage, an amount of money, a non-year number, "million") is a
statistic; anything else is an assertion.  A claim is checkable when it names a number, a date or
a named entity.  Questions and fragments are not claims.

Entities: a heuristic extractor, not a trained tagger.  It finds percentages, money, dates and
years, capitalised spans (with "of", "for", "de" inside), and acronyms; it labels a span ORG from
a suffix ("Agency", "Inc") or as an acronym, PERSON after a title ("Dr.") or before "said", PLACE
from a short list of well-known places or after "in"/"across", and OTHER otherwise.  It misses
lower-case names, mislabels people named without a title, and cannot tell "Jordan" the country
from the person.  See docs/engine.md.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

from core.engine.state import AnalysisState
from core.engine.text import STOPWORDS
from core.models import Claim, ClaimKind, Entity

__all__ = ["classify_claim", "extract_claims", "extract_entities", "find_entities", "is_checkable"]

_MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December|"
    "Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
)
YEAR_RE = re.compile(r"(?<![\d.,$€£])\b(1[89]\d\d|20\d\d|2100)\b(?![\d%]|[.,]\d)")
PERCENT_RE = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)?\s?(?:%|percent\b|per cent\b|percentage points?\b)")
MONEY_RE = re.compile(
    r"[$€£¥]\s?\d[\d,]*(?:\.\d+)?(?:\s?(?:trillion|billion|million|thousand|bn|m|k)\b)?"
    r"|\b\d[\d,]*(?:\.\d+)?\s?(?:trillion|billion|million|thousand)?\s?"
    r"(?:dollars|euros|pounds|yen|yuan|rupees|USD|EUR|GBP)\b"
)
DATE_RE = re.compile(
    rf"\b(?:\d{{1,2}}\s+(?:{_MONTHS})\.?(?:\s+\d{{4}})?|(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?"
    rf"(?:,?\s+\d{{4}})?|(?:{_MONTHS})\s+\d{{4}}|Q[1-4]\s+\d{{4}}|\d{{4}}-\d{{2}}-\d{{2}})\b"
)
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

_CAPITAL_SPAN_RE = re.compile(
    r"\b[A-Z][\w’'&-]*[a-z][\w’'&-]*(?:\s+(?:(?:of|for|de|du|van|von|der|la|le|&)\s+(?:the\s+)?)?"
    r"[A-Z][\w’'&-]*[a-z][\w’'&-]*)*"
)
_ACRONYM_RE = re.compile(r"\b(?:[A-Z]\.){2,}|\b[A-Z]{2,6}\b")
_TITLE_BEFORE_RE = re.compile(
    r"(?:\b(?:Dr|Mr|Mrs|Ms|Prof|Sir|Dame|President|Senator|Minister|Chancellor|Governor|Mayor|"
    r"Judge|General|CEO|Professor)\.?\s+)$"
)
_SPEECH_AFTER_RE = re.compile(
    r"^\s*(?:,[^,]{1,60},\s*)?(?:said|says|told|argued|argues|wrote|writes|noted|notes|added|"
    r"explained|warned|believes|thinks)\b"
)
_PLACE_BEFORE_RE = re.compile(r"\b(?:in|across|throughout|near)\s+(?:the\s+)?$")
_ORG_SUFFIXES = frozenset(
    """Inc Corp Corporation Ltd LLC PLC Group Company Co University Institute Agency Association
    Bank Council Commission Ministry Department Foundation Organization Organisation Authority Fund
    Party Union Bureau Office Board Committee Society Center Centre Laboratory Labs Industries
    Motors Energy Systems Technologies Partners Capital Holdings Service Services Administration
    Reserve Court Parliament Congress Senate Gamesa Act""".split()
)
_PLACES = frozenset(
    """Africa Asia Europe America Americas Antarctica Australia Oceania Argentina Bangladesh Brazil
    Britain Canada Chile China Colombia Denmark Egypt England Ethiopia France Germany Ghana Greece
    India Indonesia Iran Iraq Ireland Israel Italy Japan Kenya Korea Mexico Morocco Netherlands
    Nigeria Norway Pakistan Peru Philippines Poland Portugal Russia Scotland Spain Sweden
    Switzerland Taiwan Texas California Thailand Turkey Ukraine Vietnam Wales London Paris Berlin
    Tokyo Beijing Delhi Mumbai Shanghai Washington York Chicago Sydney Toronto Nairobi Lagos""".split()
)
_PLACE_ACRONYMS = frozenset({"US", "U.S.", "USA", "U.S.A.", "UK", "U.K.", "UAE", "EU", "E.U."})
_GENERIC_ACRONYMS = frozenset(
    """AI CEO CFO CTO GDP EV EVS PDF URL API IT TV PC USB GPS DNA RNA OK FAQ HTML LED LNG GW MW KW
    KWH MWH GWH TWH AM PM CO NB PS VAT IPO ESG FY HQ ID""".split()
)
_CONNECTOR_RE = re.compile(r"\s+(?:of|for|de|du|van|von|der|la|le|&)\s+(?:the\s+)?")
_PLACE_HEADS = frozenset("Gulf Bay Sea Isle Isles Cape Republic Kingdom State States City Port Mount Lake".split())
_FIGURE_LABELS = frozenset({"DATE", "MONEY", "PERCENT"})
_LEADING_WORDS_RE = re.compile(r"^(?:The|A|An|This|That|These|Those|In|On|At|By|For|From)\s+")


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


def find_entities(text: str) -> Iterator[tuple[str, str]]:
    """``(name, label)`` for each entity mention in one sentence, figures before names."""
    for pattern, label in ((PERCENT_RE, "PERCENT"), (MONEY_RE, "MONEY"), (DATE_RE, "DATE")):
        for match in pattern.finditer(text):
            yield " ".join(match.group().split()), label
    dated = {match.group() for match in DATE_RE.finditer(text)}
    for match in YEAR_RE.finditer(text):
        if not any(match.group() in date for date in dated):
            yield match.group(), "DATE"
    yield from _acronyms(text)
    yield from _named_spans(text)


def _acronyms(text: str) -> Iterator[tuple[str, str]]:
    for match in _ACRONYM_RE.finditer(text):
        name = match.group()
        if name in _PLACE_ACRONYMS:
            yield name, "PLACE"
        elif name.replace(".", "").upper() not in _GENERIC_ACRONYMS:
            yield name, "ORG"


def _named_spans(text: str) -> Iterator[tuple[str, str]]:
    for match in _CAPITAL_SPAN_RE.finditer(text):
        for part, part_start in _split_connectors(match.group(), match.start()):
            yield from _named_span(text, part, part_start)


def _split_connectors(name: str, start: int) -> Iterator[tuple[str, int]]:
    """"Maria Lopez of Acme" is two names; "Bank of England" and "Gulf of Mexico" are one."""
    piece_start = 0
    for connector in _CONNECTOR_RE.finditer(name):
        head = name[piece_start : connector.start()].split()[-1]
        if head not in _ORG_SUFFIXES and head not in _PLACE_HEADS:
            yield name[piece_start : connector.start()], start + piece_start
            piece_start = connector.end()
    yield name[piece_start:], start + piece_start


def _named_span(text: str, span: str, span_start: int) -> Iterator[tuple[str, str]]:
    name, start = _without_leading_words(span, span_start)
    words = name.split()
    if not words or (len(words) == 1 and (start == 0 or name.lower() in STOPWORDS)):
        return
    if len(words) == 1 and re.fullmatch(_MONTHS, words[0]):
        return
    yield name, _span_label(text, name, start)


def _without_leading_words(name: str, start: int) -> tuple[str, int]:
    while match := _LEADING_WORDS_RE.match(name):
        name, start = name[match.end() :], start + match.end()
    if start == 0 or name.split(" ", 1)[0].lower() not in STOPWORDS:
        return name, start
    first, _, rest = name.partition(" ")
    return rest, start + len(first) + 1


def _span_label(text: str, name: str, start: int) -> str:
    words = name.split()
    if words[-1] in _ORG_SUFFIXES or (len(words) > 2 and words[0] in _ORG_SUFFIXES and words[1] in ("of", "for")):
        return "ORG"  # "Energy Agency", "Bank of England", "Ministry of Health"
    if _TITLE_BEFORE_RE.search(text[:start]) or (
        2 <= len(words) <= 3 and _SPEECH_AFTER_RE.match(text[start + len(name) :])
    ):
        return "PERSON"
    if name in _PLACES or words[-1] in _PLACES or _PLACE_BEFORE_RE.search(text[:start]):
        return "PLACE"
    return "OTHER"


def extract_entities(state: AnalysisState) -> list[Entity]:
    """Entities across all sentences, capped by depth: names (most mentioned first), then figures.

    A name's label is the majority of its specific labels; unlabelled (OTHER) names need 2 mentions.
    """
    mentions = Counter[str]()
    labels: dict[str, Counter[str]] = {}
    first_seen: dict[str, int] = {}
    for sentence in state.sentences:
        for name, label in find_entities(sentence.clean):
            mentions[name] += 1
            labels.setdefault(name, Counter())[label] += 1
            first_seen.setdefault(name, sentence.index)
    mentions = _merge_surnames(mentions, labels)
    kept = [name for name in mentions if mentions[name] >= 2 or _label_of(labels[name]) != "OTHER"]
    kept.sort(key=lambda name: (_label_of(labels[name]) in _FIGURE_LABELS, -mentions[name], first_seen[name], name))
    return [
        Entity(name=name, label=_label_of(labels[name]), mentions=mentions[name])
        for name in kept[: state.profile.entities]
    ]


def _label_of(votes: Counter[str]) -> str:
    specific = [(count, label) for label, count in votes.items() if label != "OTHER"]
    if specific:
        return max(specific, key=lambda item: (item[0], item[1]))[1]
    return "OTHER"


def _merge_surnames(mentions: Counter[str], labels: dict[str, Counter[str]]) -> Counter[str]:
    """Count "Lopez" as a mention of "Maria Lopez" when that person is also named in full."""
    people = [name for name in mentions if " " in name and _label_of(labels[name]) == "PERSON"]
    merged = Counter(mentions)
    for name in list(merged):
        if " " in name:
            continue
        owners = [person for person in people if person.split()[-1] == name]
        if len(owners) == 1:
            merged[owners[0]] += merged.pop(name)
    return merged
