"""Each verification feature on its own: numbers, negation, direction, aliases, typos, word weights."""

from __future__ import annotations

import pytest

from core.cache.verify import WordRarity
from core.cache.verify_features import PairFeatures, compare_profiles, profile_text

_RARITY = WordRarity()


def _compare(query: str, stored: str) -> PairFeatures:
    return compare_profiles(profile_text(query), profile_text(stored), rarity=_RARITY)


def test_year_mismatch_is_a_hard_mismatch() -> None:
    features = _compare("What was Apple's revenue in 2023?", "What was Apple's revenue in 2022?")
    assert features.numbers_differ and features.hard_mismatch


def test_number_words_equal_their_digits() -> None:
    assert not _compare("Top five sights in Rome", "Top 5 sights in Rome").numbers_differ


def test_thousands_separators_do_not_change_a_number() -> None:
    assert not _compare("Laptops under $1,000", "Laptops under $1000").numbers_differ


def test_version_numbers_must_agree() -> None:
    assert _compare("What changed in Python 3.11?", "What changed in Python 3.12?").numbers_differ


def test_negation_mismatch_is_a_hard_mismatch() -> None:
    assert _compare("Is coffee good for you?", "Is coffee not good for you?").negation_differs


def test_contraction_counts_as_negation() -> None:
    features = _compare("Why don't cats like water?", "Why do not cats like water?")
    assert not features.negation_differs and features.same_wording


def test_swapped_winner_is_a_direction_swap() -> None:
    assert _compare("Did France beat Argentina?", "Did Argentina beat France?").direction_swapped


def test_swapped_comparison_is_a_direction_swap() -> None:
    assert _compare("Why is Ruby faster than Python?", "Why is Python faster than Ruby?").direction_swapped


def test_swapped_route_is_a_direction_swap() -> None:
    assert _compare("Flights from Paris to London", "Flights from London to Paris").direction_swapped


def test_reordered_request_is_not_a_direction_swap() -> None:
    features = _compare("In 2023, what was Apple's revenue?", "What was Apple's revenue in 2023?")
    assert not features.hard_mismatch and features.unmatched_weight == 0


@pytest.mark.parametrize(
    ("query", "stored"),
    [
        ("Inflation in the US", "Inflation in the United States"),
        ("Inflation in the U.S.", "Inflation in the United States of America"),
        ("GDP of the UK", "GDP of the United Kingdom"),
        ("What is AI?", "What is artificial intelligence?"),
        ("How do I clean my fridge?", "How do I clean my refrigerator?"),
    ],
)
def test_aliases_match(query: str, stored: str) -> None:
    features = _compare(query, stored)
    assert features.unmatched_weight == 0 and features.same_wording


def test_pronoun_us_is_not_the_country() -> None:
    assert "united_states" not in profile_text("Tell us about the report").content


@pytest.mark.parametrize(
    ("query", "stored"),
    [("populaton of Canada", "population of Canada"), ("Aple revenue", "Apple revenue"),
     ("histroy of Rome", "history of Rome"), ("instal PostgreSQL", "install PostgreSQL")],
)
def test_one_typo_still_matches(query: str, stored: str) -> None:
    assert _compare(query, stored).unmatched_weight == 0


def test_a_changed_letter_in_a_short_name_is_a_different_word() -> None:
    assert _compare("Oil exports of Iran", "Oil exports of Iraq").substitution_weight > 0


def test_plural_and_singular_match() -> None:
    assert _compare("symptoms of measles", "symptom of measles").unmatched_weight == 0


def test_replaced_aspect_word_is_a_substitution() -> None:
    features = _compare("Apple's profit in 2023", "Apple's revenue in 2023")
    assert features.substitution_weight > 1.5


def test_added_filler_word_is_not_a_substitution() -> None:
    features = _compare("What is machine learning exactly?", "What is machine learning?")
    assert features.substitution_weight == 0 and features.candidate_only_weight == 0


def test_rare_words_weigh_more_than_common_ones() -> None:
    assert _RARITY("samsung") > _RARITY("phone") > _RARITY("the")
    assert _RARITY("qwxzv") == 7.0


def test_word_rarity_memo_stays_bounded() -> None:
    rarity = WordRarity(max_words=3)
    for word in ("alpha", "beta", "gamma", "delta", "epsilon"):
        rarity(word)
    assert len(rarity._weights) <= 3
