"""``/status`` and ``/help`` end to end."""

from __future__ import annotations

import json

from pydantic import SecretStr

from core.embedder import Embedder
from core.settings import Settings
from tests.e2e.bot_runner import RunningBot, bot_settings_for, running_bot
from tests.e2e.fake_discord import FakeDiscord
from tests.e2e.fake_records import InteractionLog, InteractionResponse
from tests.fakes.fake_llm import FakeLLM, fake_llm

__all__ = ["fake_llm"]

API_KEY = "sk-or-v1-status-test-secret-0123456789"


async def _answer(fake: FakeDiscord, log: InteractionLog) -> InteractionResponse:
    assert log.ephemeral
    if log.deferred:
        return await fake.wait_for_response(log, lambda response: response.kind == "edit_original")
    assert log.callback is not None
    return log.callback


def _fields(response: InteractionResponse) -> dict[str, str]:
    return {field["name"]: field["value"] for embed in response.embeds for field in embed.get("fields", [])}


async def test_status_shows_version_uptime_engine_and_cache(intel_bot: RunningBot) -> None:
    fake = intel_bot.fake

    fields = _fields(await _answer(fake, await fake.run_command("status")))

    assert fields["Version"] == "0.1.0"
    assert fields["Uptime"].endswith("s")
    assert fields["Gateway latency"].endswith(" ms") or fields["Gateway latency"] == "unknown"
    assert fields["Servers"] == str(len(fake.world.guilds))
    assert fields["Embedding model"] == "all-MiniLM-L6-v2 (packaged); loaded, 384 dimensions"
    assert fields["LLM"] == "not configured: reports use the local engine"
    assert fields["Cache (this server)"] == "0 entries, 0 hits, 0 misses"


async def test_status_shows_the_llm_host_and_breaker_but_never_the_key(
    fake_discord: FakeDiscord, fake_llm: FakeLLM, settings: Settings, embedder: Embedder
) -> None:
    bot_settings = bot_settings_for(
        fake_discord, settings, llm_base_url=fake_llm.base_url, llm_api_key=SecretStr(API_KEY), llm_model="fake/model"
    )
    async with running_bot(fake_discord, bot_settings, embedder=embedder):
        fields = _fields(await _answer(fake_discord, await fake_discord.run_command("status")))

    host = fake_llm.base_url.split("://", 1)[1].split("/", 1)[0]
    assert fields["LLM"] == f"fake/model at {host}; circuit closed"
    assert fields["LLM spend today (UTC)"] == "$0.0000 of $1.00 (0 calls)"
    everything_sent = json.dumps([request.body for request in fake_discord.requests], default=str)
    assert API_KEY not in everything_sent and API_KEY[:12] not in everything_sent


async def test_status_in_a_dm_shows_the_bot_without_server_figures(intel_bot: RunningBot) -> None:
    fake = intel_bot.fake

    fields = _fields(await _answer(fake, await fake.run_command("status", dm=True)))

    assert "Version" in fields and "Embedding model" in fields
    assert "Cache (this server)" not in fields


async def test_help_lists_every_synced_command_with_its_description(intel_bot: RunningBot) -> None:
    fake = intel_bot.fake

    help_text = (await _answer(fake, await fake.run_command("help"))).embeds[0]["description"]

    for command in fake.commands[None]:
        if command.get("type", 1) == 3:  # a message context menu: Apps > name
            assert f"Apps > `{command['name']}` — " in help_text
            continue
        leaves = [command] if not command.get("options") or command["options"][0]["type"] not in (1, 2) else [
            {**sub, "name": f"{command['name']} {sub['name']}"} for sub in command["options"]
        ]
        for leaf in leaves:
            assert f"`/{leaf['name']}` — {leaf['description']}" in help_text
    assert "`/settings set` — Change one setting for this server *(Manage Server)*" in help_text
    assert "`/status` — Version, uptime, engine, LLM, cache and today's spend\n" in help_text + "\n"
