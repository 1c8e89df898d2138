"""The cache's default hit decider: certain vetoes, then the trained cross-encoder's probability.

:class:`LearnedDecider` implements :class:`~core.cache.decision.HitDecider`.  For the nearest stored
entries of a lookup (best first, already filtered to the guild and namespace) it:

1. drops candidates under the guild's cosine floor (``cache_similarity_threshold``), candidates
   more than :data:`SIMILARITY_MARGIN` less similar than the nearest one, and candidates the guild
   marked "wrong answer" for this very query; a candidate under the floor is kept only when it is
   the query itself once both are spelled alike (3.): typos and short forms move a short request's
   embedding far ("explain how blockchian works" is 0.41 from its correct spelling) without
   changing the request;
2. vetoes what is certain without a model: both sides name numbers (years, versions, amounts,
   ordinals; ``Q3`` and ``third`` are both 3) and they are not the same numbers; or both use the
   same words with two of them trading places (``core.cache.pair_text.is_role_swap``); or they
   differ in one place only, where one says the opposite of the other or names another place
   (``is_contrast``); or one asks about the future and the other about the past
   (``is_tense_contrast``); all judged on the pair as spelled for the model (3.), so a passive swap
   is a role swap;
3. scores the rest with the cross-encoder (:mod:`core.inference.cross_encoder`) in one batched forward
   pass, after spelling both sides alike where they certainly agree (contractions, aliases, passive
   questions made active, typos:
   ``core.cache.pair_text.prepare_pair``), and serves the most probable candidate when its probability reaches the strictness level's
   threshold (from the model's ``verifier.json``, chosen on a QQP calibration split);
4. reports a candidate whose probability falls in the model's judge band as *borderline*, so a guild
   that turned on LLM verification can ask the LLM (the cache does that; a failing LLM is a miss).

Blocking (tokenising and the forward pass): it runs inside the cache's gate job.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Sequence

import numpy as np

from core.cache.decision import Candidate, Decision
from core.cache.keys import normalise_query
from core.cache.pair_text import is_contrast, is_role_swap, is_tense_contrast, prepare_pair
from core.errors import ConfigError
from core.inference.cross_encoder import CrossEncoder

__all__ = ["SIMILARITY_MARGIN", "STRICTNESS_LEVELS", "LearnedDecider", "number_values"]

_log = logging.getLogger(__name__)

STRICTNESS_LEVELS = ("lenient", "balanced", "strict")
_NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fifteen": 15, "twenty": 20,
    "thirty": 30, "forty": 40, "fifty": 50, "hundred": 100, "thousand": 1000,
    "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9,
    "tenth": 10, "twelfth": 12, "twentieth": 20, "hundredth": 100,
}
# "first" is left out on purpose: "the first cause" is a scope word as often as a number.
_NUMBER = re.compile(r"(?<![a-z\d])(\d+(?:[.,]\d+)*)(?:st|nd|rd|th|s|bn|m|k|%)?(?![\d])", re.IGNORECASE)
_WORD = re.compile(r"[a-z]+")
_QUARTER = re.compile(r"\bq([1-4])\b")  # "Q3" is the third quarter


def number_values(text: str) -> frozenset[str]:
    """The numbers a request names, as canonical strings (``"2,000"`` and ``"2000"`` agree; ``"LVIII"``
    is 58)."""
    lowered = text.casefold()
    values = {match.group(1).replace(",", "").rstrip(".") for match in _NUMBER.finditer(lowered)}
    values |= {str(_NUMBER_WORDS[word]) for word in _WORD.findall(lowered) if word in _NUMBER_WORDS}
    values |= set(_QUARTER.findall(lowered))
    values |= {str(_roman(match[1])) for match in _ROMAN_AFTER_NAME.finditer(text) if _ROMAN.fullmatch(match[1])}
    return frozenset(_canonical(value) for value in values if value)


# Upper-case Roman numerals of two letters or more after a capitalised word ("Super Bowl LVIII",
# "World War II", "Henry VIII"); one letter is too often a word or a name ("I", "X").
_ROMAN_AFTER_NAME = re.compile(r"\b[A-Z][a-z]+ ([MDCLXVI]{2,})\b")
_ROMAN = re.compile(r"M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})")
_ROMAN_VALUES = {"M": 1000, "D": 500, "C": 100, "L": 50, "X": 10, "V": 5, "I": 1}


def _roman(numeral: str) -> int:
    values = [_ROMAN_VALUES[letter] for letter in numeral]
    return sum(-value if value < following else value
               for value, following in zip(values, [*values[1:], 0], strict=True))


def _canonical(value: str) -> str:
    if "." in value:
        value = value.rstrip("0").rstrip(".")
    return value.lstrip("0") or "0"


#: Only candidates this close to the nearest one are scored.  Each extra, farther candidate is one
#: more chance for a wrong entry to score high: on the QQP calibration split, scoring within 0.05 of
#: the nearest gave precision 0.888 at recall 0.207 against 0.883 at 0.197 for the top three, and
#: the dev set 97 of 120 paraphrases against 96, both with no wrong hit (session 5).
SIMILARITY_MARGIN = 0.05


def _spelled_alike(pair: tuple[str, str]) -> bool:
    """The two requests are one once spelled alike, "the" aside ("NATO's response" is "the North
    Atlantic Treaty Organization's response", "in Q2" is "in the second quarter")."""
    return _without_the(pair[0]) == _without_the(pair[1])


def _without_the(text: str) -> list[str]:
    return [word for word in normalise_query(text).split() if word != "the"]


def _may_be_alike(query: str, stored: str) -> bool:
    """A cheap test before :func:`prepare_pair` for a candidate under the floor: most of the query's
    words (of three letters or more) are in the stored text as typed.  A typo changes one word or
    two, a short form a few; a miss's far candidates rarely share half their words."""
    words = {word for word in _WORD.findall(query.casefold()) if len(word) >= 3}
    stored_words = set(_WORD.findall(stored.casefold()))
    return bool(words) and 2 * len(words & stored_words) >= len(words)


class LearnedDecider:
    """Serve a cached answer only when the trained verifier says it answers the query."""

    def __init__(
        self, model: CrossEncoder, *, candidates_scored: int = 3, similarity_margin: float = SIMILARITY_MARGIN
    ) -> None:
        self._model = model
        self._candidates_scored = candidates_scored
        self._similarity_margin = similarity_margin

    @property
    def model(self) -> CrossEncoder:
        return self._model

    def warm_up(self) -> None:
        """Load the model now (blocking) so the first lookup does not pay for it; check its levels."""
        missing = [level for level in STRICTNESS_LEVELS if level not in self._model.manifest.thresholds]
        if missing:
            raise ConfigError(
                "VERIFIER_MODEL", f"{self._model.model_dir} has no calibrated threshold for {', '.join(missing)}"
            )
        self.probabilities("warm up", ["warm up the verifier"])

    def probabilities(self, query: str, stored_texts: Sequence[str]) -> np.ndarray:
        """The model's P(same request) of ``query`` against each stored text, each pair first spelled
        the same way where it certainly means the same (:func:`core.cache.pair_text.prepare_pair`)."""
        known = self._model.vocabulary()
        return self._score([prepare_pair(query, text, known=known) for text in stored_texts])

    def _score(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        # spelled alike, the two are one request: certain, whatever the model would make of the pair
        probabilities = np.ones(len(pairs), dtype=np.float32)
        unsure = [position for position, pair in enumerate(pairs) if not _spelled_alike(pair)]
        if unsure:
            probabilities[unsure] = self._model.pair_probabilities([pairs[position] for position in unsure])
        return probabilities

    def decide(
        self,
        query: str,
        candidates: Sequence[Candidate],
        *,
        threshold: float,
        strictness: str = "balanced",
        excluded: Collection[str] = (),
    ) -> Decision:
        """``excluded``: normalised stored texts the guild marked as a wrong answer to ``query``."""
        screened = self._screen(query, candidates, floor=threshold, excluded=excluded)
        if not screened:
            return Decision()
        probabilities = self._score([pair for _, pair in screened])
        best = int(probabilities.argmax())
        candidate, probability = screened[best][0], float(probabilities[best])
        manifest = self._model.manifest
        if probability >= manifest.thresholds[strictness]:
            return Decision(served=candidate, probability=probability)
        borderline = candidate if probability >= manifest.judge_floor else None
        return Decision(borderline=borderline, probability=probability)

    def eligible(
        self, query: str, candidates: Sequence[Candidate], *, floor: float, excluded: Collection[str]
    ) -> list[Candidate]:
        """The candidates worth scoring: over the floor, not excluded, not vetoed, at most a few."""
        return [candidate for candidate, _ in self._screen(query, candidates, floor=floor, excluded=excluded)]

    def _screen(
        self, query: str, candidates: Sequence[Candidate], *, floor: float, excluded: Collection[str]
    ) -> list[tuple[Candidate, tuple[str, str]]]:
        """:meth:`eligible`, each with the pair as the model will read it (prepared once)."""
        query_numbers = number_values(query)
        known = self._model.vocabulary()
        screened: list[tuple[Candidate, tuple[str, str]]] = []
        nearest = max((candidate.similarity for candidate in candidates), default=0.0)
        floor = max(floor, nearest - self._similarity_margin)
        scored = 0
        for candidate in candidates:
            if excluded and normalise_query(candidate.text) in excluded:
                continue
            stored_numbers = number_values(candidate.text)
            if query_numbers and stored_numbers and query_numbers != stored_numbers:
                continue
            if candidate.similarity < floor or scored == self._candidates_scored:
                # too far (or enough to score): only the query itself, spelled another way
                if _may_be_alike(query, candidate.text):
                    prepared = prepare_pair(query, candidate.text, known=known)
                    if _spelled_alike(prepared):
                        screened.append((candidate, prepared))
                continue
            prepared = prepare_pair(query, candidate.text, known=known)
            if is_role_swap(*prepared) or is_contrast(*prepared) or is_tense_contrast(*prepared):
                continue
            screened.append((candidate, prepared))
            scored += 1
        return screened
