"""The service both front ends call: one request in, one report (or a clear error) out.

:class:`IntelService` orchestrates; it does no blocking work itself.  Collecting sources, the cache,
choosing an engine and analysing are short private steps so each can grow on its own.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from core.cooldown import UserCooldowns
from core.engine import AnalysisEngine
from core.errors import EmptyInputError, InputError, LLMError, UrlNotSupportedError
from core.guild_settings import EffectiveGuildSettings, GuildSettingsStore
from core.inputs import Attachment, attachment_document, find_urls, text_document
from core.llm import LLMBackend, LLMEngine, fallback_reason
from core.models import IntelReport, SourceDocument
from core.progress import Progress, ProgressSink, ignore_progress
from core.settings import Depth, Settings

__all__ = ["AnalysisOutcome", "AutointelRequest", "AutointelResult", "CacheHitInfo", "EngineChoice", "IntelService"]

_log = logging.getLogger(__name__)


class AutointelRequest(BaseModel):
    """One ``/autointel`` call, from whichever front end."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    guild_id: int = Field(ge=0, description="0 for the console and direct messages")
    user_id: int = Field(ge=0)
    target: str = ""
    attachments: tuple[Attachment, ...] = ()
    depth: Depth | None = None
    fresh: bool = False


class CacheHitInfo(BaseModel):
    """How a served-from-cache report matched."""

    how: Literal["exact", "semantic"]
    similarity: float
    age_seconds: float
    entry_id: int


class AutointelResult(BaseModel):
    report: IntelReport
    cache_hit: CacheHitInfo | None = None
    notices: list[str] = Field(default_factory=list)
    elapsed_seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class EngineChoice:
    """The engine picked for a request, and notices about the choice (e.g. a disallowed model).

    A dataclass, not a pydantic model: pydantic cannot validate a non-runtime Protocol field.
    """

    engine: AnalysisEngine
    notices: list[str] = field(default_factory=list)


class AnalysisOutcome(BaseModel):
    """The report an engine wrote (after any fallback), and what the user should be told."""

    report: IntelReport
    notices: list[str] = Field(default_factory=list)


class IntelService:
    """Front-end-agnostic entry point.  Built by :class:`core.runtime.IntelRuntime`.

    ``llm`` is ``None`` when no LLM is configured: every report is then local, as before.
    """

    def __init__(
        self,
        *,
        settings: Settings,
        guild_settings: GuildSettingsStore,
        local_engine: AnalysisEngine,
        llm: LLMBackend | None = None,
        cooldowns: UserCooldowns | None = None,
    ) -> None:
        self._settings = settings
        self._guild_settings = guild_settings
        self._local_engine = local_engine
        self._llm = llm
        self._cooldowns = cooldowns or UserCooldowns()

    async def autointel(
        self, request: AutointelRequest, *, progress: ProgressSink = ignore_progress
    ) -> AutointelResult:
        started = time.perf_counter()
        guild = await self._guild_settings.effective(request.guild_id)
        depth: Depth = request.depth or guild.default_depth
        who = {"guild_id": request.guild_id, "user_id": request.user_id}
        self._cooldowns.claim(**who, seconds=guild.user_cooldown_seconds)
        await progress(Progress("Reading input"))
        try:
            documents = await self._collect_sources(request, progress=progress)
        except InputError:
            self._cooldowns.release(**who)  # refused before any work: no wait for a typo
            raise
        choice = self._choose_engine(request, guild)
        outcome = await self._analyse(choice, documents, depth=depth, progress=progress)
        return AutointelResult(
            report=outcome.report, notices=outcome.notices, elapsed_seconds=time.perf_counter() - started
        )

    async def _collect_sources(
        self, request: AutointelRequest, *, progress: ProgressSink
    ) -> Sequence[SourceDocument]:
        limits = {"max_chars": self._settings.max_input_chars, "min_words": self._settings.min_input_words}
        documents = [attachment_document(item, **limits) for item in request.attachments]
        target = request.target.strip()
        if target:
            urls = find_urls(target)
            if urls:
                raise UrlNotSupportedError(urls[0])
            documents.append(text_document(target, **limits))
        if not documents:
            raise EmptyInputError()
        return documents

    def _choose_engine(self, request: AutointelRequest, guild: EffectiveGuildSettings) -> EngineChoice:
        """The LLM when one is configured (with the guild's model if allowed), else the local engine."""
        if self._llm is None:
            return EngineChoice(engine=self._local_engine)
        model, notice = self._llm.choose_model(guild.llm_model)
        engine = self._llm.engine_for(guild_id=request.guild_id, model=model, budget_usd=guild.daily_budget_usd)
        return EngineChoice(engine=engine, notices=[notice] if notice else [])

    async def _analyse(
        self, choice: EngineChoice, documents: Sequence[SourceDocument], *, depth: Depth, progress: ProgressSink
    ) -> AnalysisOutcome:
        """Run the chosen engine; if the LLM fails in any way, run the local engine with the reason."""
        try:
            report = await choice.engine.analyse(documents, depth=depth, progress=progress)
        except LLMError as error:
            if choice.engine is self._local_engine:
                raise
            return await self._fall_back(choice, documents, error=error, depth=depth, progress=progress)
        notices = list(choice.notices)
        if isinstance(choice.engine, LLMEngine) and choice.engine.dropped_insights:
            notices.append(
                f"{choice.engine.dropped_insights} insight(s) from the LLM were left out: "
                "their quotes are not in the source."
            )
        return AnalysisOutcome(report=report, notices=notices)

    async def _fall_back(
        self,
        choice: EngineChoice,
        documents: Sequence[SourceDocument],
        *,
        error: LLMError,
        depth: Depth,
        progress: ProgressSink,
    ) -> AnalysisOutcome:
        reason = fallback_reason(error)
        _log.warning("%s could not write the report (%s); using the local engine", choice.engine.name, reason)
        await progress(Progress("Falling back to local analysis", detail=reason))
        report = await self._local_engine.analyse(documents, depth=depth, progress=progress)
        engine = report.engine.model_copy(update={"fallback_reason": reason})
        return AnalysisOutcome(
            report=report.model_copy(update={"engine": engine}),
            notices=[*choice.notices, f"Ran on local analysis: {reason}."],
        )
