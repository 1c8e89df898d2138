"""The local engine end to end on real text, the real model and a real worker gate."""

from __future__ import annotations

import pytest

from core.engine.local import LocalEngine
from core.engine.text import segment_sources
from core.errors import InputTooLargeError, UnsupportedInputError
from core.gate import WorkerGate
from core.models import IntelReport, SourceDocument, sha256_text
from core.progress import Progress
from tests.core.engine.conftest import sample_text

COFFEE, BATTERIES = sample_text("two_topics").split("\n\n")

FARM_NEWS = (
    "The village cooperative bought a new grain dryer for the autumn harvest. "
    "Farmers in the valley grow barley, potatoes and a little rye on small plots. "
    "Wheat yields in the valley rose 12% this year after a wet spring. "
    "The cooperative meets every Thursday evening in the old school hall. "
    "Young farmers want better roads so that trucks can reach the fields in winter. "
    "The mill pays farmers in cash at the end of every season."
)
BRIDGE_NEWS = (
    "The old bridge over the river has carried traffic for ninety years. "
    "Inspectors found deep cracks in two of its stone arches last winter. "
    "Engineers will complete the new bridge by 2030, the transport ministry says. "
    "The harvest failed because the spring rains came six weeks late. "
    "Until then, lorries must take a long detour through the hills. "
    "Residents hope the new crossing will bring shops back to the riverside."
)


async def analyse(engine: LocalEngine, *texts: str, depth: str = "standard") -> IntelReport:
    documents = [SourceDocument(text=text, title=f"source {number}") for number, text in enumerate(texts, 1)]
    return await engine.analyse(documents, depth=depth)  # type: ignore[arg-type]


def normalised(text: str) -> str:
    return " ".join(text.split())


async def test_two_clear_topics_give_two_themes_named_by_a_key_phrase(engine: LocalEngine) -> None:
    report = await analyse(engine, sample_text("two_topics"))

    assert len(report.themes) == 2
    keyword_sets = [" ".join(theme.keywords) for theme in report.themes]
    assert any("coffee" in keywords and "battery" not in keywords for keywords in keyword_sets)
    assert any("battery" in keywords and "coffee" not in keywords for keywords in keyword_sets)
    assert sorted(theme.size for theme in report.themes) == [8, 8]
    assert all(0.4 < theme.coherence <= 1.0 for theme in report.themes)
    assert all(any(word in theme.label.lower() for word in theme.keywords) for theme in report.themes)
    assert all(" and " not in theme.label for theme in report.themes)


async def test_sentence_with_a_percentage_becomes_a_statistic_claim(engine: LocalEngine) -> None:
    report = await analyse(engine, FARM_NEWS)

    statistic = [claim for claim in report.claims if claim.kind == "statistic"]
    assert [claim.text for claim in statistic] == ["Wheat yields in the valley rose 12% this year after a wet spring."]
    assert statistic[0].checkable


async def test_will_by_2030_sentence_becomes_a_prediction(engine: LocalEngine) -> None:
    report = await analyse(engine, BRIDGE_NEWS)

    predictions = [claim.text for claim in report.claims if claim.kind == "prediction"]
    assert "Engineers will complete the new bridge by 2030, the transport ministry says." in predictions


async def test_a_lone_because_sentence_is_no_pattern_but_a_supported_one_is(engine: LocalEngine) -> None:
    alone = await analyse(engine, BRIDGE_NEWS)
    supported = await analyse(
        engine, BRIDGE_NEWS + " Farmers said the late spring rains cut the valley's harvest by half."
    )

    assert [pattern for pattern in alone.patterns if pattern.pattern_type == "causal"] == []
    causal = [pattern for pattern in supported.patterns if pattern.pattern_type == "causal"]
    assert causal[0].description == "Cause → effect: The spring rains came six weeks late → The harvest failed"
    assert causal[0].evidence == [
        "The harvest failed because the spring rains came six weeks late.",
        "Farmers said the late spring rains cut the valley's harvest by half.",
    ]
    assert 0.0 < causal[0].confidence <= 0.9


async def test_led_to_and_however_sentences_give_patterns_and_marker_words_do_not(engine: LocalEngine) -> None:
    report = await analyse(engine, sample_text("energy_article"), depth="deep")

    evidence: dict[str, list[str]] = {}
    for pattern in report.patterns:
        evidence.setdefault(pattern.pattern_type, []).extend(pattern.evidence)
    assert "Falling module prices led to record installations in China, India and the U.S." in evidence["causal"]
    assert any(line.startswith("However, several offshore projects") for line in evidence["divergence"])
    # "every winter" and "new" are marker words with nothing named on either side: no pattern
    assert {"cycle", "emergence", "correlation"}.isdisjoint(evidence)
    assert all(len(pattern.evidence) >= 2 for pattern in report.patterns)


def quotes_of(report: IntelReport) -> list[str]:
    quotes = [insight.evidence for insight in report.key_insights]
    return quotes + [line for pattern in report.patterns for line in pattern.evidence]


async def test_every_quote_is_an_exact_substring_of_the_source(engine: LocalEngine) -> None:
    text = sample_text("two_topics")
    report = await analyse(engine, text, depth="deep")

    assert quotes_of(report)
    assert all(quote in text for quote in quotes_of(report))


async def test_quotes_of_hard_wrapped_markdown_differ_only_in_line_breaks(engine: LocalEngine) -> None:
    text = sample_text("energy_article")
    report = await analyse(engine, text, depth="deep")

    assert quotes_of(report)
    for quote in quotes_of(report):
        assert "\n" not in quote
        assert normalised(quote) in normalised(text)
    assert any("[International Energy Agency](https://" in quote for quote in quotes_of(report))


async def test_summary_sentences_appear_in_document_order(engine: LocalEngine) -> None:
    text = sample_text("energy_article")
    report = await analyse(engine, text)

    in_order = [sentence.clean for sentence in segment_sources([text])]
    picked = [sentence.clean for sentence in segment_sources([report.summary])]
    assert len(picked) == 5
    positions = [in_order.index(sentence) for sentence in picked]
    assert positions == sorted(positions)


async def test_same_input_gives_the_same_report(engine: LocalEngine) -> None:
    first = await analyse(engine, sample_text("energy_article"))
    second = await analyse(engine, sample_text("energy_article"))

    volatile = {"created_at": True, "engine": {"elapsed_seconds"}}
    assert first.model_dump(exclude=volatile) == second.model_dump(exclude=volatile)


async def test_deeper_analysis_extracts_at_least_as_much(engine: LocalEngine) -> None:
    text = sample_text("energy_article")
    quick, standard, deep = [await analyse(engine, text, depth=depth) for depth in ("quick", "standard", "deep")]

    for field in ("key_insights", "themes", "claims", "patterns", "entities"):
        counts = [len(getattr(report, field)) for report in (quick, standard, deep)]
        assert counts[0] <= counts[1] <= counts[2], (field, counts)
    assert len(quick.key_insights) < len(deep.key_insights)
    assert len(quick.claims) < len(deep.claims)


async def test_importance_is_between_zero_and_one_most_important_first(engine: LocalEngine) -> None:
    report = await analyse(engine, sample_text("energy_article"))

    importances = [insight.importance for insight in report.key_insights]
    assert all(0.0 <= value <= 1.0 for value in importances)
    assert importances == sorted(importances, reverse=True)
    assert len({insight.evidence for insight in report.key_insights}) == len(report.key_insights)


async def test_each_finding_points_at_the_source_it_came_from(engine: LocalEngine) -> None:
    report = await analyse(engine, COFFEE, BATTERIES)

    for claim in report.claims:
        source_text = (COFFEE, BATTERIES)[claim.source_index]
        assert claim.text in source_text
    for insight in report.key_insights:
        owner = 0 if insight.evidence in COFFEE else 1
        assert insight.source_indexes == [owner]
    assert {claim.source_index for claim in report.claims} == {0, 1}


async def test_agreeing_sources_are_both_credited(engine: LocalEngine) -> None:
    report = await analyse(engine, sample_text("cycling_council"), sample_text("cycling_residents"), depth="deep")

    safety = [insight for insight in report.key_insights if "feel safe" in insight.evidence]
    assert safety and safety[0].source_indexes == [0, 1]
    convergence = [pattern for pattern in report.patterns if pattern.pattern_type == "convergence"]
    assert any("2 sources" in pattern.description for pattern in convergence)


async def test_sources_and_engine_are_described(engine: LocalEngine, embedder) -> None:
    text = sample_text("two_topics")
    report = await analyse(engine, text)

    assert report.sources[0].sha256 == sha256_text(text)
    assert report.sources[0].characters == len(text)
    assert report.sources[0].words == 254
    assert report.engine.name == "local"
    assert report.engine.model == embedder.name
    assert report.engine.elapsed_seconds > 0
    assert engine.name == f"local.r2.{embedder.name}"  # part of the cache namespace


async def test_progress_names_each_stage_with_the_sentence_count(engine: LocalEngine) -> None:
    stages: list[str] = []

    async def record(progress: Progress) -> None:
        stages.append(progress.describe())

    await engine.analyse([SourceDocument(text=sample_text("two_topics"))], depth="quick", progress=record)

    assert stages == [
        "Segmenting: 1 source",
        "Embedding 16 sentences (0/16)",
        "Clustering themes: 16 sentences",
        "Extracting claims and patterns: 2 themes",
    ]


async def test_text_without_prose_gets_a_clear_message(engine: LocalEngine) -> None:
    markdown = "# A heading only\n\n```\nsome code here that is long enough to count\n```\n\n- Short item\n"
    with pytest.raises(UnsupportedInputError, match="no sentences to analyse"):
        await analyse(engine, markdown)


async def test_too_many_sentences_are_refused_with_the_limit(embedder, gate: WorkerGate) -> None:
    engine = LocalEngine(embedder=embedder, gate=gate, max_sentences=10)
    with pytest.raises(InputTooLargeError, match="16 sentences"):
        await analyse(engine, sample_text("two_topics"))


async def test_shortest_accepted_text_still_gets_a_full_report(engine: LocalEngine) -> None:
    text = "The town library will reopen in May 2026 after a repair that cost 2 million euros, the mayor said."
    report = await analyse(engine, text, depth="deep")

    assert report.summary == text
    assert len(report.themes) == 1 and report.themes[0].size == 1
    assert report.themes[0].coherence == pytest.approx(1.0, abs=1e-3)
    assert [insight.evidence for insight in report.key_insights] == [text]
    assert [(claim.kind, claim.checkable) for claim in report.claims] == [("prediction", True)]
    assert ("May 2026", "DATE") in {(entity.name, entity.label) for entity in report.entities}
