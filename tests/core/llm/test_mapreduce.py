"""How many LLM calls each depth plans, and how long texts are cut."""

from __future__ import annotations

from core.llm.mapreduce import plan_passes, split_text
from core.models import SourceDocument
from tests.core.llm.conftest import ARTICLE

LONG = "\n\n".join(f"Paragraph {number}. {ARTICLE}" for number in range(40))  # ~25k characters


def test_short_text_is_one_call_at_quick_and_standard_and_two_at_deep() -> None:
    sources = [SourceDocument(text=ARTICLE)]

    quick = plan_passes(sources, depth="quick", budget_tokens=4_000)
    standard = plan_passes(sources, depth="standard", budget_tokens=4_000)
    deep = plan_passes(sources, depth="deep", budget_tokens=4_000)

    assert (quick.call_count, standard.call_count, deep.call_count) == (1, 1, 2)
    assert not quick.truncated
    assert standard.map_calls[0][0].text == ARTICLE


def test_quick_truncates_a_long_text_into_one_call() -> None:
    plan = plan_passes([SourceDocument(text=LONG)], depth="quick", budget_tokens=2_000)

    assert plan.call_count == 1 and plan.truncated
    assert len(plan.map_calls[0][0].text) <= 8_000
    assert LONG.startswith(plan.map_calls[0][0].text)


def test_long_text_is_mapped_then_reduced_and_deep_uses_finer_chunks() -> None:
    standard = plan_passes([SourceDocument(text=LONG)], depth="standard", budget_tokens=2_000)
    deep = plan_passes([SourceDocument(text=LONG)], depth="deep", budget_tokens=2_000)

    assert standard.reduce and deep.reduce
    assert len(deep.map_calls) > len(standard.map_calls) > 1
    parts = [call[0] for call in standard.map_calls]
    assert [part.part for part in parts] == list(range(1, len(parts) + 1))
    assert all(part.parts == len(parts) for part in parts)


def test_several_sources_that_fit_share_one_call() -> None:
    sources = [SourceDocument(text=ARTICLE, title="a"), SourceDocument(text=ARTICLE, title="b")]

    plan = plan_passes(sources, depth="standard", budget_tokens=4_000)

    assert plan.call_count == 1
    assert [piece.source_index for piece in plan.map_calls[0]] == [0, 1]


def test_split_text_keeps_every_word_and_respects_the_limit() -> None:
    text = LONG + " " + "x" * 50 + " " + "word " * 3_000  # a paragraph with no sentence breaks

    chunks = split_text(text, max_chars=1_500)

    assert all(len(chunk) <= 1_500 for chunk in chunks)
    assert " ".join(" ".join(chunks).split()) == " ".join(text.split())
