"""Claim kinds and the entity extractor, sentence by sentence."""

from __future__ import annotations

import pytest

from core.engine.entities import find_entities
from core.engine.extract import classify_claim, is_checkable


@pytest.mark.parametrize(
    ("sentence", "kind"),
    [
        ("Module prices fell by 45% between 2022 and 2023.", "statistic"),
        ("The act offers tax credits worth $370 billion.", "statistic"),
        ("The queue holds more than 2,000 gigawatts of proposed capacity.", "statistic"),
        ("Engineers will finish the new bridge by 2030.", "prediction"),
        ("Analysts expect global capacity to double.", "prediction"),
        ("India plans to install 500 gigawatts of clean capacity by 2030.", "prediction"),
        ("By 2015, sales had doubled in every region.", "statistic"),
        ("The council opened the cycle lanes in 2022.", "assertion"),
        ("Protected lanes make cycling feel safe.", "assertion"),
        ("Voters doubted the political will of the council.", "assertion"),
    ],
)
def test_claim_kind_follows_the_words_of_the_sentence(sentence: str, kind: str) -> None:
    assert classify_claim(sentence) == kind


def test_claim_with_a_number_date_or_name_is_checkable() -> None:
    assert is_checkable("The council opened the lanes in March 2022.")
    assert is_checkable("Riders praised the Riverton City Council for the work.")
    assert not is_checkable("Protected lanes make cycling feel safe for children.")


def test_entities_are_labelled_from_their_context() -> None:
    text = (
        "Dr. Maria Lopez of the Solar Energy Industries Association said on 3 April 2024 that prices "
        "in Germany fell 12% while the U.S. spent $4 billion."
    )
    assert set(find_entities(text)) >= {
        ("Maria Lopez", "PERSON"),
        ("Solar Energy Industries Association", "ORG"),
        ("3 April 2024", "DATE"),
        ("Germany", "PLACE"),
        ("12%", "PERCENT"),
        ("U.S.", "PLACE"),
        ("$4 billion", "MONEY"),
    }


def test_of_joins_an_organisation_but_not_a_person_to_their_employer() -> None:
    assert list(find_entities("A survey by the University of the North found that the Bank of England agreed.")) == [
        ("University of the North", "ORG"),
        ("Bank of England", "ORG"),
    ]
    assert list(find_entities("They met Dr. Wei Zhang of Acme Motors yesterday.")) == [
        ("Wei Zhang", "PERSON"),
        ("Acme Motors", "ORG"),
    ]


def test_capitalised_first_word_of_a_sentence_is_not_an_entity() -> None:
    assert list(find_entities("Farmers harvest ripe coffee cherries by hand.")) == []
