"""From URLs and attachments to validated :class:`~core.models.SourceDocument` objects.

:class:`SourceReader` is what the service holds: it fetches through :class:`UrlFetcher`, runs
every extraction on the worker gate, and reads a batch of URLs with bounded concurrency, reporting
"fetched 2/5, analysed 1/5" as it goes.  One failing source becomes a line in
:attr:`SourceBatch.failed_sources`; the others carry on.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, Field

from core.errors import FetchError, IntelError, UnreadableSourceError
from core.fetch.extract import extract_document
from core.fetch.fetcher import FetchedBody, UrlFetcher
from core.fetch.guard import DomainPolicy, UrlGuard
from core.fetch.urls import normalise_url, text_fingerprint
from core.gate import WorkerGate
from core.inputs import Attachment, attachment_document, validate_text
from core.models import SourceDocument
from core.progress import Progress, ProgressSink, ignore_progress
from core.settings import Settings

__all__ = ["SourceBatch", "SourceReader", "failure_line"]

_log = logging.getLogger(__name__)

BATCH_STAGE = "Reading sources"


class SourceBatch(BaseModel):
    """What a batch of URLs gave: documents in the order given, and what failed or was skipped."""

    documents: list[SourceDocument] = Field(default_factory=list)
    failed_sources: list[str] = Field(default_factory=list, description='"<url>: <reason>" lines')
    notices: list[str] = Field(default_factory=list)


def failure_line(url: str, error: Exception) -> str:
    """The ``"<url>: <reason>"`` line a report shows for a source that failed."""
    if isinstance(error, (FetchError, UnreadableSourceError)):
        return f"{url}: {error.reason}"
    if isinstance(error, IntelError):
        return f"{url}: {error}"
    return f"{url}: an unexpected error occurred while reading it"


@dataclass(slots=True)
class _BatchCounts:
    total: int
    fetched: int = 0
    analysed: int = 0
    failed: int = 0

    def progress(self) -> Progress:
        detail = f"fetched {self.fetched}/{self.total}, analysed {self.analysed}/{self.total}"
        if self.failed:
            detail += f", {self.failed} failed"
        return Progress(BATCH_STAGE, detail, done=self.analysed + self.failed, total=self.total)


class SourceReader:
    """Reads URLs and attachments; all blocking work goes through ``gate``."""

    def __init__(self, *, fetcher: UrlFetcher, gate: WorkerGate, max_chars: int, min_words: int) -> None:
        self.fetcher = fetcher
        self._gate = gate
        self._max_chars = max_chars
        self._min_words = min_words

    @classmethod
    def from_settings(
        cls, settings: Settings, *, gate: WorkerGate, tls_context: ssl.SSLContext, guard: UrlGuard | None = None
    ) -> SourceReader:
        return cls(
            fetcher=UrlFetcher.from_settings(settings, tls_context=tls_context, guard=guard),
            gate=gate,
            max_chars=settings.max_input_chars,
            min_words=settings.min_input_words,
        )

    async def read_attachment(self, attachment: Attachment) -> SourceDocument:
        return await self._gate.run(
            attachment_document, attachment, max_chars=self._max_chars, min_words=self._min_words
        )

    async def read_url(self, url: str, *, domains: DomainPolicy | None = None) -> SourceDocument:
        fetched = await self.fetcher.fetch(url, domains=domains)
        return await self.document_from_body(fetched)

    async def document_from_body(self, fetched: FetchedBody) -> SourceDocument:
        """Extract and validate a fetched body (on the gate)."""
        extracted = await self._gate.run(
            extract_document,
            fetched.body,
            media_type=fetched.media_type,
            declared_charset=fetched.charset,
            name=fetched.final_url,
            url=fetched.final_url,
        )
        return SourceDocument(
            kind="url",
            text=validate_text(extracted.text, max_chars=self._max_chars, min_words=self._min_words),
            url=fetched.final_url,
            title=extracted.title,
            author=extracted.author,
            published=extracted.published,
        )

    async def read_batch(
        self,
        urls: Sequence[str],
        *,
        domains: DomainPolicy | None = None,
        concurrency: int = 3,
        progress: ProgressSink = ignore_progress,
    ) -> SourceBatch:
        """Read every URL (at most ``concurrency`` at once); failures do not stop the others."""
        unique_urls, notices = _distinct_urls(urls)
        counts = _BatchCounts(total=len(unique_urls))
        slots = asyncio.Semaphore(concurrency)
        outcomes: list[SourceDocument | str] = [""] * len(unique_urls)

        async def read_one(index: int, url: str) -> None:
            async with slots:
                outcomes[index] = await self._read_counted(url, domains=domains, counts=counts, progress=progress)

        await progress(counts.progress())
        async with asyncio.TaskGroup() as tasks:
            for index, url in enumerate(unique_urls):
                tasks.create_task(read_one(index, url))
        return _assemble_batch(unique_urls, outcomes, notices)

    async def _read_counted(
        self, url: str, *, domains: DomainPolicy | None, counts: _BatchCounts, progress: ProgressSink
    ) -> SourceDocument | str:
        """One source of a batch: the document, or its failure line."""
        try:
            fetched = await self.fetcher.fetch(url, domains=domains)
            counts.fetched += 1
            await progress(counts.progress())
            document = await self.document_from_body(fetched)
        except Exception as exc:
            if not isinstance(exc, IntelError):
                _log.exception("unexpected error reading %s", url)
            counts.failed += 1
            await progress(counts.progress())
            return failure_line(url, exc)
        counts.analysed += 1
        await progress(counts.progress())
        return document


def _distinct_urls(urls: Sequence[str]) -> tuple[list[str], list[str]]:
    """The URLs with repeats (same normalised URL) removed, and a notice for each repeat."""
    seen: dict[str, str] = {}
    distinct: list[str] = []
    notices: list[str] = []
    for url in urls:
        try:
            key = normalise_url(url)
        except IntelError:
            key = url
        if key in seen:
            notices.append(f"{url} is the same link as {seen[key]}; it was read once.")
            continue
        seen[key] = url
        distinct.append(url)
    return distinct, notices


def _assemble_batch(urls: list[str], outcomes: list[SourceDocument | str], notices: list[str]) -> SourceBatch:
    """Documents in the given order, same-text duplicates dropped (the same article at two addresses)."""
    batch = SourceBatch(notices=list(notices))
    first_url_of_text: dict[str, str] = {}
    for url, outcome in zip(urls, outcomes, strict=True):
        if isinstance(outcome, str):
            batch.failed_sources.append(outcome)
            continue
        fingerprint = text_fingerprint(outcome.text)
        if fingerprint in first_url_of_text:
            batch.notices.append(f"{url} has the same text as {first_url_of_text[fingerprint]}; analysed once.")
            continue
        first_url_of_text[fingerprint] = url
        batch.documents.append(outcome)
    return batch
