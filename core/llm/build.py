"""Turning what the LLM wrote into an :class:`~core.models.IntelReport` the engine can vouch for.

The LLM is trusted for judgement only.  Here the engine:

* fills every :class:`~core.models.SourceInfo` itself (SHA-256, characters, words);
* keeps a key insight only if its evidence is a verbatim quote of a source after whitespace
  normalisation (and fixes its ``source_index`` to the source that holds it); pattern evidence
  that is not verbatim is dropped;
* counts entity mentions and theme sentences in the sources (dropping what never occurs), and
  measures theme coherence with the embedder;
* neutralises ``@everyone``, ``@here`` and ``<@id>`` mentions in every text field.

:func:`ground_report` is blocking (it embeds): run it through the worker gate.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel

from core.embedder import Embedder
from core.llm.schema import LLMInsight, LLMReport, LLMTheme
from core.models import (
    Claim,
    CrossSourceSynthesis,
    EngineInfo,
    Entity,
    IntelReport,
    KeyInsight,
    PatternAnalysis,
    SourceDocument,
    ThemeCluster,
)
from core.settings import Depth

__all__ = ["GroundedReport", "ground_report", "neutralise_mentions", "normalise_whitespace"]

_log = logging.getLogger(__name__)

_MASS_MENTION_RE = re.compile(r"@(everyone|here)\b", re.IGNORECASE)
_USER_MENTION_RE = re.compile(r"<(@[!&]?|#)(\d+)>")
_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+")
_QUOTE_CHARS = "\"'“”‘’«» "
_INSIGHT_LIMIT: dict[Depth, int] = {"quick": 4, "standard": 7, "deep": 10}
ZERO_WIDTH_SPACE = "\u200b"


class GroundedReport(BaseModel):
    """The checked report and what was thrown away (for the log and the user's notices)."""

    report: IntelReport
    dropped_insights: int = 0


def normalise_whitespace(text: str) -> str:
    return " ".join(text.split())


def neutralise_mentions(text: str) -> str:
    """Make mass and user/role/channel mentions inert by breaking them with a zero-width space."""
    text = _MASS_MENTION_RE.sub(lambda match: f"@{ZERO_WIDTH_SPACE}{match.group(1)}", text)
    return _USER_MENTION_RE.sub(lambda match: f"<{ZERO_WIDTH_SPACE}{match.group(1)}{match.group(2)}>", text)




class _Sources:
    """The source texts, normalised once, for quote and count checks."""

    def __init__(self, sources: Sequence[SourceDocument]) -> None:
        self.normalised = [normalise_whitespace(source.text) for source in sources]
        self.lowered = [text.lower() for text in self.normalised]
        self.sentences = [
            sentence for text in self.normalised for sentence in _SENTENCE_RE.split(text) if sentence
        ]

    def locate(self, quote: str, *, preferred: int) -> int | None:
        """Index of a source that contains ``quote`` verbatim (preferring ``preferred``), else None."""
        needle = normalise_whitespace(quote.strip(_QUOTE_CHARS))
        if len(needle) < 8:
            return None
        order = [preferred, *range(len(self.normalised))] if preferred < len(self.normalised) else range(
            len(self.normalised)
        )
        return next((index for index in order if needle in self.normalised[index]), None)

    def mentions(self, name: str) -> int:
        pattern = re.compile(rf"(?<!\w){re.escape(normalise_whitespace(name).lower())}(?!\w)")
        return sum(len(pattern.findall(text)) for text in self.lowered)

    def theme_sentences(self, keywords: Sequence[str]) -> list[str]:
        lowered = [keyword.lower().strip() for keyword in keywords if keyword.strip()]
        return [sentence for sentence in self.sentences if any(word in sentence.lower() for word in lowered)]


def _insights(items: Sequence[LLMInsight], texts: _Sources, *, limit: int) -> tuple[list[KeyInsight], int]:
    kept: list[KeyInsight] = []
    for item in items:
        where = texts.locate(item.evidence, preferred=item.source_index)
        if where is None:
            continue
        kept.append(
            KeyInsight(
                insight=neutralise_mentions(item.insight),
                evidence=neutralise_mentions(normalise_whitespace(item.evidence.strip(_QUOTE_CHARS))),
                importance=item.importance,
                source_indexes=[where],
            )
        )
    kept.sort(key=lambda insight: insight.importance, reverse=True)
    return kept[:limit], len(items) - len(kept)


def _patterns(report: LLMReport, texts: _Sources) -> list[PatternAnalysis]:
    return [
        PatternAnalysis(
            pattern_type=pattern.pattern_type,
            description=neutralise_mentions(pattern.description),
            evidence=[
                neutralise_mentions(normalise_whitespace(quote.strip(_QUOTE_CHARS)))
                for quote in pattern.evidence
                if texts.locate(quote, preferred=0) is not None
            ],
            confidence=pattern.confidence,
        )
        for pattern in report.patterns
    ]


def _themes(items: Sequence[LLMTheme], texts: _Sources, embedder: Embedder) -> list[ThemeCluster]:
    themes = []
    for item in items:
        sentences = texts.theme_sentences(item.keywords)
        if not sentences:
            continue
        vectors = embedder.embed(sentences[:64])
        centroid = vectors.mean(axis=0)
        centroid /= max(float(np.linalg.norm(centroid)), 1e-12)
        similarities = vectors @ centroid
        themes.append(
            ThemeCluster(
                label=neutralise_mentions(item.label),
                keywords=[neutralise_mentions(keyword) for keyword in item.keywords[:8]],
                size=len(sentences),
                coherence=float(np.clip(similarities.mean(), -1.0, 1.0)),
                representative=neutralise_mentions(sentences[int(similarities.argmax())]),
            )
        )
    return themes


def _entities(report: LLMReport, texts: _Sources) -> list[Entity]:
    entities: dict[str, Entity] = {}
    for item in report.entities:
        key = normalise_whitespace(item.name).lower()
        mentions = texts.mentions(item.name)
        if mentions and key not in entities:
            entities[key] = Entity(name=neutralise_mentions(item.name), label=item.label, mentions=mentions)
    return sorted(entities.values(), key=lambda entity: entity.mentions, reverse=True)


def _claims(report: LLMReport, source_count: int) -> list[Claim]:
    return [
        Claim(
            text=neutralise_mentions(claim.text),
            kind=claim.kind,
            checkable=claim.checkable,
            source_index=claim.source_index if claim.source_index < source_count else 0,
        )
        for claim in report.claims
    ]


def _synthesis(report: LLMReport, source_count: int) -> CrossSourceSynthesis | None:
    if source_count < 2 or report.synthesis is None:
        return None
    synthesis = report.synthesis
    return CrossSourceSynthesis(
        common_themes=[neutralise_mentions(item) for item in synthesis.common_themes],
        divergences=[neutralise_mentions(item) for item in synthesis.divergences],
        contradictions=[neutralise_mentions(item) for item in synthesis.contradictions],
        summary=neutralise_mentions(synthesis.summary),
    )


def ground_report(
    answer: LLMReport,
    *,
    sources: Sequence[SourceDocument],
    depth: Depth,
    model: str,
    embedder: Embedder,
    elapsed_seconds: float,
) -> GroundedReport:
    """Check ``answer`` against ``sources`` and build the report (blocking: it embeds)."""
    texts = _Sources(sources)
    insights, dropped = _insights(answer.key_insights, texts, limit=_INSIGHT_LIMIT[depth])
    if dropped:
        _log.info("dropped %d LLM insight(s) whose evidence is not a quote from the source", dropped)
    report = IntelReport(
        depth=depth,
        sources=[source.info() for source in sources],
        summary=neutralise_mentions(answer.summary),
        key_insights=insights,
        patterns=_patterns(answer, texts),
        themes=_themes(answer.themes, texts, embedder),
        claims=_claims(answer, len(sources)),
        entities=_entities(answer, texts),
        synthesis=_synthesis(answer, len(sources)),
        engine=EngineInfo(name="llm", model=model, elapsed_seconds=elapsed_seconds),
    )
    return GroundedReport(report=report, dropped_insights=dropped)
