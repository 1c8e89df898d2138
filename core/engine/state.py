"""What the local engine knows about a text once it has read it: the analysis state.

:class:`AnalysisState` holds, for every sentence of every source, its text, its embedding, the
theme it belongs to and its salience scores.  The report is extracted from it, and a cross-source
step (``core.engine.synthesis``) can take it whole: ``state.source_indexes`` says which source
each sentence came from, ``state.theme_labels`` which theme, ``state.embeddings`` its unit vector.

:class:`DepthProfile` says how much a ``depth`` extracts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from core.engine.shape import DocumentShape
from core.engine.text import Sentence
from core.settings import Depth

__all__ = ["DEPTH_PROFILES", "AnalysisState", "DepthProfile", "ThemeState"]


class DepthProfile(BaseModel):
    """How much one depth extracts.  Deeper profiles never extract less."""

    model_config = ConfigDict(frozen=True)

    max_themes: int = Field(ge=1)
    min_themes: int = Field(default=2, ge=1)
    insights: int = Field(ge=1)
    summary_sentences: int = Field(ge=1)
    claims: int = Field(ge=1)
    patterns: int = Field(ge=1)
    entities: int = Field(ge=1)
    keywords: int = Field(default=6, ge=1)
    evidence_per_pattern: int = Field(default=3, ge=1)


DEPTH_PROFILES: dict[Depth, DepthProfile] = {
    "quick": DepthProfile(
        max_themes=3, insights=3, summary_sentences=3, claims=5, patterns=3, entities=10, keywords=5
    ),
    "standard": DepthProfile(
        max_themes=6, min_themes=3, insights=5, summary_sentences=5, claims=10, patterns=6, entities=20
    ),
    "deep": DepthProfile(
        max_themes=10, min_themes=4, insights=8, summary_sentences=7, claims=20, patterns=12, entities=40,
        keywords=8, evidence_per_pattern=4,
    ),
}


@dataclass(frozen=True, slots=True)
class ThemeState:
    """One theme cluster: its member sentences (document order), centre, keywords and label."""

    cluster: int
    members: tuple[int, ...]
    centroid: np.ndarray
    coherence: float
    keywords: tuple[str, ...]
    label: str
    representative: int

    @property
    def size(self) -> int:
        return len(self.members)


@dataclass(slots=True)
class AnalysisState:
    """Everything computed over the sentences of all sources, in sentence order.

    ``embeddings`` is ``(n, dim)`` float32 with unit rows; ``theme_labels[i]`` is the index in
    ``themes`` of sentence ``i``'s theme; ``summary_scores`` and ``insight_scores`` are the
    salience of each sentence in [0, 1]; ``shapes[s]`` is what kind of text source ``s`` is
    (a source without an entry counts as an article).
    """

    depth: Depth
    profile: DepthProfile
    source_count: int
    sentences: list[Sentence]
    embeddings: np.ndarray
    theme_labels: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    themes: list[ThemeState] = field(default_factory=list)
    summary_scores: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    insight_scores: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    shapes: list[DocumentShape] = field(default_factory=list)

    @property
    def source_indexes(self) -> np.ndarray:
        """``(n,)`` int array: the source each sentence came from."""
        return np.fromiter((s.source_index for s in self.sentences), dtype=np.int64, count=len(self.sentences))

    def shape_of(self, source_index: int) -> DocumentShape:
        return self.shapes[source_index] if source_index < len(self.shapes) else "article"

    def sentences_of_source(self, source_index: int) -> list[Sentence]:
        return [sentence for sentence in self.sentences if sentence.source_index == source_index]
