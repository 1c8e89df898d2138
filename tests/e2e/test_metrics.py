"""Prometheus metrics end to end: the bot serves ``/metrics`` on METRICS_PORT; commands, cache layers,
LLM calls and gauges are counted with bounded labels only."""

from __future__ import annotations

import re
import socket

import httpx

from core.embedder import Embedder
from core.settings import Settings
from tests.e2e.bot_runner import bot_settings_for, running_bot
from tests.e2e.fake_discord import FakeDiscord
from tests.e2e.fake_records import InteractionLog, InteractionResponse
from tests.e2e.texts import HARBOUR_AND_SCHOOLS, MENTIONS_TEXT
from tests.fakes.fake_llm import FakeLLM, FakeReply, fake_llm, grounded_answer

__all__ = ["fake_llm"]

REPORT_TIMEOUT = 90.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _has_report_files(response: InteractionResponse) -> bool:
    return any(item.filename.endswith(".json") for item in response.files)


async def _report_sent(fake: FakeDiscord, log: InteractionLog) -> None:
    await fake.wait_for_response(log, _has_report_files, timeout=REPORT_TIMEOUT)


def _sample(body: str, name: str, **labels: str) -> float | None:
    """The value of one sample in the Prometheus text format, or ``None`` when it is absent."""
    label_text = ",".join(f'{key}="{value}"' for key, value in labels.items())
    pattern = "^" + re.escape(f"{name}{{{label_text}}}" if labels else name) + r" (\S+)$"
    match = re.search(pattern, body, re.MULTILINE)
    return float(match.group(1)) if match else None


async def test_metrics_endpoint_counts_commands_outcomes_and_cache_layers(
    fake_discord: FakeDiscord, settings: Settings, embedder: Embedder
) -> None:
    port = _free_port()
    world = fake_discord.world
    async with running_bot(fake_discord, bot_settings_for(fake_discord, settings, metrics_port=port), embedder=embedder):
        first = await fake_discord.run_command("autointel", {"target": HARBOUR_AND_SCHOOLS, "depth": "quick"})
        await _report_sent(fake_discord, first)
        again = await fake_discord.run_command(
            "autointel", {"target": HARBOUR_AND_SCHOOLS, "depth": "quick"}, user=world.owner
        )
        await _report_sent(fake_discord, again)
        await fake_discord.run_command("settings", {"show": {}}, user=world.member)
        await fake_discord.run_command("settings", {"set": {"key": "cache_ttl_days", "value": "soon"}}, user=world.admin)
        await fake_discord.run_command("help")
        await fake_discord.wait_for(
            lambda: len(fake_discord.interactions) == 5 and all(log.callback for log in fake_discord.interactions.values())
        )
        async with httpx.AsyncClient() as client:
            response = await client.get(f"http://127.0.0.1:{port}/metrics")
    body = response.text

    assert response.status_code == 200
    assert _sample(body, "intel_commands_total", command="autointel", outcome="ok") == 2
    assert _sample(body, "intel_commands_total", command="settings show", outcome="MissingPermissions") == 1
    assert _sample(body, "intel_commands_total", command="settings set", outcome="InputError") == 1
    assert _sample(body, "intel_commands_total", command="help", outcome="ok") == 1
    assert _sample(body, "intel_command_latency_seconds_count", command="autointel") == 2
    assert _sample(body, "intel_cache_lookups_total", result="miss") == 1
    assert _sample(body, "intel_cache_lookups_total", result="exact") == 1
    assert _sample(body, "intel_guilds") == len(world.guilds)
    assert _sample(body, "intel_event_loop_lag_max_seconds") is not None
    assert _sample(body, "intel_gateway_latency_seconds") is not None
    assert _sample(body, "intel_llm_calls_total", outcome="ok") is None  # no LLM configured
    for private in (world.guild.id, world.member.id, world.owner.id, world.admin.id):
        assert str(private) not in body


async def test_metrics_count_llm_calls_tokens_cost_and_breaker_state(
    fake_discord: FakeDiscord, fake_llm: FakeLLM, settings: Settings, embedder: Embedder
) -> None:
    fake_llm.script(grounded_answer, FakeReply.error(401, "invalid key"))
    bot_settings = bot_settings_for(fake_discord, settings, llm_base_url=fake_llm.base_url, llm_model="fake/model")
    async with running_bot(fake_discord, bot_settings, embedder=embedder) as running:
        written = await fake_discord.run_command("autointel", {"target": MENTIONS_TEXT, "depth": "quick"})
        await _report_sent(fake_discord, written)
        refused = await fake_discord.run_command(
            "autointel", {"target": HARBOUR_AND_SCHOOLS, "depth": "quick"}, user=fake_discord.world.admin
        )
        await _report_sent(fake_discord, refused)
        body = running.bot.runtime.metrics.render().decode()

    assert _sample(body, "intel_llm_calls_total", outcome="ok") == 1
    assert _sample(body, "intel_llm_calls_total", outcome="LLMAuthError") == 1
    assert _sample(body, "intel_llm_tokens_total", kind="prompt") == 1000
    assert _sample(body, "intel_llm_tokens_total", kind="completion") == 500
    assert _sample(body, "intel_llm_cost_usd_total") == (1000 * 0.15 + 500 * 0.60) / 1_000_000
    assert _sample(body, "intel_llm_breaker_state") == 0  # a refused key says the endpoint is up
