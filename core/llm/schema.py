"""The report the LLM is asked to write: a smaller model than :class:`~core.models.IntelReport`.

The LLM writes only judgement (summary, insights with quotes, patterns, themes, claims, entities,
synthesis).  Facts the engine can compute itself (hashes, sizes, counts, coherence) are never
taken from it: :mod:`core.llm.build` adds them.  :func:`parse_llm_report` turns the raw answer
into an :class:`LLMReport` or raises :class:`InvalidAnswer` with a short list of problems that the
repair prompt can quote back.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.models import ClaimKind, PatternType

__all__ = [
    "InvalidAnswer",
    "LLMClaim",
    "LLMEntity",
    "LLMInsight",
    "LLMPattern",
    "LLMReport",
    "LLMSynthesis",
    "LLMTheme",
    "llm_report_schema",
    "parse_llm_report",
]

EntityLabel = Literal["PERSON", "ORG", "PLACE", "DATE", "MONEY", "PERCENT", "OTHER"]

_FENCE_RE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LLMInsight(_Strict):
    insight: str = Field(min_length=1, description="One sentence stating the insight")
    evidence: str = Field(min_length=1, description="An exact, verbatim quote from the source")
    importance: float = Field(ge=0.0, le=1.0)
    source_index: int = Field(default=0, ge=0, description="Index of the source the quote is from")


class LLMPattern(_Strict):
    pattern_type: PatternType
    description: str = Field(min_length=1)
    evidence: list[str] = Field(default_factory=list, description="Verbatim quotes")
    confidence: float = Field(ge=0.0, le=1.0)


class LLMTheme(_Strict):
    label: str = Field(min_length=1)
    keywords: list[str] = Field(min_length=1, description="Words that occur in the source")


class LLMClaim(_Strict):
    text: str = Field(min_length=1)
    kind: ClaimKind
    checkable: bool
    source_index: int = Field(default=0, ge=0)


class LLMEntity(_Strict):
    name: str = Field(min_length=1, description="Exactly as written in the source")
    label: EntityLabel


class LLMSynthesis(_Strict):
    common_themes: list[str] = Field(default_factory=list)
    divergences: list[str] = Field(default_factory=list)
    contradictions: list[str] = Field(default_factory=list)
    summary: str = ""


class LLMReport(_Strict):
    summary: str = Field(min_length=1)
    key_insights: list[LLMInsight] = Field(default_factory=list)
    patterns: list[LLMPattern] = Field(default_factory=list)
    themes: list[LLMTheme] = Field(default_factory=list)
    claims: list[LLMClaim] = Field(default_factory=list)
    entities: list[LLMEntity] = Field(default_factory=list)
    synthesis: LLMSynthesis | None = Field(default=None, description="Only when there are several sources")


class InvalidAnswer(Exception):
    """The answer is not a valid :class:`LLMReport`; ``problems`` say why, briefly.  Internal."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


def llm_report_schema() -> dict[str, Any]:
    return LLMReport.model_json_schema()


def parse_llm_report(content: str) -> LLMReport:
    """Parse the LLM's answer (a JSON object, perhaps in a code fence)."""
    fenced = _FENCE_RE.match(content)
    text = fenced.group(1) if fenced else content.strip()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidAnswer([f"not valid JSON ({exc.msg} at position {exc.pos})"]) from exc
    if not isinstance(data, dict):
        raise InvalidAnswer(["the answer must be one JSON object"])
    try:
        return LLMReport.model_validate(data)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(part) for part in error['loc']) or 'report'}: {error['msg']}"
            for error in exc.errors()[:8]
        ]
        raise InvalidAnswer(problems) from exc
