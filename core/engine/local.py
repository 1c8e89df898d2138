"""The local analysis engine: the embedded default, no LLM, same input gives the same report.

Pipeline (docs/engine.md explains each choice):

1. segment every source into sentences (:mod:`core.engine.text`) and tell whether it is an
   article, a conversation or a list (:mod:`core.engine.shape`);
2. embed all sentences in batches with the local sentence-transformers model;
3. cluster them into themes with seeded FAISS k-means, label themes by c-TF-IDF keywords, and
   score each sentence's salience (:mod:`core.engine.themes`, :mod:`core.engine.rank`);
4. extract the headline, summary, key insights, claims, entities and patterns
   (:mod:`core.engine.rank`, :mod:`core.engine.extract`, :mod:`core.engine.entities`,
   :mod:`core.engine.patterns`).

All blocking work runs on the :class:`~core.gate.WorkerGate` in a few large steps, with a progress
update between steps.  Steps 3 and 4 share one :class:`~core.engine.state.AnalysisState`, which a
cross-source synthesis step can take as it is.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict

from core.embedder import Embedder
from core.engine.entities import extract_entities
from core.engine.extract import extract_claims
from core.engine.patterns import detect_patterns
from core.engine.rank import headline_text, key_insights, salience_scores, summary_indexes, summary_text
from core.engine.shape import DocumentShape, document_shape
from core.engine.state import DEPTH_PROFILES, AnalysisState
from core.engine.synthesis import synthesise
from core.engine.text import Sentence, segment_sources
from core.engine.themes import build_themes, cluster_sentences
from core.errors import EmptyInputError, InputTooLargeError, UnsupportedInputError
from core.gate import WorkerGate
from core.models import (
    Claim,
    EngineInfo,
    Entity,
    IntelReport,
    KeyInsight,
    PatternAnalysis,
    SourceDocument,
    ThemeCluster,
)
from core.progress import Progress, ProgressSink, ignore_progress
from core.settings import Depth

__all__ = ["DEFAULT_MAX_SENTENCES", "EMBED_BATCH_SENTENCES", "LocalEngine", "LocalFindings"]

_log = logging.getLogger(__name__)

#: About 400,000 characters of prose; beyond this the engine refuses rather than swap.
DEFAULT_MAX_SENTENCES = 10_000
#: Sentences embedded per trip through the gate: progress moves and other jobs get a turn.
EMBED_BATCH_SENTENCES = 512


class LocalFindings(BaseModel):
    """What step 4 extracts from an :class:`AnalysisState`; the body of an ``IntelReport``."""

    model_config = ConfigDict(frozen=True)

    headline: str
    summary: str
    key_insights: list[KeyInsight]
    themes: list[ThemeCluster]
    claims: list[Claim]
    entities: list[Entity]
    patterns: list[PatternAnalysis]


# Bump when a change alters what the engine writes for the same input: the name goes into the
# cache namespace, so reports made by an older engine are not served after an upgrade.
LOCAL_ENGINE_REVISION = 2


class LocalEngine:
    """Analyses sources with the local embedding model.  Implements ``AnalysisEngine``."""

    def __init__(
        self, *, embedder: Embedder, gate: WorkerGate, max_sentences: int = DEFAULT_MAX_SENTENCES
    ) -> None:
        self._embedder = embedder
        self._gate = gate
        self._max_sentences = max_sentences

    @property
    def name(self) -> str:
        """``local.r<revision>.<model>``: what must match for a cached local report to be reused."""
        return f"local.r{LOCAL_ENGINE_REVISION}.{self._embedder.name}"

    async def analyse(
        self, sources: Sequence[SourceDocument], *, depth: Depth, progress: ProgressSink = ignore_progress
    ) -> IntelReport:
        started = time.perf_counter()
        if not sources:
            raise EmptyInputError()
        await progress(Progress("Segmenting", detail=_count(len(sources), "source")))
        sentences, shapes = await self._gate.run(_segment, [source.text for source in sources])
        self._check_sentence_count(sentences)
        embeddings = await self._embed(sentences, progress=progress)
        await progress(Progress("Clustering themes", detail=_count(len(sentences), "sentence")))
        state = await self._gate.run(
            _build_state, sentences, embeddings, depth=depth, shapes=shapes
        )
        await progress(Progress("Extracting claims and patterns", detail=_count(len(state.themes), "theme")))
        findings = await self._gate.run(_extract_findings, state)
        synthesis = None
        if len(sources) > 1:
            await progress(Progress("Comparing sources", detail=_count(len(sources), "source")))
            synthesis = await self._gate.run(
                synthesise, state, source_labels=[source.label for source in sources],
                key_insights=findings.key_insights,
            )
        return IntelReport(
            depth=depth,
            sources=[source.info() for source in sources],
            synthesis=synthesis,
            engine=EngineInfo(
                name="local", model=self._embedder.name, elapsed_seconds=time.perf_counter() - started
            ),
            **findings.model_dump(),
        )

    def _check_sentence_count(self, sentences: list[Sentence]) -> None:
        if not sentences:
            raise UnsupportedInputError(
                "There are no sentences to analyse: the text is only headings, links, code or fragments."
            )
        if len(sentences) > self._max_sentences:
            raise InputTooLargeError(size=len(sentences), limit=self._max_sentences, unit="sentences")

    async def _embed(self, sentences: list[Sentence], *, progress: ProgressSink) -> np.ndarray:
        texts = [sentence.clean for sentence in sentences]
        parts = []
        for start in range(0, len(texts), EMBED_BATCH_SENTENCES):
            await progress(
                Progress(f"Embedding {len(texts)} sentences", done=start, total=len(texts))
            )
            parts.append(await self._gate.run(self._embedder.embed, texts[start : start + EMBED_BATCH_SENTENCES]))
        return np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def _segment(texts: list[str]) -> tuple[list[Sentence], list[DocumentShape]]:
    """Blocking: the sentences of every source, and what kind of text each source is."""
    return segment_sources(texts), [document_shape(text) for text in texts]


def _build_state(
    sentences: list[Sentence], embeddings: np.ndarray, *, depth: Depth, shapes: list[DocumentShape]
) -> AnalysisState:
    """Blocking: themes, keywords and salience.  Runs whole on a worker thread."""
    profile = DEPTH_PROFILES[depth]
    labels = cluster_sentences(embeddings, max_themes=profile.max_themes, min_themes=profile.min_themes)
    themes = build_themes(sentences, embeddings, labels, keyword_limit=profile.keywords)
    summary_scores, insight_scores = salience_scores(sentences, embeddings, labels, themes)
    return AnalysisState(
        depth=depth,
        profile=profile,
        source_count=len(shapes),
        sentences=sentences,
        embeddings=embeddings,
        theme_labels=labels,
        themes=themes,
        summary_scores=summary_scores,
        insight_scores=insight_scores,
        shapes=shapes,
    )


def _extract_findings(state: AnalysisState) -> LocalFindings:
    """Blocking: everything the report says, from the state.  Runs whole on a worker thread."""
    themes = sorted(state.themes, key=lambda theme: (-theme.size, theme.cluster))
    summary = summary_indexes(state)
    return LocalFindings(
        headline=headline_text(state, summary),
        summary=summary_text(state, summary),
        key_insights=key_insights(state, summary=summary),
        themes=[
            ThemeCluster(
                label=theme.label,
                keywords=list(theme.keywords),
                size=theme.size,
                coherence=theme.coherence,
                representative=state.sentences[theme.representative].clean,
            )
            for theme in themes
        ],
        claims=extract_claims(state),
        entities=extract_entities(state),
        patterns=detect_patterns(state),
    )


