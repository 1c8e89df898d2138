"""The local report on a 470-word news article about a coral reef's sixth mass bleaching event."""

from __future__ import annotations

from pathlib import Path

from core.engine.local import LocalEngine
from core.models import SourceDocument

ARTICLE = Path(__file__).parents[2] / "data" / "articles" / "01_news_coral_bleaching.md"
LEDE = (
    "The Great Barrier Reef is undergoing its sixth mass bleaching event since 2016, Australia's reef "
    "management agency confirmed on Thursday, after aerial surveys found heat-stressed coral along more "
    "than 1,000 kilometres of the reef."
)


async def test_bleaching_article_report_leads_with_the_news(engine: LocalEngine) -> None:
    report = await engine.analyse([SourceDocument(text=ARTICLE.read_text(encoding="utf-8"))], depth="standard")

    assert report.summary.startswith(LEDE)
    assert report.headline == "The Great Barrier Reef is undergoing its sixth mass bleaching event since 2016"


async def test_bleaching_article_entities_name_the_reef_the_agency_and_el_nino(engine: LocalEngine) -> None:
    report = await engine.analyse([SourceDocument(text=ARTICLE.read_text(encoding="utf-8"))], depth="standard")

    labels = {entity.name: entity.label for entity in report.entities}
    assert labels["Great Barrier Reef"] == "PLACE"
    assert labels["Great Barrier Reef Marine Park Authority"] == "ORG"
    assert labels["El Niño"] == "EVENT"
    assert labels["Australian Institute of Marine Science"] == "ORG"
    assert labels["Helen Marsh"] == "PERSON"
    assert labels["73 percent"] == "PERCENT"
    assert "Australian" not in labels  # an adjective, not a name


async def test_bleaching_article_patterns_are_backed_and_never_a_single_marker(engine: LocalEngine) -> None:
    report = await engine.analyse([SourceDocument(text=ARTICLE.read_text(encoding="utf-8"))], depth="standard")

    assert report.patterns, "the article states a cause and a contrast"
    for pattern in report.patterns:
        assert len(pattern.evidence) >= 2
        assert "The causes are well understood." not in pattern.evidence[:1] or pattern.pattern_type != "causal"
    described = " ".join(pattern.description for pattern in report.patterns)
    assert "Cause → effect: The long-term warming of the ocean → The heat built up during a strong El Niño" in described
    assert not any(pattern.pattern_type in ("anomaly", "cycle") for pattern in report.patterns)
    assert all(" and " not in theme.label for theme in report.themes)
    assert "Mass bleaching" in [theme.label for theme in report.themes]
