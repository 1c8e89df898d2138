"""The service both front ends call: one request in, one report (or a clear error) out.

:class:`IntelService` orchestrates; it does no blocking work itself.  Collecting sources, the cache,
choosing an engine and analysing are short private steps so each can grow on its own.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from core.ask import LLMAnswerWriter, ask_namespace, no_answer
from core.cache import CacheHit, CacheStats, SemanticCache
from core.cooldown import UserCooldowns
from core.embedder import Embedder
from core.engine import AnalysisEngine
from core.errors import (
    AllSourcesFailedError,
    CacheError,
    EmptyInputError,
    InputError,
    InputTooLargeError,
    LLMError,
    TooManySourcesError,
)
from core.fetch.guard import DomainPolicy
from core.fetch.reader import SourceBatch, SourceReader
from core.fetch.urls import url_list_key
from core.guild_settings import EffectiveGuildSettings, GuildSettings, GuildSettingsStore
from core.inputs import Attachment, find_urls, text_document
from core.llm import LLMBackend, LLMEngine, fallback_reason
from core.llm.breaker import BreakerSnapshot
from core.llm.ledger import GuildSpend
from core.models import SCHEMA_VERSION, IntelReport, SourceDocument
from core.progress import Progress, ProgressSink, ignore_progress
from core.queue import AnalysisQueue, QueueStats, QueueTicket
from core.reports import Answer, ReportLibrary, ReportMatch, ReportSummary, extractive_answer
from core.settings import Depth, Settings
from core.tenants import require_tenant

__all__ = [
    "AnalysisOutcome",
    "AskRequest",
    "AskResult",
    "AutointelRequest",
    "AutointelResult",
    "CacheHitInfo",
    "EngineChoice",
    "IntelService",
    "LLMStatus",
    "ReportHistory",
    "ServiceStatus",
    "SettingChange",
    "SettingsView",
    "cache_namespace",
    "cache_query_text",
    "format_age",
]

_log = logging.getLogger(__name__)


# A tenant from core.tenants.tenant_for (a guild, a DM user, the console); 0 is refused.
TenantId = Annotated[int, AfterValidator(require_tenant)]


class AutointelRequest(BaseModel):
    """One ``/autointel`` call, from whichever front end."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    guild_id: TenantId
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
    namespace: str = Field(exclude=True)
    """Where the entry was found: what "Wrong answer?" needs, never shown."""
    query_text: str = Field(exclude=True)
    """The text that was looked up (the pair "Wrong answer?" records), never shown."""

    def describe(self) -> str:
        """One line for any front end, e.g. ``exact match, similarity 1.00, 5 min old, cache entry #12``."""
        return (
            f"{self.how} match, similarity {self.similarity:.2f}, {format_age(self.age_seconds)} old, "
            f"cache entry #{self.entry_id}"
        )


def format_age(seconds: float) -> str:
    """``42 s``, ``5 min``, ``3 h 10 min``, ``2 d 4 h``."""
    minutes, _ = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min"
    return f"{int(seconds)} s"


class AutointelResult(BaseModel):
    report: IntelReport
    report_id: int | None = Field(default=None, description="Its id in the guild's report library")
    cache_hit: CacheHitInfo | None = None
    notices: list[str] = Field(default_factory=list)
    elapsed_seconds: float = 0.0


ASK_MAX_CHARS = 500
NO_REPORTS_TEXT = "This server has no reports yet: run /autointel first, then ask about them."
NO_REPORTS_TEXT_DM = "You have no reports here yet: run /autointel in this chat first, then ask about them."
NO_ANSWER_TEXT_DM = "Your reports here do not contain an answer to that question."
STORE_FAILED_NOTICE = (
    "This report could not be saved (storage failed): it will not be reused, listed, or used by /ask."
)


class AskRequest(BaseModel):
    """One ``/ask`` call: a question about the guild's own past reports."""

    model_config = ConfigDict(frozen=True)

    guild_id: TenantId
    user_id: int = Field(ge=0)
    question: str
    fresh: bool = False


class AskResult(BaseModel):
    answer: Answer
    cache_hit: CacheHitInfo | None = None
    notices: list[str] = Field(default_factory=list)
    elapsed_seconds: float = 0.0


class ReportHistory(BaseModel):
    """A tenant's newest reports, and how many it has in all."""

    summaries: list[ReportSummary]
    total: int


class SettingsView(BaseModel):
    """A tenant's settings in force, and which of them it set itself."""

    effective: EffectiveGuildSettings
    overrides: GuildSettings


class SettingChange(BaseModel):
    key: str
    before: Any
    after: Any


class LLMStatus(BaseModel):
    model: str
    base_url: str
    breaker: BreakerSnapshot


class ServiceStatus(BaseModel):
    """What ``/status`` shows, for every front end; the tenant's figures when one is given."""

    embedding_model: str
    embedding_loaded: bool
    embedding_dimension: int | None
    llm: LLMStatus | None = Field(default=None, description="None: no LLM configured")
    queue: QueueStats
    cache: CacheStats | None = Field(default=None, description="None: no tenant, or the cache failed")
    spend_today: GuildSpend | None = None
    daily_budget_usd: float | None = None


PACKAGED_MODEL_NAME = "all-MiniLM-L6-v2 (packaged)"


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
    """The one thing front ends call.  Built whole by :class:`core.runtime.IntelRuntime`.

    ``llm`` is ``None`` when no LLM is configured (a deployment choice): every report is then local.
    Every method takes a tenant id from :func:`core.tenants.tenant_for` as ``guild_id``.
    """

    def __init__(
        self,
        *,
        settings: Settings,
        guild_settings: GuildSettingsStore,
        local_engine: AnalysisEngine,
        llm: LLMBackend | None,
        cooldowns: UserCooldowns,
        cache: SemanticCache,
        reader: SourceReader,
        reports: ReportLibrary,
        queue: AnalysisQueue,
        embedder: Embedder,
    ) -> None:
        self._settings = settings
        self._reports = reports
        self._guild_settings = guild_settings
        self._local_engine = local_engine
        self._llm = llm
        self._cooldowns = cooldowns
        self._cache = cache
        self._reader = reader
        self._queue = queue
        self._embedder = embedder

    def cooldown_remaining(self, *, guild_id: int, user_id: int) -> float:
        """Seconds before this user's next command may start (0 if now); a peek, claims nothing.

        Front ends call it before deferring so a refusal can be ephemeral; the command still claims.
        """
        return self._cooldowns.remaining(guild_id=guild_id, user_id=user_id)

    def enter_queue(self, guild_id: int) -> QueueTicket:
        """A place in the analysis queue, or :class:`~core.errors.BusyError` at once.

        Front ends take it before answering the user, so "busy" can be a private reply, and pass
        it to :meth:`autointel` (which takes one itself when given none).
        """
        return self._queue.enter(require_tenant(guild_id))

    async def effective_settings(self, guild_id: int) -> EffectiveGuildSettings:
        return await self._guild_settings.effective(require_tenant(guild_id))

    async def autointel(
        self, request: AutointelRequest, *, progress: ProgressSink = ignore_progress, ticket: QueueTicket | None = None
    ) -> AutointelResult:
        """One report: claim the cooldown, wait for a turn in the queue, then read, look up, analyse."""
        started = time.perf_counter()
        ticket = ticket or self.enter_queue(request.guild_id)
        async with ticket:
            guild = await self._guild_settings.effective(request.guild_id)
            self._cooldowns.claim(guild_id=request.guild_id, user_id=request.user_id,
                                  seconds=guild.user_cooldown_seconds)
            await ticket.wait(progress=progress)
            result = await self._autointel(request, guild=guild, progress=progress)
        return result.model_copy(update={"elapsed_seconds": time.perf_counter() - started})

    async def _autointel(
        self, request: AutointelRequest, *, guild: EffectiveGuildSettings, progress: ProgressSink
    ) -> AutointelResult:
        depth: Depth = request.depth or guild.default_depth
        choice = self._choose_engine(request, guild)
        namespace = cache_namespace(depth=depth, engine=choice.engine)
        urls = find_urls(request.target.strip()) if not request.attachments else None
        url_key = url_list_key(urls) if urls else None
        if url_key is not None and not request.fresh:
            url_hit = await self._cached_by_url(request.guild_id, namespace, url_key, progress=progress)
            if url_hit is not None:
                return AutointelResult(
                    report=url_hit.value, report_id=await self._saved_id(request.guild_id, url_hit.value),
                    cache_hit=_hit_info(url_hit, namespace=namespace, query_text=url_key), notices=list(choice.notices),
                )
        await progress(Progress("Reading input"))
        try:
            collected = await self._collect_sources(request, guild=guild, progress=progress)
        except InputError:
            self._cooldowns.release(guild_id=request.guild_id, user_id=request.user_id)  # no wait for a typo
            raise
        query_text = cache_query_text(collected.documents)
        if not request.fresh:
            hit = await self._cached_report(request.guild_id, namespace, query_text, progress=progress)
            if hit is not None:
                return AutointelResult(
                    report=_with_failures(hit.value, collected),
                    cache_hit=_hit_info(hit, namespace=namespace, query_text=query_text),
                    report_id=await self._saved_id(request.guild_id, hit.value),
                    notices=[*choice.notices, *collected.notices],
                )
        outcome = await self._analyse(choice, collected.documents, depth=depth, progress=progress)
        return await self._keep(request, namespace, query_text, outcome=outcome, collected=collected,
                                url_keys=[url_key] if url_key is not None and not collected.failed_sources else [])

    async def _keep(
        self, request: AutointelRequest, namespace: str, query_text: str, *, outcome: AnalysisOutcome,
        collected: SourceBatch, url_keys: list[str],
    ) -> AutointelResult:
        """Store a new report (cache and library); a storage failure costs a note, never the report.

        Cached without this request's failures; under the URL key only when every URL was read.
        """
        notices = [*outcome.notices, *collected.notices]
        cached = await self._remember(request.guild_id, namespace, query_text, outcome.report, keys=url_keys)
        shown = _with_failures(outcome.report, collected)
        report_id = await self._save(request, shown)
        if not cached or report_id is None:
            notices.append(STORE_FAILED_NOTICE)
        return AutointelResult(report=shown, report_id=report_id, notices=notices)

    async def _save(self, request: AutointelRequest, report: IntelReport) -> int | None:
        """Add a new report to the tenant's library (for /ask and /intel); ``None`` if that failed."""
        try:
            return await self._reports.add(guild_id=request.guild_id, user_id=request.user_id, report=report)
        except Exception:  # the user still gets the report, with a note; the library just misses it
            _log.exception("could not save the report of tenant %s to the library", request.guild_id)
            return None

    async def _saved_id(self, guild_id: int, report: IntelReport) -> int | None:
        """The library id a cached report was saved under, if it is still there."""
        return await self._reports.find_id(guild_id, report)

    async def _cached_report(
        self, guild_id: int, namespace: str, query_text: str, *, progress: ProgressSink
    ) -> CacheHit[IntelReport] | None:
        """A stored report for this text, or ``None``; a failing cache is logged and skipped."""
        await progress(Progress("Checking the cache"))
        try:
            return await self._cache.lookup(guild_id, namespace, query_text, model=IntelReport)
        except CacheError:
            _log.warning("cache lookup failed for guild %s; analysing without it", guild_id, exc_info=True)
            return None

    async def _remember(
        self, guild_id: int, namespace: str, query_text: str, report: IntelReport, *, keys: Sequence[str] = ()
    ) -> bool:
        """Store a report for the next identical or reworded request (not a degraded fallback one).

        ``False`` only when storing failed (logged); a fallback report is not stored, by design.
        """
        if report.engine.fallback_reason:
            return True
        try:
            await self._cache.store(guild_id, namespace, query_text, report, keys=keys)
        except (CacheError, OSError):
            _log.warning("could not cache the report for tenant %s", guild_id, exc_info=True)
            return False
        return True

    async def _cached_by_url(
        self, guild_id: int, namespace: str, url_key: str, *, progress: ProgressSink
    ) -> CacheHit[IntelReport] | None:
        """A report stored for exactly these (normalised) URLs, found before any fetch."""
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
        if len(urls) > self._settings.fetch_max_sources:
            raise TooManySourcesError(count=len(urls), limit=self._settings.fetch_max_sources)
        domains = DomainPolicy(allowlist=tuple(guild.url_allowlist), denylist=tuple(guild.url_denylist))
        if len(urls) == 1:
            await progress(Progress("Fetching", detail=urls[0]))
            return SourceBatch(documents=[await self._reader.read_url(urls[0], domains=domains)])
        return await self._reader.read_batch(
            urls, domains=domains, concurrency=self._settings.fetch_concurrency, progress=progress
        )

    async def ask(self, request: AskRequest) -> AskResult:
        """Answer from the guild's own reports, citing them; say plainly when they hold no answer.

        Retrieval decides what may answer (passages over the library's threshold); with an LLM
        configured it writes the answer from those passages, else they are the answer.  Cached like
        ``/autointel`` under a namespace that includes the guild's newest report id.
        """
        started = time.perf_counter()
        question = _ask_question(request.question)
        latest = await self._reports.latest_id(request.guild_id)
        if latest == 0:
            empty = NO_REPORTS_TEXT_DM if request.guild_id < 0 else NO_REPORTS_TEXT
            return AskResult(answer=no_answer(question, text=empty))
        guild = await self._guild_settings.effective(request.guild_id)
        writer, notices = self._answer_writer(request.guild_id, guild)
        namespace = ask_namespace(engine=writer.name if writer else "extractive", latest_report_id=latest)
        if not request.fresh:
            hit = await self._cached_answer(request.guild_id, namespace, question)
            if hit is not None:
                return AskResult(answer=hit.value, cache_hit=_hit_info(hit, namespace=namespace, query_text=question),
                                 notices=notices,
                                 elapsed_seconds=time.perf_counter() - started)
        answer, degraded = await self._answer(request.guild_id, question, writer=writer, notices=notices)
        if not answer.found and request.guild_id < 0:  # a DM user's (or the console's) own reports
            answer = answer.model_copy(update={"text": NO_ANSWER_TEXT_DM})
        if not degraded:
            await self._remember_answer(request.guild_id, namespace, question, answer)
        return AskResult(answer=answer, notices=notices, elapsed_seconds=time.perf_counter() - started)

    def _answer_writer(
        self, guild_id: int, guild: EffectiveGuildSettings
    ) -> tuple[LLMAnswerWriter | None, list[str]]:
        """The LLM writer (with the guild's model if allowed) when an LLM is configured."""
        if self._llm is None:
            return None, []
        model, notice = self._llm.choose_model(guild.llm_model)
        writer = LLMAnswerWriter(self._llm, model=model, guild_id=guild_id, budget_usd=guild.daily_budget_usd)
        return writer, [notice] if notice else []

    async def _answer(
        self, guild_id: int, question: str, *, writer: LLMAnswerWriter | None, notices: list[str]
    ) -> tuple[Answer, bool]:
        """The answer, and whether it is degraded (the LLM failed: extractive instead, not cached)."""
        hits = await self._reports.search(guild_id=guild_id, query=question, k=12)
        summaries = {s.report_id: s for s in await self._reports.summaries(guild_id, {h.report_id for h in hits})}
        extractive = extractive_answer(question, hits, summaries, max_passages=6 if writer else 3)
        if writer is None or not extractive.found:
            return extractive, False
        try:
            return await writer.write(extractive), False
        except LLMError as error:
            reason = fallback_reason(error)
            _log.warning("the LLM could not write the /ask answer (%s); answering extractively", reason)
            notices.append(f"Quoted from the reports: the LLM could not write the answer ({reason}).")
            return extractive.model_copy(update={"passages": extractive.passages[:3]}), True

    async def _cached_answer(self, guild_id: int, namespace: str, question: str) -> CacheHit[Answer] | None:
        try:
            return await self._cache.lookup(guild_id, namespace, question, model=Answer)
        except CacheError:
            _log.warning("cache lookup failed for /ask in guild %s", guild_id, exc_info=True)
            return None

    async def _remember_answer(self, guild_id: int, namespace: str, question: str, answer: Answer) -> None:
        try:
            await self._cache.store(guild_id, namespace, question, answer)
        except (CacheError, OSError):
            _log.warning("could not cache the /ask answer for guild %s", guild_id, exc_info=True)

    # --- a tenant's library (/intel) ---------------------------------------------------------------

    async def report_history(self, guild_id: int, *, limit: int = 50) -> ReportHistory:
        summaries = await self._reports.history(guild_id, limit=limit)
        return ReportHistory(summaries=summaries, total=await self._reports.count(guild_id))

    async def search_reports(self, guild_id: int, query: str) -> list[ReportMatch]:
        return await self._reports.search_reports(guild_id=guild_id, query=query)

    async def get_report(self, guild_id: int, report_id: int) -> IntelReport:
        """A report of this tenant; another tenant's id is simply not found."""
        return await self._reports.get(guild_id, report_id)

    # --- a tenant's settings and cache (/settings, /cache) -----------------------------------------

    async def settings_view(self, guild_id: int) -> SettingsView:
        require_tenant(guild_id)
        return SettingsView(effective=await self._guild_settings.effective(guild_id),
                            overrides=await self._guild_settings.get(guild_id))

    async def change_setting(self, guild_id: int, *, key: str, value: object) -> SettingChange:
        """Set one (already parsed) value; the store validates it and the next command sees it."""
        before = getattr(await self.effective_settings(guild_id), key)
        await self._guild_settings.update(guild_id, **{key: value})
        after = getattr(await self._guild_settings.effective(guild_id), key)
        _log.info("setting %s changed from %r to %r", key, before, after)
        return SettingChange(key=key, before=before, after=after)

    async def reset_setting(self, guild_id: int, *, key: str | None = None) -> SettingsView:
        """One setting (or all with ``None``) back to the bot's default."""
        await self._guild_settings.reset(require_tenant(guild_id), key)
        _log.info("setting %s reset", key or "(all)")
        return await self.settings_view(guild_id)

    async def cache_stats(self, guild_id: int) -> CacheStats:
        return await self._cache.stats(require_tenant(guild_id))

    async def clear_cache(self, guild_id: int) -> int:
        """Delete every cached entry of this tenant; returns how many went."""
        removed = await self._cache.clear(require_tenant(guild_id))
        _log.info("cache cleared by its admin: %d entries", removed)
        return removed

    async def report_wrong_answer(self, guild_id: int, *, user_id: int, hit: CacheHitInfo) -> bool:
        """"Wrong answer?" on a cached reply: forget the entry and record the pair as this tenant's
        negative, so this request is never answered with that entry's request again.  ``False`` when
        the entry was already gone (forgotten, expired, or reported before)."""
        marked = await self._cache.mark_wrong(
            require_tenant(guild_id), hit.namespace, hit.query_text, hit.entry_id, user_id=user_id
        )
        if marked:
            _log.info("cache entry %d reported as a wrong answer and forgotten", hit.entry_id)
        return marked

    async def forget_cache_entry(self, guild_id: int, entry_id: int) -> None:
        """Delete one cached entry; :class:`InputError` when this tenant has no such entry."""
        if not await self._cache.forget(require_tenant(guild_id), entry_id):
            raise InputError(f"This server's cache has no entry #{entry_id}.")
        _log.info("cache entry %d forgotten", entry_id)

    # --- /status ----------------------------------------------------------------------------------

    async def status(self, guild_id: int | None = None) -> ServiceStatus:
        """The engine's state; with a tenant, its cache figures and today's LLM spend too."""
        loaded = bool(getattr(self._embedder, "loaded", True))
        # The packaged model's directory is just "model": name it as the settings document it.
        name = self._embedder.name if self._settings.embedding_model else PACKAGED_MODEL_NAME
        status = ServiceStatus(
            embedding_model=name, embedding_loaded=loaded,
            embedding_dimension=self._embedder.dimension if loaded else None,
            llm=None if self._llm is None else LLMStatus(
                model=self._settings.llm_model, base_url=self._settings.llm_base_url,
                breaker=self._llm.breaker_snapshot(),
            ),
            queue=self._queue.stats(),
        )
        if guild_id is None:
            return status
        return status.model_copy(update=await self._tenant_status(require_tenant(guild_id)))

    async def _tenant_status(self, guild_id: int) -> dict[str, Any]:
        figures: dict[str, Any] = {}
        try:
            figures["cache"] = await self._cache.stats(guild_id)
        except CacheError:
            _log.warning("cache stats unavailable for /status", exc_info=True)
        if self._llm is not None:
            figures["spend_today"] = await self._llm.ledger.spent_today(guild_id)
            figures["daily_budget_usd"] = (await self._guild_settings.effective(guild_id)).daily_budget_usd
        return figures

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


def _ask_question(question: str) -> str:
    """The question, stripped and within :data:`ASK_MAX_CHARS`."""
    question = " ".join(question.split())
    if not question:
        raise InputError("Ask a question about this server's reports.")
    if len(question) > ASK_MAX_CHARS:
        raise InputTooLargeError(size=len(question), limit=ASK_MAX_CHARS)
    return question


def _hit_info(hit: CacheHit[Any], *, namespace: str, query_text: str) -> CacheHitInfo:
    return CacheHitInfo(how=hit.how, similarity=hit.similarity, age_seconds=hit.age_seconds, entry_id=hit.entry_id,
                        namespace=namespace, query_text=query_text)


def _with_failures(report: IntelReport, collected: SourceBatch) -> IntelReport:
    """The report as this request sees it: with the sources that failed this time."""
    if not collected.failed_sources:
        return report
    return report.model_copy(update={"failed_sources": list(collected.failed_sources)})
