"""Watched pages: re-fetch a page on an interval and report what changed in its main text.

:class:`WatchService` keeps a guild's watches (at most ``WATCH_MAX_PER_GUILD``, never more often
than every ``WATCH_MIN_INTERVAL_MINUTES``), and runs the due ones as a job of the runtime's one
:class:`~core.schedules.Scheduler`.  Each check:

1. is claimed in storage (compare-and-set on its due time), so it runs once;
2. fetches the page through the same guarded fetcher as ``/autointel`` (SSRF guard on every hop),
   conditionally (``If-None-Match`` / ``If-Modified-Since``): a 304 costs no download;
3. extracts the main text and compares its hash with the last one: the same text (an advert or a
   timestamp changed around it) is no change;
4. on a change, analyses the page with the local engine, in the guild's turn of the same analysis
   queue as users' requests (so watches never exceed ``ANALYSIS_CONCURRENCY`` and share it fairly;
   a full queue means "look again in five minutes", not a failure), and posts what changed: new and
   dropped key insights and claims, next to the fresh report.  The first check only takes the baseline.

A failing fetch backs off: the interval doubles with each failure in a row (at most 24 hours), and
the error is kept for ``/watch list``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Protocol

from pydantic import BaseModel, Field

from core.engine import AnalysisEngine
from core.errors import BusyError, FetchError, InputError, IntelError
from core.fetch.fetcher import FetchedBody, UrlFetcher
from core.fetch.reader import SourceReader
from core.models import IntelReport, SourceDocument
from core.progress import ignore_progress
from core.queue import AnalysisQueue
from core.schedules import Clock, JobAccessLostError
from core.storage.server_rows import NewWatch, WatchResult, WatchRow, WatchRows
from core.tenants import require_tenant

__all__ = ["MAX_BACKOFF_SECONDS", "WatchChange", "WatchPoster", "WatchService", "WatchSnapshot"]

_log = logging.getLogger(__name__)

#: A watch that found the analysis queue full is checked again this soon (or at its interval if sooner).
BUSY_RETRY_SECONDS = 300

MAX_BACKOFF_SECONDS = 24 * 3600


class WatchSnapshot(BaseModel):
    """What a page said last time: its key insights and claims."""

    insights: list[str] = Field(default_factory=list)
    claims: list[str] = Field(default_factory=list)

    @classmethod
    def of(cls, report: IntelReport) -> WatchSnapshot:
        return cls(insights=[item.insight for item in report.key_insights], claims=[item.text for item in report.claims])


class WatchChange(BaseModel):
    """What changed on a watched page, and the fresh report."""

    url: str
    new_insights: list[str]
    dropped_insights: list[str]
    new_claims: list[str]
    dropped_claims: list[str]
    report: IntelReport


class WatchPoster(Protocol):
    """Posts a change (the front end); raises :class:`JobAccessLostError` when it cannot."""

    async def post_change(self, watch: WatchRow, change: WatchChange) -> None: ...


class WatchService:
    """The guild's watches, and the job that checks the due ones."""

    def __init__(
        self, *, rows: WatchRows, fetcher: UrlFetcher, reader: SourceReader, engine: AnalysisEngine, clock: Clock,
        max_per_guild: int, min_interval_minutes: int, queue: AnalysisQueue | None = None,
    ) -> None:
        self._rows = rows
        self._queue = queue
        self._fetcher = fetcher
        self._reader = reader
        self._engine = engine
        self._clock = clock
        self.max_per_guild = max_per_guild
        self.min_interval_minutes = min_interval_minutes
        self.poster: WatchPoster | None = None

    async def add(self, *, guild_id: int, url: str, every_minutes: int, post_channel_id: int, created_by: int) -> WatchRow:
        """A new watch, first checked at once (that check takes the baseline).  The URL is checked
        by the SSRF guard now, so a refused address is refused here, not at the first check."""
        guild_id = require_tenant(guild_id)
        if every_minutes < self.min_interval_minutes:
            raise InputError(f"every: at least {self.min_interval_minutes} minutes.")
        if len(await self._rows.for_guild(guild_id)) >= self.max_per_guild:
            raise InputError(f"This server watches {self.max_per_guild} pages, the most; remove one first.")
        checked = await self._fetcher.guard.check(url.strip())
        now = self._clock.now()
        return await self._rows.add(NewWatch(guild_id=guild_id, url=checked.url, post_channel_id=post_channel_id,
                                             every_minutes=every_minutes, created_by=created_by, created_at=now,
                                             next_check_at=now))

    async def for_guild(self, guild_id: int) -> list[WatchRow]:
        return await self._rows.for_guild(require_tenant(guild_id))

    async def remove(self, guild_id: int, watch_id: int) -> None:
        if not await self._rows.delete(require_tenant(guild_id), watch_id):
            raise InputError(f"This server has no watch #{watch_id}.")

    async def run_due(self, now: float) -> float | None:
        """The scheduler's job: check every due watch; returns when the next one is due."""
        if self.poster is None:
            return None
        for watch in await self._rows.due(now=now):
            interval = watch.every_minutes * 60
            if await self._rows.claim(watch.watch_id, due_at=watch.next_check_at, next_check_at=now + interval):
                await self._check(watch, now=now)
        return await self._rows.next_due_at()

    async def _check(self, watch: WatchRow, *, now: float) -> None:
        try:
            fetched = await self._fetcher.fetch(watch.url, etag=watch.etag, last_modified=watch.last_modified)
            result = await self._compare(watch, fetched, now=now)
        except (FetchError, InputError, JobAccessLostError) as error:
            failures = watch.failures + 1
            delay = min(MAX_BACKOFF_SECONDS, watch.every_minutes * 60 * 2 ** min(failures, 10))
            _log.warning("watch %d failed (%d in a row): %s", watch.watch_id, failures, error)
            result = _as_before(watch, now=now, next_check_at=now + delay).model_copy(
                update={"failures": failures, "last_error": str(error)[:300]})
        except BusyError:
            # the analysis queue is full of users' requests: they go first; look again soon, not a failure
            retry = min(BUSY_RETRY_SECONDS, watch.every_minutes * 60)
            _log.info("watch %d: the analysis queue is full; checked again in %d s", watch.watch_id, retry)
            result = _as_before(watch, now=now, next_check_at=now + retry)
        except IntelError:
            _log.exception("watch %d failed", watch.watch_id)
            return
        await self._rows.record(watch.watch_id, result)

    async def _compare(self, watch: WatchRow, fetched: FetchedBody, *, now: float) -> WatchResult:
        unchanged = _as_before(watch, now=now, next_check_at=now + watch.every_minutes * 60).model_copy(update={
            "etag": fetched.etag or watch.etag, "last_modified": fetched.last_modified or watch.last_modified,
            "failures": 0, "last_error": None,
        })
        if fetched.not_modified:
            return unchanged
        document = await self._reader.document_from_body(fetched)
        text_hash = hashlib.sha256(" ".join(document.text.split()).encode("utf-8")).hexdigest()
        if text_hash == watch.text_hash:
            return unchanged
        report = await self._analyse(watch.guild_id, document)
        snapshot = WatchSnapshot.of(report)
        if watch.snapshot is not None and self.poster is not None:
            await self.poster.post_change(watch, _changes(watch.url, WatchSnapshot.model_validate(json.loads(watch.snapshot)),
                                                          snapshot, report))
        return unchanged.model_copy(update={"text_hash": text_hash, "snapshot": snapshot.model_dump_json()})


    async def _analyse(self, guild_id: int, document: SourceDocument) -> IntelReport:
        """The local engine's report, in the guild's turn of the analysis queue (when there is one),
        so watches count against the same concurrency as users' requests and share it fairly."""
        if self._queue is None:
            return await self._engine.analyse([document], depth="standard", progress=ignore_progress)
        ticket = self._queue.enter(require_tenant(guild_id))  # BusyError when the line is full
        await ticket.wait()
        async with ticket:
            return await self._engine.analyse([document], depth="standard", progress=ignore_progress)


def _as_before(watch: WatchRow, *, now: float, next_check_at: float) -> WatchResult:
    """The watch's stored state as it was, checked at ``now`` and next due at ``next_check_at``."""
    return WatchResult(next_check_at=next_check_at, checked_at=now, etag=watch.etag, last_modified=watch.last_modified,
                       text_hash=watch.text_hash, snapshot=watch.snapshot, failures=watch.failures,
                       last_error=watch.last_error)


def _changes(url: str, before: WatchSnapshot, after: WatchSnapshot, report: IntelReport) -> WatchChange:
    def new(now: list[str], then: list[str]) -> list[str]:
        seen = {_key(item) for item in then}
        return [item for item in now if _key(item) not in seen]

    return WatchChange(url=url, new_insights=new(after.insights, before.insights),
                       dropped_insights=new(before.insights, after.insights), new_claims=new(after.claims, before.claims),
                       dropped_claims=new(before.claims, after.claims), report=report)


def _key(text: str) -> str:
    return " ".join(text.casefold().split())
