"""/autointel through the real runtime and IntelService, with the fake LLM and the real local engine.

What a user gets in every LLM situation: the report, the engine label, and the notices.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from core.embedder import Embedder
from core.errors import CooldownError, InputTooShortError
from core.llm import BreakerPolicy, CircuitBreaker, Retrier, RetryPolicy
from core.looplag import LoopLagMonitor
from core.runtime import IntelRuntime
from core.service import AutointelRequest, IntelService
from core.settings import Settings
from tests.core.llm.conftest import ARTICLE, ManualClock, RecordingSleep
from tests.fakes.fake_llm import FakeLLM, FakeReply, fake_llm, report_json

__all__ = ["fake_llm"]

RuntimeFactory = Callable[..., Any]


def request(guild_id: int = 1, user_id: int = 10) -> AutointelRequest:
    """A quick request that skips the cache, so every one reaches an engine."""
    return AutointelRequest(guild_id=guild_id, user_id=user_id, target=ARTICLE, depth="quick", fresh=True)


@pytest.fixture
async def open_runtime(
    tmp_path: Path, fake_llm: FakeLLM, embedder: Embedder
) -> AsyncIterator[RuntimeFactory]:
    """Start a runtime on the fake LLM (same data dir every time, so a second one is a restart)."""
    runtimes: list[IntelRuntime] = []

    async def start(**overrides: Any) -> IntelRuntime:
        values: dict[str, Any] = {
            "data_dir": tmp_path / "data",
            "llm_base_url": fake_llm.base_url,
            "llm_api_key": "test-key",
            "llm_model": "fake/model",
            "user_cooldown_seconds": 0,
            **overrides,
        }
        runtime = IntelRuntime(Settings(_env_file=None, **values), embedder=embedder)  # type: ignore[call-arg]
        await runtime.start()
        runtimes.append(runtime)
        return runtime

    yield start
    for runtime in runtimes:
        await runtime.close()


def service_of(runtime: IntelRuntime) -> IntelService:
    assert runtime.service is not None
    return runtime.service


async def test_llm_writes_the_report_when_it_answers(open_runtime: RuntimeFactory) -> None:
    runtime = await open_runtime()

    result = await service_of(runtime).autointel(request())

    assert result.report.engine.label == "LLM: fake/model"
    assert result.notices == []


async def test_without_an_llm_configured_reports_are_local_with_no_reason(
    open_runtime: RuntimeFactory, fake_llm: FakeLLM
) -> None:
    runtime = await open_runtime(llm_api_key=None, llm_base_url="https://openrouter.ai/api/v1")

    result = await service_of(runtime).autointel(request())

    assert runtime.llm is None
    assert result.report.engine.label == "local analysis"
    assert result.notices == [] and fake_llm.requests == []


async def test_rejected_key_falls_back_to_local_with_an_admin_facing_reason(
    open_runtime: RuntimeFactory, fake_llm: FakeLLM
) -> None:
    fake_llm.script(FakeReply.error(401, "bad key"))
    runtime = await open_runtime()

    result = await service_of(runtime).autointel(request())

    assert result.report.engine.name == "local"
    assert result.report.engine.fallback_reason == "the LLM API key was rejected (admin: check LLM_API_KEY)"
    assert result.notices == ["Ran on local analysis: the LLM API key was rejected (admin: check LLM_API_KEY)."]
    assert result.report.key_insights  # a real local report, not an empty shell
    assert len(fake_llm.chat_requests) == 1


async def test_schema_violating_answer_falls_back_to_local_with_the_reason(
    open_runtime: RuntimeFactory, fake_llm: FakeLLM
) -> None:
    fake_llm.script(FakeReply.content('{"verdict": "PWNED"}'), FakeReply.content('{"verdict": "PWNED"}'))
    runtime = await open_runtime()

    result = await service_of(runtime).autointel(request())

    assert result.report.engine.label == "local analysis (the LLM's answer was not a valid report)"
    assert "PWNED" not in result.report.model_dump_json()


async def test_budget_refusal_runs_locally_and_survives_a_restart(
    open_runtime: RuntimeFactory, fake_llm: FakeLLM
) -> None:
    runtime = await open_runtime()
    await runtime.guild_settings.update(5, daily_budget_usd=0.05)
    first_sentence = ARTICLE.split(". ")[0]
    fake_llm.script(FakeReply.content(report_json(summary="s", quotes=[(0, first_sentence)]), cost=0.05))

    first = await service_of(runtime).autointel(request(guild_id=5))
    refused = await service_of(runtime).autointel(request(guild_id=5))
    await runtime.close()
    restarted = await open_runtime()
    after_restart = await service_of(restarted).autointel(request(guild_id=5))
    other_guild = await service_of(restarted).autointel(request(guild_id=6))

    assert first.report.engine.name == "llm"
    for result in (refused, after_restart):
        assert result.report.engine.fallback_reason == "the LLM budget for today is used up"
        assert result.notices == ["Ran on local analysis: the LLM budget for today is used up."]
    assert other_guild.report.engine.name == "llm"
    assert len(fake_llm.chat_requests) == 2  # guild 5's first request and guild 6's


async def test_open_breaker_sends_requests_local_without_touching_the_server(
    open_runtime: RuntimeFactory, fake_llm: FakeLLM
) -> None:
    runtime = await open_runtime()
    assert runtime.llm is not None
    clock = ManualClock()
    runtime.llm.breaker = CircuitBreaker(
        fake_llm.base_url, policy=BreakerPolicy(failure_threshold=2, cooldown_seconds=60), clock=clock
    )
    runtime.llm.retrier = Retrier(RetryPolicy(max_attempts=5), sleep=RecordingSleep(), rng=random.Random(3))
    fake_llm.script(FakeReply.error(500), FakeReply.error(502))

    tripped = await service_of(runtime).autointel(request())
    seen = len(fake_llm.chat_requests)
    while_open = await service_of(runtime).autointel(request(user_id=11))
    clock.advance(61)
    recovered = await service_of(runtime).autointel(request(user_id=12))

    assert seen == 2
    assert tripped.report.engine.fallback_reason == "the LLM service is failing, so it is paused for a while"
    assert while_open.report.engine.name == "local"
    assert recovered.report.engine.name == "llm"
    assert len(fake_llm.chat_requests) == 3
    assert runtime.llm.breaker_snapshot().state == "closed"


async def test_a_model_the_guild_may_not_use_is_replaced_by_the_default(
    open_runtime: RuntimeFactory, fake_llm: FakeLLM
) -> None:
    runtime = await open_runtime(llm_allowed_models=["vendor/allowed"])
    await runtime.guild_settings.update(1, llm_model="vendor/expensive")
    await runtime.guild_settings.update(2, llm_model="vendor/allowed")

    refused = await service_of(runtime).autointel(request(guild_id=1))
    allowed = await service_of(runtime).autointel(request(guild_id=2))

    assert refused.report.engine.label == "LLM: fake/model"
    assert refused.notices == ["The model vendor/expensive is not allowed on this bot; fake/model wrote this report."]
    assert allowed.report.engine.label == "LLM: vendor/allowed"
    assert [r.body["model"] for r in fake_llm.chat_requests] == ["fake/model", "vendor/allowed"]


async def test_cooldown_refuses_a_quick_second_request_but_not_after_a_refused_input(
    open_runtime: RuntimeFactory,
) -> None:
    runtime = await open_runtime(user_cooldown_seconds=60)
    service = service_of(runtime)

    with pytest.raises(InputTooShortError):
        await service.autointel(AutointelRequest(guild_id=1, user_id=10, target="too short"))
    await service.autointel(request())
    with pytest.raises(CooldownError) as caught:
        await service.autointel(request())

    assert 0 < caught.value.seconds_left <= 60


async def test_llm_path_and_fallback_do_not_stall_the_event_loop(
    open_runtime: RuntimeFactory, fake_llm: FakeLLM
) -> None:
    runtime = await open_runtime()
    fake_llm.script(FakeReply.content("not json"), FakeReply.content("still not json"))

    async with LoopLagMonitor(interval=0.01, stall_threshold=0.25) as monitor:
        fallback = await service_of(runtime).autointel(request())
        served = await service_of(runtime).autointel(request(user_id=11))

    assert fallback.report.engine.name == "local" and served.report.engine.name == "llm"
    assert monitor.snapshot().stall_count == 0
