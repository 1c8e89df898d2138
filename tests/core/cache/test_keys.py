"""Exact-layer keys: what counts as the same query."""

from __future__ import annotations

import pytest

from core.cache import normalise_query, query_key, verbatim_key


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("What is the GDP of France?", "what is the gdp of france"),
        ("  many   spaces\tand\nlines ", "many spaces and lines"),
        ("don't stop", "don’t stop"),
        ("ﬁnancial report", "financial report"),  # NFKC folds the ligature
        ("Straße", "STRASSE"),  # casefold, not lower
        ("Revenue: 3.5% (2023)", "revenue 3.5% 2023"),
    ],
)
def test_variants_of_a_query_share_a_key(first: str, second: str) -> None:
    assert query_key(first) == query_key(second)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("revenue grew 3.5%", "revenue grew 35%"),
        ("revenue in 2023", "revenue in 2022"),
        ("re-cover the seats", "recover the seats"),
        ("the merger was approved", "the merger was not approved"),
    ],
)
def test_different_queries_never_share_a_key(first: str, second: str) -> None:
    assert query_key(first) != query_key(second)


def test_normalised_form_is_readable() -> None:
    assert normalise_query("  Hello,   WORLD!  It's 1,000.5 km. ") == "hello world it s 1,000.5 km"


def test_verbatim_keys_never_collide_with_query_keys() -> None:
    assert verbatim_key("hello world") != query_key("hello world")
    assert verbatim_key("https://a.example/X") != verbatim_key("https://a.example/x")
