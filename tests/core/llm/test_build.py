"""Grounding the LLM's answer in the sources: quotes, counts, hashes, mentions."""

from __future__ import annotations

from core.embedder import Embedder
from core.llm.build import ZERO_WIDTH_SPACE, ground_report, neutralise_mentions
from core.llm.schema import LLMReport
from core.models import SourceDocument, sha256_text
from tests.core.llm.conftest import ARTICLE


def answer(**fields: object) -> LLMReport:
    return LLMReport.model_validate({"summary": "Summary.", **fields})


def test_insight_kept_only_when_its_quote_is_in_the_source(embedder: Embedder) -> None:
    reflowed = "Ridership on the Riverton tram rose 18 percent\n   in 2023"
    report = ground_report(
        answer(key_insights=[
            {"insight": "Ridership grew", "evidence": f'"{reflowed}"', "importance": 0.8, "source_index": 0},
            {"insight": "Made up", "evidence": "Ridership tripled overnight in Riverton", "importance": 0.9},
        ]),
        sources=[SourceDocument(text=ARTICLE)], depth="standard", model="m", embedder=embedder,
        elapsed_seconds=1.0,
    )

    assert [insight.insight for insight in report.report.key_insights] == ["Ridership grew"]
    assert report.report.key_insights[0].evidence == "Ridership on the Riverton tram rose 18 percent in 2023"
    assert report.dropped_insights == 1


def test_quote_from_another_source_gets_that_source_index(embedder: Embedder) -> None:
    sources = [SourceDocument(text="An unrelated text about bees and honey. " * 3), SourceDocument(text=ARTICLE)]

    report = ground_report(
        answer(key_insights=[{"insight": "i", "evidence": "runs every six minutes at peak times",
                              "importance": 0.5, "source_index": 0}]),
        sources=sources, depth="standard", model="m", embedder=embedder, elapsed_seconds=0.0,
    )

    assert report.report.key_insights[0].source_indexes == [1]


def test_counts_and_hashes_come_from_the_sources_not_the_llm(embedder: Embedder) -> None:
    report = ground_report(
        answer(
            entities=[{"name": "Riverton", "label": "PLACE"}, {"name": "Atlantis", "label": "PLACE"}],
            themes=[{"label": "Trams", "keywords": ["tram"]}, {"label": "Space", "keywords": ["rocket"]}],
        ),
        sources=[SourceDocument(text=ARTICLE)], depth="standard", model="m", embedder=embedder,
        elapsed_seconds=0.0,
    ).report

    assert [(entity.name, entity.mentions) for entity in report.entities] == [("Riverton", 2)]
    assert [theme.label for theme in report.themes] == ["Trams"]
    assert report.themes[0].size == 2 and 0.5 < report.themes[0].coherence <= 1.0
    assert report.themes[0].representative in ARTICLE
    assert report.sources[0].sha256 == sha256_text(ARTICLE) and report.sources[0].characters == len(ARTICLE)


def test_synthesis_only_for_several_sources(embedder: Embedder) -> None:
    synthesis = {"summary": "both agree", "common_themes": ["trams"]}

    single = ground_report(answer(synthesis=synthesis), sources=[SourceDocument(text=ARTICLE)],
                           depth="quick", model="m", embedder=embedder, elapsed_seconds=0.0).report
    double = ground_report(answer(synthesis=synthesis),
                           sources=[SourceDocument(text=ARTICLE), SourceDocument(text=ARTICLE)],
                           depth="quick", model="m", embedder=embedder, elapsed_seconds=0.0).report

    assert single.synthesis is None
    assert double.synthesis is not None and double.synthesis.summary == "both agree"


def test_every_mention_form_is_made_inert() -> None:
    text = neutralise_mentions("@everyone @Here <@123> <@!456> <@&789> <#42> mail me@example.com")

    for live in ("@everyone", "@Here", "<@123>", "<@!456>", "<@&789>", "<#42>"):
        assert live not in text
    assert f"@{ZERO_WIDTH_SPACE}everyone" in text
    assert "me@example.com" in text
