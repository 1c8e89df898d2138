"""Named entities and figures, read from the surface of the text: no trained tagger.

Figures come from regular expressions: percentages, amounts of money (with a currency word or
sign), dates (day month year, month year, ISO, quarters) and years.

Names are runs of capitalised words (with "of", "for", "de", "van", "und" ... inside, and a model
number such as "RTX 4070" or "Pebble 2" at the end), plus acronyms.  Each mention is labelled from
what is around it, strongest cue first (:mod:`core.engine.gazetteer` holds the word lists):

* EVENT: a head word ("Northern Cup", "Affordable Homes Bill"), a known name ("El Niño"), or a
  following event noun ("the Sunset Ridge fire");
* ORG: a suffix ("Agency", "AG", "University"), "University of ...", an organisation noun next to
  it ("the utility EnerNord", "Quillon shares"), or an acronym (a weak cue);
* PRODUCT: a model number, a product head ("Telescope") or a following product noun ("the R21
  vaccine");
* PERSON: a title or role before ("Dr.", "goalkeeper"), a speech verb around ("said"), or an
  apposition after (", a coral ecologist", ", 47,");
* PLACE: a known place, a place head ("Coral Sea", "Lake Victoria"), "-based", "north of", or
  (a weak cue) "in"/"near"/"across" before.

Names listed together ("Antwerp and Hamburg") share the label of the one that has a cue.  Over the
whole text, each name's label is the one with the most cue weight; a surname alone, an
organisation's first word ("Nordlink" for "Nordlink Rail"), its name without the suffix, and an
acronym of its initials are merged into the full name.  A name with no label needs two mentions,
as does a bare year.  A single capitalised word opening a sentence counts only if it is a known
place or appears elsewhere inside a sentence.  See docs/engine.md for the measured quality.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import pairwise

from core.engine import gazetteer as gz
from core.engine.state import AnalysisState
from core.engine.text import STOPWORDS
from core.models import Entity

__all__ = [
    "DATE_RE",
    "MONEY_RE",
    "PERCENT_RE",
    "YEAR_RE",
    "Mention",
    "extract_entities",
    "find_entities",
    "find_mentions",
]

_MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December|"
    "Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
)
YEAR_RE = re.compile(r"(?<![\d.,$€£])\b(1[89]\d\d|20\d\d|2100)\b(?![\d%]|[.,]\d)")
PERCENT_RE = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)?\s?(?:%|percent\b|per cent\b|percentage points?\b)")
MONEY_RE = re.compile(
    r"[$€£¥]\s?\d[\d,]*(?:\.\d+)?(?:\s?(?:trillion|billion|million|thousand|bn|m|k)\b)?"
    r"|\b\d[\d,]*(?:\.\d+)?\s?(?:trillion|billion|million|thousand)?\s?"
    r"(?:(?:Australian|Canadian|US|Hong Kong|New Zealand|Singapore)\s)?"
    r"(?:dollars?|euros?|pounds?|yen|yuan|rupees?|francs?|USD|EUR|GBP)\b"
)
DATE_RE = re.compile(
    rf"\b(?:\d{{1,2}}\s+(?:{_MONTHS})\.?(?:\s+\d{{4}})?|(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?"
    rf"(?:,?\s+\d{{4}})?|(?:{_MONTHS})\s+\d{{4}}|Q[1-4]\s+\d{{4}}|\d{{4}}-\d{{2}}-\d{{2}})\b"
)

_WORD = r"[A-Z][\w’'&-]*(?:\.[a-z]+)?"
_NUMBER = (
    r"\d+[a-z]{0,2}\b(?![\d%/-]|[.,]\d|\s?(?:%|percent|per\b|million|billion|thousand|kilo\w*|km|hectares|"
    r"people|years?|months?|weeks?|days?|hours?|minutes?|degrees?|times|to\b|and\b|or\b))"
)
_CONNECTOR = r"(?:of|for|de|del|della|do|da|dos|das|du|van|von|der|den|la|le|und|y|&)(?:\s+the)?"
_SPAN_RE = re.compile(rf"\b{_WORD}(?:\s+(?:{_CONNECTOR}\s+)?{_WORD}|\s+{_NUMBER})*")
#: "Social and Economic Council": "and" inside an organisation's name.
_AND_ORG_RE = re.compile(
    rf"\b{_WORD}\s+and\s+(?:{_WORD}\s+)*(?:" + "|".join(sorted(gz.ORG_SUFFIXES)) + r")\b"
)
_ACRONYM_RE = re.compile(r"\b(?:[A-Z]\.){2,}|\b[A-Z]{2,6}\b")
_CAPITAL_BEFORE_RE = re.compile(r"[A-Z][\w’'&-]*\s+$")
_INNER_POSSESSIVE_RE = re.compile(r"(\S+)[’']s\s+")
_SPLITTING_CONNECTOR_RE = re.compile(r"\s+(?:of|for)\s+(?:the\s+)?")
_LEADING_WORDS_RE = re.compile(r"^(?:The|A|An|This|That|These|Those|In|On|At|By|For|From)\s+")
_POSSESSIVE_RE = re.compile(r"(?:[’']s|(?<=s)[’'])$")
_TITLE_BEFORE_RE = re.compile(
    r"\b(?:" + "|".join(re.escape(title.rstrip(".")) for title in sorted(gz.PERSON_TITLES)) + r")\.?\s+$"
)
_ROLE_BEFORE_RE = re.compile(r"\b(?:" + "|".join(sorted(gz.ROLE_NOUNS)) + r")\s*,?\s+$")
_SPEECH_AFTER_RE = re.compile(
    r"^\s*(?:,[^,]{1,60},\s*)?(?:said|says|told|argued|argues|wrote|writes|noted|notes|added|"
    r"explained|warned|believes|thinks|recalled|replied|asked)\b"
)
_SPEECH_BEFORE_RE = re.compile(r"\b(?:said|says|added|wrote|asked|according to)\s+$")
_APPOSITION_RE = re.compile(
    r"^,\s+(?:\d{1,3},|(?:(?:a|an|the|his|her|its|their)\s+)?(?:[\w’'-]+\s+){0,3}?(?:"
    + "|".join(sorted(gz.ROLE_NOUNS))
    + r")\b)"
)
_ORG_NOUN_BEFORE_RE = re.compile(r"\b(?:the|a|an)\s+(?:[\w-]+\s+)?(?:" + "|".join(sorted(gz.ORG_NOUNS_AROUND)) + r")\s+$")
_ORG_APPOSITION_RE = re.compile(
    r"^,\s+(?:a|an|the)\s+(?:[\w-]+\s+){0,3}?(?:" + "|".join(sorted(gz.ORG_NOUNS_AROUND)) + r")\b"
)
_PRODUCT_BEFORE_RE = re.compile(r"\b(?:novel|book|film|movie|album|song|game|app|play|opera|memoir)\s+(?:The\s+)?$")
_ORG_AFTER_RE = re.compile(
    r"^(?:[’']s)?\s+(?:chief executive|chief financial officer|chief|chairman|chairwoman|co-founder|founder|"
    r"shares|shareholders|stock|spokes\w+|board)\b"
)
_PLACE_BEFORE_STRONG_RE = re.compile(r"\b(?:north|south|east|west|northeast|northwest|southeast|southwest)\s+of\s+(?:the\s+)?$")
_PLACE_BEFORE_WEAK_RE = re.compile(r"\b(?:in|near|across|throughout|outside|around)\s+(?:the\s+)?$")
_PLACE_AFTER_RE = re.compile(r"^(?:-based\b|\s+(?:region|province|county|state|area|coast|valley|district|basin|delta)\b)")
_PRODUCT_AFTER_RE = re.compile(r"^\s+(?:[a-z-]+\s+)?(?:" + "|".join(sorted(gz.PRODUCT_NOUNS_AFTER)) + r")\b")
_EVENT_AFTER_RE = re.compile(r"^\s+(" + "|".join(sorted(gz.EVENT_NOUNS_AFTER)) + r")\b")
_LIST_GAP_RE = re.compile(r"^(?:,\s+|\s+and\s+|\s+or\s+|,\s+and\s+|,\s+or\s+)$")
_PLACE_NUMBERED = frozenset({"Highway", "Route", "Interstate", "Terminal", "Pier", "Platform"})
_EVENT_FIRST_WORDS = frozenset({"Hurricane", "Storm", "Cyclone", "Typhoon", "Operation", "Tropical"})
_FIGURE_LABELS = frozenset({"DATE", "MONEY", "PERCENT"})
_LONE_ORGS = frozenset({"Parliament", "Congress", "Senate", "Government", "Cabinet", "Generalitat"})
_STRONG, _WEAK = 2, 1


@dataclass(frozen=True, slots=True)
class Mention:
    """One mention of a name or figure in one sentence, with the label its context gives."""

    name: str
    label: str
    weight: int = _STRONG
    initial: bool = False


# --- Mentions in one sentence ----------------------------------------------------------------


def find_entities(text: str) -> Iterator[tuple[str, str]]:
    """``(name, label)`` for each entity mention in one sentence, figures before names.

    A lone capitalised word opening the sentence is left out unless it is a known place.
    """
    for mention in find_mentions(text):
        if not mention.initial or mention.label == "PLACE":
            yield mention.name, mention.label


def find_mentions(text: str) -> list[Mention]:
    """Every figure and name mention of one sentence, figures first, names in order."""
    mentions = list(_figures(text))
    spans = _name_spans(text)
    taken = [(start, end) for start, end, _ in spans]
    for match in _ACRONYM_RE.finditer(text):
        if not any(start <= match.start() < end for start, end in taken):
            spans.append((match.start(), match.end(), _acronym_mention(match.group())))
    spans.sort(key=lambda item: item[0])
    labelled = _share_list_labels(text, spans)
    return mentions + [mention for mention in labelled if mention is not None]


def _figures(text: str) -> Iterator[Mention]:
    for pattern, label in ((PERCENT_RE, "PERCENT"), (MONEY_RE, "MONEY"), (DATE_RE, "DATE")):
        for match in pattern.finditer(text):
            yield Mention(" ".join(match.group().split()), label)
    dated = [match.span() for match in DATE_RE.finditer(text)]
    for match in YEAR_RE.finditer(text):
        if not any(start <= match.start() < end for start, end in dated):
            yield Mention(match.group(), "DATE", _WEAK)


def _acronym_mention(name: str) -> Mention | None:
    if name in gz.PLACE_ACRONYMS:
        return Mention(name, "PLACE")
    if name.replace(".", "").upper() in gz.GENERIC_ACRONYMS or name in gz.NOT_NAMES:
        return None
    return Mention(name, "ORG", _WEAK)


def _name_spans(text: str) -> list[tuple[int, int, Mention | None]]:
    """``(start, end, mention)`` of each capitalised name; the mention is None for a non-name."""
    joined = [
        match for match in _AND_ORG_RE.finditer(text)
        if match.group().split()[0] not in gz.NOT_NAMES and not _CAPITAL_BEFORE_RE.search(text, 0, match.start())
    ]
    spans: list[tuple[int, int, Mention | None]] = [
        (match.start(), match.end(), Mention(match.group(), "ORG")) for match in joined
    ]
    for match in _SPAN_RE.finditer(text):
        if any(other.start() <= match.start() < other.end() for other in joined):
            continue
        for part, start in _parts(match.group(), match.start()):
            name, start = _without_leading_words(part, start, at_start=_at_start(text, start))
            name = _POSSESSIVE_RE.sub("", name)
            if len(name) > 1 and name[0].isupper():
                spans.append((start, start + len(name), _name_mention(text, name, start)))
    return spans


def _parts(span: str, start: int) -> Iterator[tuple[str, int]]:
    """A span cut at "of"/"for" between two names ("Maria Lopez of Acme") and after a title."""
    piece_start = 0
    for connector in _SPLITTING_CONNECTOR_RE.finditer(span):
        head = span[piece_start : connector.start()].split()[-1]
        if head not in gz.ORG_SUFFIXES and head not in gz.ORG_HEADS_OF and head not in gz.PLACE_HEADS \
                and head not in gz.PLACE_FIRST_WORDS:
            yield from _after_possessive(span[piece_start : connector.start()], start + piece_start)
            piece_start = connector.end()
    yield from _after_possessive(span[piece_start:], start + piece_start)


def _after_possessive(part: str, start: int) -> Iterator[tuple[str, int]]:
    """"Porto's Foz do Douro" is two places when the owner is a known place."""
    match = _INNER_POSSESSIVE_RE.match(part)
    if match and match.group(1) in gz.PLACES:
        yield match.group(1), start
        yield from _after_title(part[match.end() :], start + match.end())
    else:
        yield from _after_title(part, start)


def _after_title(part: str, start: int) -> Iterator[tuple[str, int]]:
    """"Fed Chair Daniel Rhodes" is "Fed" and "Daniel Rhodes"; "General Motors" stays whole."""
    words = part.split(" ")
    for position, word in enumerate(words[:-1]):
        rest = words[position + 1 :]
        if word.rstrip(".") in gz.PERSON_TITLES and rest[-1] not in gz.ORG_SUFFIXES and position + 1 < len(words):
            before = " ".join(words[:position])
            if before:
                yield before, start
            offset = len(" ".join(words[: position + 1])) + 1
            yield " ".join(rest), start + offset
            return
    yield part, start


def _without_leading_words(name: str, start: int, *, at_start: bool) -> tuple[str, int]:
    """Without an opening "The", "In", ..., a weekday ("Saturday 14 June") or a sentence's first word."""
    while match := _LEADING_WORDS_RE.match(name):
        name, start = name[match.end() :], start + match.end()
    first, _, rest = name.partition(" ")
    if rest and (first in gz.NOT_NAMES or (at_start and first.lower() in STOPWORDS)):
        return rest, start + len(first) + 1
    return name, start


def _name_mention(text: str, name: str, start: int) -> Mention | None:
    words = name.split()
    if len(words) == 1 and (name.lower() in STOPWORDS or name in gz.NOT_NAMES or name in gz.DEMONYMS):
        return None
    if words[0] in gz.NOT_NAMES or name in gz.PERSON_TITLES or name.rstrip(".") in gz.PERSON_TITLES:
        return None  # "June 2022" is a date, found as one
    if len(words) == 1 and name.isupper() and name.isalpha():
        return _acronym_mention(name)
    initial = len(words) == 1 and _at_start(text, start)
    label, weight = _label(text, name, start)
    return Mention(name, label, weight, initial=initial)


def _at_start(text: str, start: int) -> bool:
    return not text[:start].strip(" \"“‘'(")


def _label(text: str, name: str, start: int) -> tuple[str, int]:
    """The label a name's own words and its neighbours give, and how strong that cue is."""
    words = name.split()
    before, after = text[:start], text[start + len(name) :]
    for rule in (_event_cue, _org_cue, _product_cue, _person_cue, _place_cue):
        found = rule(name, words, before, after)
        if found is not None:
            return found
    return "OTHER", 0


def _event_cue(name: str, words: list[str], before: str, after: str) -> tuple[str, int] | None:
    if name in gz.EVENT_NAMES or words[-1] in gz.EVENT_HEADS or (len(words) > 1 and words[0] in _EVENT_FIRST_WORDS):
        return "EVENT", _STRONG
    if _EVENT_AFTER_RE.match(after):
        return "EVENT", _STRONG
    return None


def _org_cue(name: str, words: list[str], before: str, after: str) -> tuple[str, int] | None:
    if words[-1] in gz.ORG_SUFFIXES and (len(words) > 1 or name in _LONE_ORGS):
        return "ORG", _STRONG
    if any(word in gz.ORG_HEADS_OF or word in gz.ORG_SUFFIXES for word, following in pairwise(words)
           if following in ("of", "for")):
        return "ORG", _STRONG  # "Ministry of Health", "Serum Institute of India"
    if _ORG_NOUN_BEFORE_RE.search(before) or _ORG_AFTER_RE.match(after) or _ORG_APPOSITION_RE.match(after):
        return "ORG", _STRONG
    return None


def _product_cue(name: str, words: list[str], before: str, after: str) -> tuple[str, int] | None:
    if any(character.isdigit() for character in name):
        return ("PLACE", _STRONG) if words[0] in _PLACE_NUMBERED else ("PRODUCT", _STRONG)
    if (len(words) > 1 and words[-1] in gz.PRODUCT_HEADS) or _PRODUCT_AFTER_RE.match(after) \
            or _PRODUCT_BEFORE_RE.search(before):
        return "PRODUCT", _STRONG
    return None


def _person_cue(name: str, words: list[str], before: str, after: str) -> tuple[str, int] | None:
    if len(words) > 4 or not all(word[0].isupper() and word.replace("-", "").replace("’", "").replace("'", "").isalpha()
                                 for word in words if word not in ("de", "van", "von", "der", "da", "do", "du")):
        return None
    if _TITLE_BEFORE_RE.search(before) or _ROLE_BEFORE_RE.search(before):
        return "PERSON", _STRONG
    if len(words) >= 2 and name not in gz.PLACES and (
        _SPEECH_AFTER_RE.match(after) or _SPEECH_BEFORE_RE.search(before) or _APPOSITION_RE.match(after)
    ):
        return "PERSON", _STRONG
    return None


def _place_cue(name: str, words: list[str], before: str, after: str) -> tuple[str, int] | None:
    if name in gz.PLACES or _PLACE_AFTER_RE.match(after) or _PLACE_BEFORE_STRONG_RE.search(before):
        return "PLACE", _STRONG
    if len(words) > 1 and (words[-1] in gz.PLACE_HEADS or words[0] in gz.PLACE_FIRST_WORDS):
        return "PLACE", _STRONG
    if _PLACE_BEFORE_WEAK_RE.search(before):
        return "PLACE", _WEAK
    return None


def _share_list_labels(text: str, spans: list[tuple[int, int, Mention | None]]) -> list[Mention | None]:
    """Names listed together ("Antwerp and Hamburg") take the label of a listed name that has one."""
    mentions = [mention for _, _, mention in spans]
    for _ in range(2):
        for position in range(len(spans) - 1):
            left, right = mentions[position], mentions[position + 1]
            if left is None or right is None or not _LIST_GAP_RE.match(text[spans[position][1] : spans[position + 1][0]]):
                continue
            if left.weight and not right.weight:
                mentions[position + 1] = Mention(right.name, left.label, _WEAK, right.initial)
            elif right.weight and not left.weight:
                mentions[position] = Mention(left.name, right.label, _WEAK, left.initial)
    return mentions


# --- Entities of a whole text ----------------------------------------------------------------


@dataclass(slots=True)
class _Tally:
    mentions: int = 0
    first_seen: int = 0
    inside: bool = False
    votes: Counter[str] = field(default_factory=Counter)

    @property
    def label(self) -> str:
        cued = [(weight, label) for label, weight in self.votes.items() if weight > 0 and label != "OTHER"]
        return max(cued)[1] if cued else "OTHER"

    def absorb(self, other: _Tally) -> None:
        self.mentions += other.mentions
        self.first_seen = min(self.first_seen, other.first_seen)
        self.inside = self.inside or other.inside
        self.votes.update(other.votes)


def extract_entities(state: AnalysisState) -> list[Entity]:
    """Entities across all sentences, capped by depth: names (most mentioned first), then figures."""
    tallies: dict[str, _Tally] = {}
    for sentence in state.sentences:
        for mention in find_mentions(sentence.clean):
            tally = tallies.setdefault(mention.name, _Tally(first_seen=sentence.index))
            tally.mentions += 1
            tally.inside = tally.inside or not mention.initial
            tally.votes[mention.label] += mention.weight
    tallies = {name: tally for name, tally in tallies.items() if tally.inside or name in gz.PLACES}
    _merge_aliases(tallies)
    kept = [name for name, tally in tallies.items() if _keep(name, tally)]
    kept.sort(key=lambda name: (tallies[name].label in _FIGURE_LABELS, -tallies[name].mentions, tallies[name].first_seen, name))
    return [
        Entity(name=name, label=tallies[name].label, mentions=tallies[name].mentions)
        for name in kept[: state.profile.entities]
    ]


def _keep(name: str, tally: _Tally) -> bool:
    if tally.label == "OTHER" or (tally.label == "DATE" and YEAR_RE.fullmatch(name)):
        return tally.mentions >= 2
    return True


def _merge_aliases(tallies: dict[str, _Tally]) -> None:
    """Fold short forms into the full name they stand for (the first one named, if several fit)."""
    full_names = [name for name in tallies if " " in name and tallies[name].label not in _FIGURE_LABELS]
    for name in list(tallies):
        if tallies[name].label in _FIGURE_LABELS or name in gz.PLACES:
            continue
        owners = [
            full for full in full_names
            if full != name and full in tallies and _stands_for(name, full, tallies[full].label)
        ]
        if owners:
            owner = min(owners, key=lambda full: tallies[full].first_seen)
            tallies[owner].absorb(tallies.pop(name))


def _stands_for(short: str, full: str, label: str) -> bool:
    """Whether ``short`` is another way of naming ``full``.

    "Lopez" or "Tavares Lopes" for a person; "FOMC" for the initials; for anything else its first
    word ("Nordlink" for "Nordlink Rail", "Harbour" for "Harbour City"), its name without the
    suffix ("Baltic Freight" for "Baltic Freight Lines"), or the last word of a name without
    "of" ("Rovers" for "Ridgeway Rovers").
    """
    words = full.split()
    if label == "PERSON":
        return full.endswith(" " + short)
    if short.isupper() and len(short) >= 2:
        return short == "".join(word[0] for word in words if word[0].isupper())
    if " " in short:
        return full == f"{short} {words[-1]}" and words[-1] in gz.ORG_SUFFIXES
    if short == words[0]:
        return True
    return short == words[-1] and not _SPLITTING_CONNECTOR_RE.search(full) and short not in gz.PLACE_HEADS
