"""Text features the hit verifier compares between a query and a stored entry.

Everything here is pure and blocking-cheap (tens of microseconds a text): a lemma-ish token
normaliser with aliases (``US`` / ``United States``), and the facts two near-identical requests
must agree on before one may answer the other: numbers and years, negation, the direction of an
asymmetric relation (``A beat B`` / ``B beat A``), and the content words, each weighted by how rare
it is in general English (a missing ``the`` costs nothing, a missing ``Samsung`` a lot).

Word rarity comes from the ``wordfreq`` package (general web/subtitle/news frequencies, not fitted
on any cache data).  See ``docs/cache_verification.md`` for the reasoning behind each feature.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["PairFeatures", "TextProfile", "compare_profiles", "profile_text"]

_log = logging.getLogger(__name__)

# Words that carry no topic: function words and the glue of a question.  Their presence or absence
# never makes two requests different (their rarity weight would be near zero anyway).
_FUNCTION_WORDS = frozenset(
    """
    a an the and or but if of to in on at by for with from into onto about as than then so such
    is are was were be been being am do does did done doing have has had having will would shall
    should can could may might must i me my mine we us our ours you your yours he him his she her
    hers it its they them their theirs this that these those there here what which who whom whose
    how when where why whether also just very really ever even still some any all each every both
    much many more most other another same own only too quite rather get got gets getting make
    makes one ones thing things way ways someone something anyone anything people person please
    tell know want need like good best better way use using used s t
    """.split()
)
# Interrogatives that change what is asked ("why are bridges used" is not "how are bridges used").
_SIGNIFICANT_QUESTION_WORDS = frozenset({"why", "when", "where", "who"})
_ARTICLES = frozenset({"a", "an", "the"})
_NEGATIONS = frozenset({"not", "no", "never", "without", "nobody", "nothing", "none", "neither", "nor"})
# Words after which the order of the two sides matters.
_ASYMMETRIC_MARKERS = frozenset(
    {"than", "beat", "beats", "defeat", "defeated", "defeats", "to", "from",
     "over", "before", "after", "into", "outperform", "outperformed", "outsell", "outsold"}
)
# Multi-word and short forms mapped to one canonical token.  Keys are token tuples.
_ALIASES: dict[tuple[str, ...], str] = {
    ("united", "states", "of", "america"): "united_states",
    ("united", "states"): "united_states",
    ("usa",): "united_states",
    ("america",): "united_states",
    ("united", "kingdom"): "united_kingdom",
    ("great", "britain"): "united_kingdom",
    ("britain",): "united_kingdom",
    ("uk",): "united_kingdom",
    ("european", "union"): "european_union",
    ("eu",): "european_union",
    ("united", "nations"): "united_nations",
    ("new", "york", "city"): "nyc",
    ("artificial", "intelligence"): "ai",
    ("machine", "learning"): "ml",
    ("television",): "tv",
    ("fridge",): "refrigerator",
    ("photo",): "picture",
    ("pic",): "picture",
    ("image",): "picture",
    ("film",): "movie",
    ("automobile",): "car",
    ("purchase",): "buy",
    ("begin",): "start",
    ("fastest",): "quickest",
    ("easiest",): "simplest",
    ("versus",): "vs",
    ("mobile", "phone"): "phone",
    ("cell", "phone"): "phone",
    ("smartphone",): "phone",
    ("govt",): "government",
    ("programme",): "program",
    ("colour",): "color",
}
_NUMBER_WORDS = {
    "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
    "seven": "7", "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12",
    "twenty": "20", "thirty": "30", "fifty": "50", "hundred": "100", "thousand": "1000",
}
_CONTRACTIONS = (
    (re.compile(r"\bcan'?t\b"), "can not"),
    (re.compile(r"\bwon'?t\b"), "will not"),
    (re.compile(r"n't\b"), " not"),
    (re.compile(r"'s\b"), ""),
)
_US_ABBREVIATION = re.compile(r"\bU\.?S\.?(?:A\.?)?(?=\W|$)")
_UK_ABBREVIATION = re.compile(r"\bU\.?K\.?(?=\W|$)")
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*[a-z]*|[a-z]+(?:\+\+|#)?")  # keeps C++, C#, F#
_DIGIT_TOKEN = re.compile(r"(\d+(?:[.,]\d+)*)([a-z]*)")
_INFLECTIONS = frozenset({"s", "es", "ing", "ed", "d", "er", "ly"})
_MAX_ALIAS_LENGTH = max(len(key) for key in _ALIASES)


@dataclass(frozen=True, slots=True)
class TextProfile:
    """What the verifier needs to know about one text."""

    tokens: tuple[str, ...]
    content: frozenset[str]
    numbers: frozenset[str]
    negated: bool


@dataclass(frozen=True, slots=True)
class PairFeatures:
    """How a query and a candidate differ, beyond their cosine similarity."""

    numbers_differ: bool
    negation_differs: bool
    direction_swapped: bool
    query_only_weight: float
    """Sum of the rarity weights of the query's content words the candidate lacks."""
    candidate_only_weight: float
    """Sum of the rarity weights of the candidate's content words the query lacks."""
    max_unmatched_weight: float
    """The rarest single unmatched word's weight (a lone missing entity)."""
    same_wording: bool
    """Word for word the same request once aliases, plurals, articles and one-letter typos are
    forgiven (``populaton`` / ``population``, ``AI`` / ``artificial intelligence``)."""

    @property
    def unmatched_weight(self) -> float:
        return self.query_only_weight + self.candidate_only_weight

    @property
    def substitution_weight(self) -> float:
        """What was swapped rather than added: ``Apple`` -> ``Microsoft`` counts, ``exactly`` does not."""
        return min(self.query_only_weight, self.candidate_only_weight)

    @property
    def hard_mismatch(self) -> bool:
        return self.numbers_differ or self.negation_differs or self.direction_swapped


def profile_text(text: str) -> TextProfile:
    """Normalise ``text`` into tokens, content words, numbers and a negation flag."""
    tokens = tuple(_normalise_token(token) for token in _apply_aliases(_tokenise(text)))
    numbers = frozenset(token[1:] for token in tokens if token.startswith("#"))
    negated = any(token in _NEGATIONS for token in tokens)
    content = frozenset(
        token
        for token in tokens
        if not token.startswith("#")
        and token not in _NEGATIONS
        and (token not in _FUNCTION_WORDS or token in _SIGNIFICANT_QUESTION_WORDS)
    )
    return TextProfile(tokens=tokens, content=content, numbers=numbers, negated=negated)


def compare_profiles(
    query: TextProfile, candidate: TextProfile, *, rarity: Callable[[str], float]
) -> PairFeatures:
    """Compare two profiles; ``rarity(word)`` weighs a content word one side lacks."""
    query_only = [rarity(word) for word in _unmatched(query.content, candidate.content)]
    candidate_only = [rarity(word) for word in _unmatched(candidate.content, query.content)]
    return PairFeatures(
        numbers_differ=query.numbers != candidate.numbers,
        negation_differs=query.negated != candidate.negated,
        direction_swapped=_direction_swapped(query, candidate),
        query_only_weight=sum(query_only),
        candidate_only_weight=sum(candidate_only),
        max_unmatched_weight=max(query_only + candidate_only, default=0.0),
        same_wording=_same_wording(query.tokens, candidate.tokens),
    )


def _tokenise(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).replace("\u2019", "'").replace("`", "'")
    text = _US_ABBREVIATION.sub(" usa ", text)
    text = _UK_ABBREVIATION.sub(" uk ", text)
    text = text.casefold()
    for pattern, replacement in _CONTRACTIONS:
        text = pattern.sub(replacement, text)
    return _TOKEN.findall(text)


def _normalise_token(token: str) -> str:
    """Numbers become ``#<value>``; words lose a plural ending (lemma-ish, never a stemmer)."""
    digit = _DIGIT_TOKEN.fullmatch(token)
    if digit is not None:
        value, suffix = digit.groups()
        value = value.replace(",", "")
        if suffix in {"st", "nd", "rd", "th", "s"}:
            suffix = ""
        return f"#{value}{suffix}"
    if token in _NUMBER_WORDS:
        return f"#{_NUMBER_WORDS[token]}"
    if "_" in token:  # an alias's canonical form
        return token
    return _singular(token)


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ches", "shes", "xes", "sses")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _apply_aliases(tokens: list[str]) -> list[str]:
    result: list[str] = []
    position = 0
    while position < len(tokens):
        for length in range(min(_MAX_ALIAS_LENGTH, len(tokens) - position), 0, -1):
            canonical = _ALIASES.get(tuple(tokens[position : position + length]))
            if canonical is not None:
                result.append(canonical)
                position += length
                break
        else:
            result.append(tokens[position])
            position += 1
    return result


def _unmatched(words: frozenset[str], others: frozenset[str]) -> list[str]:
    """Words of ``words`` with no exact, inflected or one-typo counterpart in ``others``."""
    extra = others - words
    return [word for word in words - others if not any(_same_word(word, other) for other in extra)]


def _same_word(word: str, other: str) -> bool:
    shorter, longer = sorted((word, other), key=len)
    if len(shorter) < 4 or len(longer) - len(shorter) > 3:
        return False
    if longer.startswith(shorter) and longer[len(shorter) :] in _INFLECTIONS:
        return True
    if len(longer) - len(shorter) > 1:
        return False
    # One typo: any single edit from 5 letters on; from 4, only a dropped or doubled letter
    # ("lern", "aple"), never a changed one ("Iran" / "Iraq").
    return (len(shorter) >= 5 or len(longer) > len(shorter)) and _within_one_edit(word, other)


def _within_one_edit(first: str, second: str) -> bool:
    """True when one substitution, insertion, deletion or adjacent swap turns one into the other."""
    if first == second:
        return True
    if len(first) == len(second):
        differences = [index for index, (a, b) in enumerate(zip(first, second, strict=True)) if a != b]
        if len(differences) == 1:
            return True
        return (
            len(differences) == 2
            and differences[1] == differences[0] + 1
            and first[differences[0]] == second[differences[1]]
            and first[differences[1]] == second[differences[0]]
        )
    shorter, longer = sorted((first, second), key=len)
    for index in range(len(longer)):
        if longer[:index] + longer[index + 1 :] == shorter:
            return True
    return False


def _direction_swapped(query: TextProfile, candidate: TextProfile) -> bool:
    """True when a word left of a marker in one text is right of it in the other, and vice versa.

    ``Python faster than Ruby`` / ``Ruby faster than Python``; ``from London to Paris`` /
    ``from Paris to London``.
    """
    for query_left, query_right in _relation_sides(query.tokens):
        for candidate_left, candidate_right in _relation_sides(candidate.tokens):
            moved_right = (query_left - query_right) & (candidate_right - candidate_left)
            moved_left = (query_right - query_left) & (candidate_left - candidate_right)
            if moved_right and moved_left:
                return True
    return False


def _relation_sides(tokens: tuple[str, ...]) -> list[tuple[frozenset[str], frozenset[str]]]:
    """For each asymmetric marker: the content tokens before it and after it."""
    sides = []
    for index, token in enumerate(tokens):
        if token in _ASYMMETRIC_MARKERS:
            left = frozenset(word for word in tokens[:index] if _is_content(word))
            right = frozenset(word for word in tokens[index + 1 :] if _is_content(word))
            if left and right:
                sides.append((left, right))
    return sides


def _same_wording(first: tuple[str, ...], second: tuple[str, ...]) -> bool:
    first_words = [token for token in first if token not in _ARTICLES]
    second_words = [token for token in second if token not in _ARTICLES]
    return len(first_words) == len(second_words) and all(
        a == b or _same_word(a, b) for a, b in zip(first_words, second_words, strict=True)
    )


def _is_content(token: str) -> bool:
    return token.startswith("#") or (token not in _FUNCTION_WORDS and token not in _ASYMMETRIC_MARKERS)
