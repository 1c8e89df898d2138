"""The floor of every figure benchmarks/report_quality.py measures, on the whole evaluation set.

The floors sit a little below the figures measured when the engine was last tuned (docs/BENCHMARKS.md,
"Local report quality"), so a change that makes the report worse fails here.
"""

from __future__ import annotations

from benchmarks.report_quality import analyse_articles, fact_covered, load_annotations, score_reports
from core.engine.local import LocalEngine


def test_fact_is_covered_only_when_one_sentence_holds_all_its_key_words() -> None:
    assert fact_covered("sixth mass bleaching event", ["The reef is in its sixth mass bleaching event."])
    assert fact_covered("bleaching on 73 percent of reefs", ["Bleaching was recorded on 73 percent of them and reefs..."])
    assert not fact_covered("sixth mass bleaching event", ["The sixth event.", "Mass bleaching again."])
    assert not fact_covered("rose 73 percent", ["It rose 7 percent."])


async def test_report_quality_on_the_evaluation_set_stays_above_its_floors(engine: LocalEngine) -> None:
    articles = load_annotations()
    assert len(articles) >= 20

    figures = score_reports(articles, await analyse_articles(engine, articles, depth="standard"))

    assert figures.lede_in_summary >= 0.95
    assert figures.lede_first >= 0.95
    assert figures.key_facts_covered >= 0.55
    assert figures.entity_precision >= 0.75
    assert figures.entity_recall >= 0.70
    assert figures.entity_type_accuracy >= 0.85
    assert figures.patterns_two_evidence == 1.0
