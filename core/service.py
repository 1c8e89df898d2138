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

from core.cache import CacheHit, SemanticCache
from core.cooldown import UserCooldowns
from core.engine import AnalysisEngine
from core.errors import (
    AllSourcesFailedError,
    CacheError,
    EmptyInputError,
    InputError,
    LLMError,
    TooManySourcesError,
    UrlNotSupportedError,
)
from core.fetch.guard import DomainPolicy
from core.fetch.reader import SourceBatch, SourceReader
from core.fetch.urls import url_list_key
from core.guild_settings import EffectiveGuildSettings, GuildSettingsStore
from core.inputs import Attachment, attachment_document, find_urls, text_document
from core.llm import LLMBackend, LLMEngine, fallback_reason
from core.models import SCHEMA_VERSION, IntelReport, SourceDocument
from core.progress import Progress, ProgressSink, ignore_progress
from core.settings import Depth, Settings

__all__ = [
    "AnalysisOutcome",
    "AutointelRequest",
    "AutointelResult",
    "CacheHitInfo",
    "EngineChoice",
    "IntelService",
    "cache_namespace",
    "cache_query_text",
]

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


def cache_namespace(*, depth: Depth, engine: AnalysisEngine) -> str:
    """What must match for a cached report to be valid: command, depth, engine and schema version."""
    return f"autointel:{depth}:{engine.name}:v{SCHEMA_VERSION}"


def cache_query_text(documents: Sequence[SourceDocument]) -> str:
    """The text a request is cached under: the analysed texts, in order."""
    return "\n\n".join(document.text for document in documents)


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
        cache: SemanticCache | None = None,
        reader: SourceReader | None = None,
    ) -> None:
        self._settings = settings
        self._guild_settings = guild_settings
        self._local_engine = local_engine
        self._llm = llm
        self._cooldowns = cooldowns or UserCooldowns()
        self._cache = cache
        self._reader = reader

    def cooldown_remaining(self, *, guild_id: int, user_id: int) -> float:
        """Seconds before this user's next command may start (0 if now); a peek, claims nothing.

        Front ends call it before deferring so a refusal can be ephemeral; the command still claims.
        """
        return self._cooldowns.remaining(guild_id=guild_id, user_id=user_id)

    async def autointel(
        self, request: AutointelRequest, *, progress: ProgressSink = ignore_progress
    ) -> AutointelResult:
        started = time.perf_counter()
        guild = await self._guild_settings.effective(request.guild_id)
        depth: Depth = request.depth or guild.default_depth
        who = {"guild_id": request.guild_id, "user_id": request.user_id}
        self._cooldowns.claim(**who, seconds=guild.user_cooldown_seconds)
        choice = self._choose_engine(request, guild)
        namespace = cache_namespace(depth=depth, engine=choice.engine)
        urls = find_urls(request.target.strip()) if not request.attachments else None
        url_key = url_list_key(urls) if urls else None
        if url_key is not None and not request.fresh:
            url_hit = await self._cached_by_url(request.guild_id, namespace, url_key, progress=progress)
            if url_hit is not None:
                return AutointelResult(
                    report=url_hit.value, cache_hit=_hit_info(url_hit), notices=list(choice.notices),
                    elapsed_seconds=time.perf_counter() - started,
                )
        await progress(Progress("Reading input"))
        try:
            collected = await self._collect_sources(request, guild=guild, progress=progress)
        except InputError:
            self._cooldowns.release(**who)  # refused before any work: no wait for a typo
            raise
        documents = collected.documents
        query_text = cache_query_text(documents)
        if not request.fresh:
            hit = await self._cached_report(request.guild_id, namespace, query_text, progress=progress)
            if hit is not None:
                served = CacheHitInfo(
                    how=hit.how, similarity=hit.similarity, age_seconds=hit.age_seconds, entry_id=hit.entry_id
                )
                return AutointelResult(
                    report=_with_failures(hit.value, collected), cache_hit=served,
                    notices=[*choice.notices, *collected.notices], elapsed_seconds=time.perf_counter() - started,
                )
        outcome = await self._analyse(choice, documents, depth=depth, progress=progress)
        # Stored without this request's failures; the URL key only when every URL was read.
        url_keys = [url_key] if url_key is not None and not collected.failed_sources else []
        await self._remember(request.guild_id, namespace, query_text, outcome.report, keys=url_keys)
        return AutointelResult(
            report=_with_failures(outcome.report, collected), notices=[*outcome.notices, *collected.notices],
            elapsed_seconds=time.perf_counter() - started,
        )

    async def _cached_report(
        self, guild_id: int, namespace: str, query_text: str, *, progress: ProgressSink
    ) -> CacheHit[IntelReport] | None:
        """A stored report for this text, or ``None``; a failing cache is logged and skipped."""
        if self._cache is None:
            return None
        await progress(Progress("Checking the cache"))
        try:
            return await self._cache.lookup(guild_id, namespace, query_text, model=IntelReport)
        except CacheError:
            _log.warning("cache lookup failed for guild %s; analysing without it", guild_id, exc_info=True)
            return None

    async def _remember(
        self, guild_id: int, namespace: str, query_text: str, report: IntelReport, *, keys: Sequence[str] = ()
    ) -> None:
        """Store a report for the next identical or reworded request (not a degraded fallback one)."""
        if self._cache is None or report.engine.fallback_reason:
            return
        try:
            await self._cache.store(guild_id, namespace, query_text, report, keys=keys)
        except CacheError:
            _log.warning("could not cache the report for guild %s", guild_id, exc_info=True)

    async def _cached_by_url(
        self, guild_id: int, namespace: str, url_key: str, *, progress: ProgressSink
    ) -> CacheHit[IntelReport] | None:
        """A report stored for exactly these (normalised) URLs, found before any fetch."""
        if self._cache is None:
            return None
        await progress(Progress("Checking the cache"))
        try:
            return await self._cache.lookup_key(guild_id, namespace, url_key, model=IntelReport)
        except CacheError:
            _log.warning("cache URL lookup failed for guild %s; fetching", guild_id, exc_info=True)
            return None

    async def _collect_sources(
        self, request: AutointelRequest, *, guild: EffectiveGuildSettings, progress: ProgressSink
    ) -> SourceBatch:
        """Attachments, then the target: up to ``fetch_max_sources`` URLs, or text."""
        max_chars, min_words = self._settings.max_input_chars, self._settings.min_input_words
        collected = SourceBatch()
        for item in request.attachments:
            if self._reader is None:
                collected.documents.append(attachment_document(item, max_chars=max_chars, min_words=min_words))
            else:
                collected.documents.append(await self._reader.read_attachment(item))
        target = request.target.strip()
        urls = find_urls(target) if target else None
        if urls:
            batch = await self._read_urls(urls, guild=guild, progress=progress)
            collected.documents += batch.documents
            collected.failed_sources += batch.failed_sources
            collected.notices += batch.notices
        elif target:
            collected.documents.append(text_document(target, max_chars=max_chars, min_words=min_words))
        if not collected.documents and collected.failed_sources:
            raise AllSourcesFailedError(collected.failed_sources)
        if not collected.documents:
            raise EmptyInputError()
        return collected

    async def _read_urls(
        self, urls: list[str], *, guild: EffectiveGuildSettings, progress: ProgressSink
    ) -> SourceBatch:
        """One URL: its document or its error.  Several: fetched concurrently, failures listed."""
        if self._reader is None:
            raise UrlNotSupportedError(urls[0])
        if len(urls) > self._settings.fetch_max_sources:
            raise TooManySourcesError(count=len(urls), limit=self._settings.fetch_max_sources)
        domains = DomainPolicy(allowlist=tuple(guild.url_allowlist), denylist=tuple(guild.url_denylist))
        if len(urls) == 1:
            await progress(Progress("Fetching", detail=urls[0]))
            return SourceBatch(documents=[await self._reader.read_url(urls[0], domains=domains)])
        return await self._reader.read_batch(
            urls, domains=domains, concurrency=self._settings.fetch_concurrency, progress=progress
        )

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


def _hit_info(hit: CacheHit[IntelReport]) -> CacheHitInfo:
    return CacheHitInfo(how=hit.how, similarity=hit.similarity, age_seconds=hit.age_seconds, entry_id=hit.entry_id)


def _with_failures(report: IntelReport, collected: SourceBatch) -> IntelReport:
    """The report as this request sees it: with the sources that failed this time."""
    if not collected.failed_sources:
        return report
    return report.model_copy(update={"failed_sources": list(collected.failed_sources)})
