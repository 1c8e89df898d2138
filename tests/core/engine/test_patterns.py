"""Patterns name what they relate and stand on two sentences; a marker word alone is never one."""

from __future__ import annotations

from core.engine.local import LocalEngine
from core.engine.patterns import sentence_relations
from core.engine.text import segment_sources
from core.models import SourceDocument

MARKET_NOTES = (
    "As interest rates rose, house sales in the capital slowed sharply. "
    "For the first time, online agents sold more homes than high-street branches. "
    "Rents in the capital climbed 4% in the first quarter. "
    "Rents in the northern towns climbed 5% over the same months. "
    "Rents in the coastal towns climbed 3% in the spring. "
    "Rents near the universities climbed 6% before term started. "
    "Rents in one new riverside district jumped 48% after a single developer raised prices. "
    "Agents say the spring market is busy every year before the school holidays."
)


async def test_a_trend_names_its_quantity_direction_and_figures_and_an_outlier_its_median(
    engine: LocalEngine,
) -> None:
    report = await engine.analyse([SourceDocument(text=MARKET_NOTES)], depth="deep")

    by_type = {pattern.pattern_type: pattern for pattern in report.patterns}
    trend = by_type["temporal"]
    assert trend.description.startswith("Trend: rents up (climbed 4%; climbed 5%")
    assert len(trend.evidence) == 4
    assert "48% against a median of 5%" in by_type["anomaly"].description
    assert len(by_type["anomaly"].evidence) == 2
    # "for the first time", "every year": single marker words, no longer patterns of their own
    assert {"emergence", "cycle"}.isdisjoint(by_type)
    assert all(len(pattern.evidence) >= 2 and 0.0 < pattern.confidence <= 0.9 for pattern in report.patterns)


async def test_text_without_relations_has_no_patterns(engine: LocalEngine) -> None:
    plain = (
        "The library opens at nine on weekdays. Visitors can borrow six books at a time. "
        "The reading room has forty desks and a quiet corner for children. "
        "Staff run a book club for teenagers on Saturday mornings."
    )
    report = await engine.analyse([SourceDocument(text=plain)], depth="deep")

    assert report.patterns == []


async def test_a_cause_stated_across_two_sentences_names_cause_and_effect(engine: LocalEngine) -> None:
    text = (
        "A cold snap in January froze the ground under the old cast-iron water mains. "
        "As a result, burst water mains across the city rose to 3,412 last year. "
        "The library opens at nine on weekdays."
    )
    report = await engine.analyse([SourceDocument(text=text)], depth="standard")

    causal = [pattern for pattern in report.patterns if pattern.pattern_type == "causal"]
    assert len(causal) == 1
    assert causal[0].description == (
        "Cause → effect: A cold snap in January froze the ground under the old cast-iron water mains"
        " → Burst water mains across the city rose to 3,412 last year"
    )
    assert len(causal[0].evidence) == 2


def test_a_marker_word_without_two_named_sides_is_no_relation() -> None:
    sentences = segment_sources([
        "The causes are well understood. Sea temperatures were unusually high. "
        "Heat waves now arrive almost every year."
    ])
    relations = [relation for index, sentence in enumerate(sentences)
                 for relation in sentence_relations(sentence, sentences[index - 1] if index else None)]

    assert relations == []


def test_contrast_names_both_sides() -> None:
    sentence = segment_sources(["Shares in Nordlink rose 7 percent in Frankfurt, while Baltic Freight's stock climbed 12 percent."])[0]

    (relation,) = sentence_relations(sentence, None)

    assert relation.pattern_type == "divergence"
    assert relation.left == "Shares in Nordlink rose 7 percent in Frankfurt"
    assert relation.right == "Baltic Freight's stock climbed 12 percent"
