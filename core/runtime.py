"""Builds and owns everything the engine needs for one process: gate, embedder, engines, service.

Two-step life: the constructor does no I/O; :meth:`IntelRuntime.start` opens what needs the loop
(data directory, worker gate, model load on a worker thread) and :meth:`IntelRuntime.close` closes
it all, idempotently.  Both front ends (Discord and console) build one and share nothing else.
"""

from __future__ import annotations

import logging
import ssl
import time

from core.cache import SemanticCache
from core.cache.judge import HitJudge, NoJudge
from core.cache.learned import LearnedDecider
from core.cooldown import UserCooldowns
from core.digest import DigestService
from core.digest.local import LocalDigester
from core.embedder import Embedder, build_embedder
from core.engine.local import LocalEngine
from core.errors import GateClosedError
from core.fetch.guard import UrlGuard
from core.fetch.reader import SourceReader
from core.fetch.transport import tls_context
from core.gate import WorkerGate
from core.guild_settings import GuildSettingsStore
from core.inference.cross_encoder import CrossEncoder
from core.llm import HttpChatClient, LLMBackend, SpendLedger
from core.llm.breaker import BreakerState
from core.llm.judge import LLMHitJudge
from core.metrics import Metrics
from core.queue import AnalysisQueue
from core.reports import ReportLibrary
from core.schedules import Clock, Scheduler
from core.service import IntelService
from core.settings import Settings
from core.storage import Storage
from core.watch import WatchService

__all__ = ["IntelRuntime"]

_log = logging.getLogger(__name__)

# The value of the ``intel_llm_breaker_state`` gauge for each breaker state.
BREAKER_GAUGE_VALUES: dict[BreakerState, float] = {"closed": 0.0, "half_open": 1.0, "open": 2.0}


def _limit_native_threads() -> None:
    """FAISS searches are many times slower with the default OpenMP thread count on small indexes.
    (Model inference threads are each embedder's own setting: ``TORCH_THREADS``.)"""
    import faiss

    faiss.omp_set_num_threads(1)


class IntelRuntime:
    """The engine's process-wide parts.  Use ``async with IntelRuntime(settings) as runtime``."""

    def __init__(
        self, settings: Settings, *, embedder: Embedder | None = None, url_guard: UrlGuard | None = None,
        clock: Clock | None = None,
    ) -> None:
        """``url_guard`` replaces the default SSRF guard; only tests pass one (to reach loopback), and
        ``clock`` the scheduler's wall clock (tests move it by hand)."""
        self.settings = settings
        self._url_guard = url_guard
        self.gate = WorkerGate(max_workers=settings.worker_threads)
        self.embedder: Embedder = embedder or build_embedder(settings)
        self.storage = Storage.from_settings(settings)  # SQLite, or PostgreSQL when DATABASE_URL is set
        self.guild_settings = GuildSettingsStore(self.storage.guild_settings, settings)
        self.metrics = Metrics()  # the process's registry; the bot serves it when METRICS_PORT is set
        self.service: IntelService | None = None
        self.cache: SemanticCache | None = None
        self.reports: ReportLibrary | None = None
        self.llm: LLMBackend | None = None
        self.digests: DigestService | None = None
        self.watches: WatchService | None = None
        self.scheduler = Scheduler(self.storage.schedules, clock=clock)  # started by cogs.digest
        self.started_at: float | None = None
        self._closed = False

    async def __aenter__(self) -> IntelRuntime:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def start(self) -> None:
        """Open every part.  If :meth:`close` runs meanwhile (a signal during start-up), or a step
        fails, whatever was opened is closed again and the error propagates."""
        try:
            await self._open_parts()
            if self._closed:
                raise GateClosedError()
        except BaseException:
            await self._release()
            raise
        self.started_at = time.time()
        _log.info("engine ready (data in %s, database: %s)", self.settings.data_dir, self.storage.kind)

    async def _open_parts(self) -> None:
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.gate.start()
        await self.storage.open()
        self.storage.subscribe(self.guild_settings.on_change)
        await self.gate.run(_limit_native_threads)
        # Load the model now, off the loop, so the first request does not pay for it.
        await self.gate.run(lambda: self.embedder.dimension)
        local_engine = LocalEngine(embedder=self.embedder, gate=self.gate)
        self.llm = await self._start_llm()
        decider = LearnedDecider(CrossEncoder(self.settings.verifier_model_path, threads=self.settings.torch_threads))
        await self.gate.run(decider.warm_up)
        judge: HitJudge = NoJudge() if self.llm is None else LLMHitJudge(self.llm, guild_settings=self.guild_settings)
        self.cache = SemanticCache.from_settings(
            self.settings, storage=self.storage, gate=self.gate, embedder=self.embedder,
            guild_settings=self.guild_settings, decider=decider, judge=judge, metrics=self.metrics,
        )
        await self.cache.setup()
        self.storage.subscribe(self.cache.on_change)
        self.reports = ReportLibrary(
            self.storage.reports, embedder=self.embedder, gate=self.gate,
            max_loaded_guilds=self.settings.cache_max_loaded_guilds,
            owns_guild=self.settings.shards.owns if self.settings.shards is not None else None,
        )
        self.storage.subscribe(self.reports.on_change)
        shared_tls = await self.gate.run(tls_context)  # one TLS context for every fetch (built off the loop)
        # one line for every analysis this process runs: users' requests and watched pages alike
        self.queue = AnalysisQueue(
            concurrency=self.settings.analysis_concurrency, max_waiting=self.settings.analysis_queue_size,
            max_waiting_per_tenant=self.settings.analysis_queue_per_tenant,
        )
        self.service = IntelService(
            settings=self.settings, guild_settings=self.guild_settings, local_engine=local_engine, llm=self.llm,
            cooldowns=UserCooldowns(), cache=self.cache, reports=self.reports, embedder=self.embedder,
            reader=SourceReader.from_settings(self.settings, gate=self.gate, guard=self._url_guard,
                                              tls_context=shared_tls),
            queue=self.queue,
        )
        self.digests = DigestService(
            local=LocalDigester(embedder=self.embedder, gate=self.gate), llm=self.llm,
            guild_settings=self.guild_settings, privacy=self.storage.privacy,
        )
        self.watches = self._build_watches(local_engine, shared_tls)

    def _build_watches(self, engine: LocalEngine, tls: ssl.SSLContext) -> WatchService:
        """Watched pages, checked by the scheduler through the same guarded fetcher as /autointel."""
        reader = SourceReader.from_settings(self.settings, gate=self.gate, guard=self._url_guard, tls_context=tls)
        watches = WatchService(
            rows=self.storage.watches, fetcher=reader.fetcher, engine=engine, clock=self.scheduler.clock,
            reader=reader,
            max_per_guild=self.settings.watch_max_per_guild,
            min_interval_minutes=self.settings.watch_min_interval_minutes, queue=self.queue,
        )
        self.scheduler.add_jobs(watches.run_due)
        return watches

    async def _start_llm(self) -> LLMBackend | None:
        """The LLM backend when one is configured (see ``Settings.llm_enabled``), else ``None``."""
        if not self.settings.llm_enabled:
            _log.info("no LLM configured: reports use the local engine")
            return None
        ledger = SpendLedger(self.storage.spend)
        key = self.settings.llm_api_key
        client = HttpChatClient(
            base_url=self.settings.llm_base_url, api_key=key.get_secret_value() if key else None
        )
        _log.info("LLM enabled: %s at %s", self.settings.llm_model, self.settings.llm_base_url)
        backend = LLMBackend(
            settings=self.settings, client=client, ledger=ledger, embedder=self.embedder, gate=self.gate,
            metrics=self.metrics,
        )
        # Read at scrape time, so an open breaker that has cooled down shows as half-open.
        self.metrics.breaker_state.set_function(lambda: BREAKER_GAUGE_VALUES[backend.breaker.state])
        return backend

    async def close(self) -> None:
        """Close every part.  Idempotent; safe while :meth:`start` is still running."""
        if self._closed:
            return
        self._closed = True
        await self._release()
        _log.info("engine closed")

    async def _release(self) -> None:
        """Close what is open; each part's close is idempotent, so this may run twice."""
        await self.scheduler.close()
        if self.llm is not None:
            await self.llm.close()
        if self.cache is not None:
            await self.cache.close()  # writes changed indexes: needs the gate, so before it closes
        await self.gate.close()
        await self.storage.close()
