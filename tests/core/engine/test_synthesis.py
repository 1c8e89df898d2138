"""Cross-source synthesis on real embeddings of articles written for these tests."""

from __future__ import annotations

import numpy as np

from core.embedder import Embedder
from core.engine.local import LocalEngine
from core.engine.state import DEPTH_PROFILES, AnalysisState
from core.engine.synthesis import find_statement_pairs, synthesise
from core.engine.text import segment_sources
from core.engine.themes import build_themes, cluster_sentences
from core.gate import WorkerGate
from core.models import KeyInsight, SourceDocument
from tests.fakes.web_server import ARTICLE_BODY, TRAM_TEXT_CONTRADICTING

PASTA_TEXT = (
    "Cook the pasta in plenty of salted water until it is just firm to the bite. "
    "Meanwhile warm olive oil in a wide pan and soften two cloves of sliced garlic. "
    "Add a pinch of chilli flakes and a ladle of the starchy cooking water. "
    "Toss the drained spaghetti in the pan until the sauce clings to every strand. "
    "Finish the dish with chopped parsley and a little grated pecorino cheese. "
    "Serve the spaghetti at once in warm bowls with more cheese at the table."
)

COST_REPORT = (
    "An audit of the Riverton tram extension was published this week. "
    "The project cost 310 million euros, most of it paid by a regional infrastructure fund. "
    "The auditors found that the extra cost came from moving water pipes under Harbour Road. "
    "They recommend fixed-price contracts for the planned airport line."
)


def analysis_state(embedder: Embedder, texts: list[str]) -> AnalysisState:
    sentences = segment_sources(texts)
    embeddings = embedder.embed([sentence.clean for sentence in sentences])
    labels = cluster_sentences(embeddings, max_themes=6)
    return AnalysisState(
        depth="standard",
        profile=DEPTH_PROFILES["standard"],
        source_count=len(texts),
        sentences=sentences,
        embeddings=embeddings,
        theme_labels=labels,
        themes=build_themes(sentences, embeddings, labels, keyword_limit=6),
    )


def test_contradiction_is_reported_with_both_sentences(embedder: Embedder) -> None:
    state = analysis_state(embedder, [ARTICLE_BODY, TRAM_TEXT_CONTRADICTING])
    synthesis = synthesise(state, source_labels=["Riverton Daily", "Residents"])
    assert synthesis.contradictions[0] == (
        'Source 1 says "Ridership on the Riverton tram rose 18 percent in 2023, according to the city '
        'transport office." while source 2 says "Ridership on the Riverton tram fell 18 percent in 2023, '
        "according to the residents' own counts at the harbour stops.\""
    )
    assert synthesis.common_themes
    assert all("sources 1 and 2" in theme for theme in synthesis.common_themes)


def test_same_statement_with_other_figures_is_a_divergence(embedder: Embedder) -> None:
    state = analysis_state(embedder, [ARTICLE_BODY, COST_REPORT])
    synthesis = synthesise(state, source_labels=["Riverton Daily", "Audit"])
    assert (
        'Different figures: source 1 says "The project cost 240 million euros, most of it paid by a regional '
        'infrastructure fund." while source 2 says "The project cost 310 million euros, most of it paid by a '
        'regional infrastructure fund."'
    ) in synthesis.divergences
    assert synthesis.contradictions == []


def test_topic_only_one_source_covers_is_a_divergence(embedder: Embedder) -> None:
    state = analysis_state(embedder, [ARTICLE_BODY, TRAM_TEXT_CONTRADICTING, PASTA_TEXT])
    synthesis = synthesise(state, source_labels=["a", "b", "c"])
    only_third = [line for line in synthesis.divergences if line.startswith("Only source 3 covers")]
    assert len(only_third) == 1
    assert not any("3" in theme.split(":")[1] for theme in synthesis.common_themes)


def test_summary_counts_findings_and_insights_backed_by_several_sources(
    embedder: Embedder,
) -> None:
    state = analysis_state(embedder, [ARTICLE_BODY, TRAM_TEXT_CONTRADICTING])
    insights = [
        KeyInsight(insight="Ridership changed", evidence="x", importance=0.9, source_indexes=[0, 1]),
        KeyInsight(insight="Shops gained", evidence="y", importance=0.5, source_indexes=[0]),
    ]
    synthesis = synthesise(state, source_labels=["a", "b"], key_insights=insights)
    themes = len(synthesis.common_themes)
    assert synthesis.summary.startswith(f"2 sources share {themes} theme")
    assert "1 contradiction and" in synthesis.summary
    assert synthesis.summary.endswith("1 of 2 key insights are supported by more than one source.")


def test_statement_pairs_never_pair_a_source_with_itself() -> None:
    vectors = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 0.0]], dtype=np.float32)
    sources = np.array([0, 0, 1, 1])
    pairs = find_statement_pairs(vectors, sources, minimum=0.9)
    assert [(pair.first, pair.second) for pair in pairs] == [(0, 3), (1, 3)]


async def test_local_engine_report_over_two_sources_has_the_synthesis(
    embedder: Embedder, gate: WorkerGate
) -> None:
    sources = [
        SourceDocument(kind="url", text=ARTICLE_BODY, url="https://riverton.example/tram"),
        SourceDocument(kind="text", text=TRAM_TEXT_CONTRADICTING),
    ]
    report = await LocalEngine(embedder=embedder, gate=gate).analyse(sources, depth="standard")
    assert report.synthesis is not None
    assert any("rose 18 percent" in line and "fell 18 percent" in line for line in report.synthesis.contradictions)
    assert report.synthesis.summary.startswith("2 sources share")
    assert any(set(insight.source_indexes) == {0, 1} for insight in report.key_insights)


async def test_local_engine_report_over_one_source_has_no_synthesis(
    embedder: Embedder, gate: WorkerGate
) -> None:
    report = await LocalEngine(embedder=embedder, gate=gate).analyse(
        [SourceDocument(text=ARTICLE_BODY)], depth="quick"
    )
    assert report.synthesis is None
