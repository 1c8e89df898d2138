"""Pydantic models of what the engine reads and writes.

An :class:`IntelReport` is the one output of every engine (local or LLM) and of the cache.  Bump
:data:`SCHEMA_VERSION` whenever a change would make an old stored report invalid; cached rows with
another version are treated as stale.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "SCHEMA_VERSION",
    "Claim",
    "ClaimKind",
    "CrossSourceSynthesis",
    "EngineInfo",
    "Entity",
    "IntelReport",
    "KeyInsight",
    "PatternAnalysis",
    "PatternType",
    "SourceDocument",
    "SourceInfo",
    "ThemeCluster",
    "count_words",
    "sha256_text",
]

SCHEMA_VERSION = 2  # 2: IntelReport.headline (the one-line TL;DR)

PatternType = Literal[
    "convergence", "divergence", "emergence", "temporal", "causal", "correlation", "cycle", "anomaly"
]
ClaimKind = Literal["statistic", "prediction", "assertion"]
SourceKind = Literal["text", "file", "url"]


_WORD_RE = re.compile(r"\w+", re.UNICODE)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def count_words(text: str) -> int:
    return len(_WORD_RE.findall(text))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class SourceDocument(_Model):
    """A piece of text to analyse, with where it came from.  Input to the engines."""

    kind: SourceKind = "text"
    text: str
    title: str | None = None
    url: str | None = None
    filename: str | None = None
    author: str | None = None
    published: str | None = None

    @property
    def label(self) -> str:
        return self.title or self.url or self.filename or "pasted text"

    def info(self) -> SourceInfo:
        """What a report records about this source; hashes and counts are computed, never trusted."""
        return SourceInfo(
            kind=self.kind,
            label=self.label,
            url=self.url,
            title=self.title,
            author=self.author,
            published=self.published,
            sha256=sha256_text(self.text),
            characters=len(self.text),
            words=count_words(self.text),
        )


class SourceInfo(_Model):
    """What a report was made from."""

    kind: SourceKind = "text"
    label: str
    url: str | None = None
    title: str | None = None
    author: str | None = None
    published: str | None = None
    sha256: str = Field(description="SHA-256 of the analysed text, hex")
    characters: int = Field(ge=0)
    words: int = Field(ge=0)


class KeyInsight(_Model):
    insight: str
    evidence: str = Field(description="A verbatim quote from the source supporting the insight")
    importance: float = Field(ge=0.0, le=1.0)
    source_indexes: list[int] = Field(default_factory=list, description="Which sources support it")


class PatternAnalysis(_Model):
    pattern_type: PatternType
    description: str
    evidence: list[str] = Field(default_factory=list)
    confidence: float = Field(ge=0.0, le=1.0)


class ThemeCluster(_Model):
    label: str
    keywords: list[str]
    size: int = Field(ge=1, description="Number of sentences in the theme")
    coherence: float = Field(ge=-1.0, le=1.0, description="Mean cosine similarity to the centroid")
    representative: str | None = None


class Claim(_Model):
    text: str
    kind: ClaimKind
    checkable: bool
    source_index: int = 0


class Entity(_Model):
    name: str
    label: str = Field(description="PERSON, ORG, PLACE, PRODUCT, EVENT, DATE, MONEY, PERCENT, OTHER")
    mentions: int = Field(ge=1)


class CrossSourceSynthesis(_Model):
    """Only for reports over more than one source."""

    common_themes: list[str] = Field(default_factory=list)
    divergences: list[str] = Field(default_factory=list)
    contradictions: list[str] = Field(default_factory=list)
    summary: str = ""


class EngineInfo(_Model):
    name: Literal["local", "llm"]
    model: str
    fallback_reason: str | None = None
    elapsed_seconds: float = Field(default=0.0, ge=0)

    @property
    def label(self) -> str:
        if self.name == "llm":
            return f"LLM: {self.model}"
        if self.fallback_reason:
            return f"local analysis ({self.fallback_reason})"
        return "local analysis"


class IntelReport(_Model):
    schema_version: int = SCHEMA_VERSION
    depth: Literal["quick", "standard", "deep"]
    sources: list[SourceInfo]
    headline: str = Field(default="", description="The report in one line (TL;DR); empty when the engine gives none")
    summary: str
    key_insights: list[KeyInsight] = Field(default_factory=list)
    patterns: list[PatternAnalysis] = Field(default_factory=list)
    themes: list[ThemeCluster] = Field(default_factory=list)
    claims: list[Claim] = Field(default_factory=list)
    entities: list[Entity] = Field(default_factory=list)
    synthesis: CrossSourceSynthesis | None = None
    failed_sources: list[str] = Field(default_factory=list)
    engine: EngineInfo
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @property
    def title(self) -> str:
        if len(self.sources) == 1:
            return self.sources[0].label
        return f"{len(self.sources)} sources"
