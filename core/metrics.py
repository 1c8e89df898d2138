"""Prometheus metrics, in a registry the process owns (no module-level singleton).

Labels stay bounded: command names, outcomes and cache layers only; never a guild or a user.
The optional HTTP endpoint is an aiohttp app on the bot's own event loop, started by
:meth:`Metrics.serve` when ``METRICS_PORT`` is set.
"""

from __future__ import annotations

import logging
from typing import Literal

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

__all__ = ["Metrics"]

_log = logging.getLogger(__name__)

CacheLayer = Literal["exact", "semantic", "miss"]

_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900)


class Metrics:
    """Every metric the bot exports.  Create one per process and pass it down."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.commands = Counter("intel_commands_total", "Slash commands run", ["command", "outcome"], registry=r)
        self.command_latency = Histogram(
            "intel_command_latency_seconds", "Command wall time", ["command"], buckets=_LATENCY_BUCKETS, registry=r
        )
        self.cache_lookups = Counter("intel_cache_lookups_total", "Cache lookups by result", ["result"], registry=r)
        self.cache_judge = Counter(
            "intel_cache_llm_judge_total", "Borderline cache candidates judged by the LLM, by verdict", ["verdict"],
            registry=r,
        )
        self.cache_wrong_answers = Counter(
            "intel_cache_wrong_answers_total", "Cached answers users marked as wrong", registry=r
        )
        self.llm_calls = Counter("intel_llm_calls_total", "LLM calls by outcome", ["outcome"], registry=r)
        self.llm_tokens = Counter("intel_llm_tokens_total", "LLM tokens used", ["kind"], registry=r)
        self.llm_cost = Counter("intel_llm_cost_usd_total", "LLM spend in USD", registry=r)
        self.breaker_state = Gauge(
            "intel_llm_breaker_state", "Circuit breaker state: 0 closed, 1 half-open, 2 open", registry=r
        )
        self.loop_lag = Gauge("intel_event_loop_lag_seconds", "Latest measured event-loop lag", registry=r)
        self.loop_lag_max = Gauge("intel_event_loop_lag_max_seconds", "Largest event-loop lag seen", registry=r)
        self.gateway_latency = Gauge("intel_gateway_latency_seconds", "Discord gateway heartbeat latency", registry=r)
        self.guilds = Gauge("intel_guilds", "Guilds the bot is in", registry=r)
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    def record_command(self, command: str, *, outcome: str, seconds: float) -> None:
        self.commands.labels(command=command, outcome=outcome).inc()
        self.command_latency.labels(command=command).observe(seconds)

    def record_cache(self, result: CacheLayer) -> None:
        self.cache_lookups.labels(result=result).inc()

    def record_cache_judge(self, verdict: Literal["hit", "miss"]) -> None:
        self.cache_judge.labels(verdict=verdict).inc()

    def record_llm_call(self, *, outcome: str, prompt_tokens: int = 0, completion_tokens: int = 0,
                        cost_usd: float = 0.0) -> None:
        self.llm_calls.labels(outcome=outcome).inc()
        if prompt_tokens:
            self.llm_tokens.labels(kind="prompt").inc(prompt_tokens)
        if completion_tokens:
            self.llm_tokens.labels(kind="completion").inc(completion_tokens)
        if cost_usd:
            self.llm_cost.inc(cost_usd)

    def render(self) -> bytes:
        return generate_latest(self.registry)

    async def _handle(self, request: web.Request) -> web.Response:
        return web.Response(body=self.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def serve(self, *, port: int, host: str = "0.0.0.0") -> int:
        """Serve ``/metrics`` on ``host:port`` (port 0 picks a free one); returns the bound port."""
        app = web.Application()
        app.router.add_get("/metrics", self._handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        # ``runner.addresses``: the public list of bound (host, port, ...) tuples.
        self.port = int(runner.addresses[0][1]) if runner.addresses else port
        _log.info("metrics on http://%s:%s/metrics", host, self.port)
        return self.port

    async def close(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
