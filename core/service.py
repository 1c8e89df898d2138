"""The service both front ends call: one request in, one report (or a clear error) out.

:class:`IntelService` orchestrates; it does no blocking work itself.  Collecting sources, the cache,
choosing an engine and analysing are short private steps so each can grow on its own.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from core.engine import AnalysisEngine
from core.errors import EmptyInputError, UrlNotSupportedError
from core.guild_settings import GuildSettingsStore
from core.inputs import Attachment, attachment_document, find_urls, text_document
from core.models import IntelReport, SourceDocument
from core.progress import Progress, ProgressSink, ignore_progress
from core.settings import Depth, Settings

__all__ = ["AutointelRequest", "AutointelResult", "CacheHitInfo", "IntelService"]

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


class IntelService:
    """Front-end-agnostic entry point.  Built by :class:`core.runtime.IntelRuntime`."""

    def __init__(
        self, *, settings: Settings, guild_settings: GuildSettingsStore, local_engine: AnalysisEngine
    ) -> None:
        self._settings = settings
        self._guild_settings = guild_settings
        self._local_engine = local_engine

    async def autointel(
        self, request: AutointelRequest, *, progress: ProgressSink = ignore_progress
    ) -> AutointelResult:
        started = time.perf_counter()
        guild = await self._guild_settings.effective(request.guild_id)
        depth: Depth = request.depth or guild.default_depth
        await progress(Progress("Reading input"))
        documents = await self._collect_sources(request, progress=progress)
        engine = self._choose_engine(request)
        report = await engine.analyse(documents, depth=depth, progress=progress)
        return AutointelResult(report=report, elapsed_seconds=time.perf_counter() - started)

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

    def _choose_engine(self, request: AutointelRequest) -> AnalysisEngine:
        return self._local_engine
