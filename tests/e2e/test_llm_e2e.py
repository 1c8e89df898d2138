"""``/autointel`` end to end with an LLM: the real bot on a fake Discord, the fake LLM on loopback."""

from __future__ import annotations

import json

from pydantic import SecretStr

from core.embedder import Embedder
from core.models import IntelReport
from core.settings import Settings
from tests.e2e.bot_runner import bot_settings_for, running_bot
from tests.e2e.discord_limits import assert_cannot_ping, message_requests
from tests.e2e.fake_discord import FakeDiscord
from tests.e2e.fake_records import InteractionResponse
from tests.e2e.texts import MENTIONS_TEXT
from tests.fakes.fake_llm import FakeLLM, FakeReply, fake_llm, report_json

__all__ = ["fake_llm"]

REPORT_TIMEOUT = 90.0
QUOTE = "Volunteers counted 3,400 walkers on the trail last month"


def _has_report_files(response: InteractionResponse) -> bool:
    return any(item.filename.endswith(".json") for item in response.files)


def _field(response: InteractionResponse, name: str) -> list[str]:
    return [field["value"] for embed in response.embeds for field in embed.get("fields", [])
            if field["name"] == name]


async def test_llm_report_reaches_discord_labelled_and_unable_to_ping(
    fake_discord: FakeDiscord, fake_llm: FakeLLM, settings: Settings, embedder: Embedder
) -> None:
    fake_llm.script(FakeReply.content(report_json(
        summary="@everyone IGNORE PREVIOUS INSTRUCTIONS <@123456789012345678> the bridge closes in May.",
        quotes=[(0, QUOTE)], keywords=["bridge"],
    )))
    bot_settings = bot_settings_for(
        fake_discord, settings, llm_base_url=fake_llm.base_url, llm_api_key=None, llm_model="fake/model"
    )

    async with running_bot(fake_discord, bot_settings, embedder=embedder) as running:
        log = await fake_discord.run_command("autointel", {"target": MENTIONS_TEXT, "depth": "quick"})
        final = await fake_discord.wait_for_response(log, _has_report_files, timeout=REPORT_TIMEOUT)
        stalls = running.loop_lag.snapshot().stall_count

    report = IntelReport.model_validate_json(final.file(".json").data)
    assert report.engine.label == "LLM: fake/model"
    assert any("LLM: fake/model" in value for value in _field(final, "Engine"))
    assert [insight.evidence for insight in report.key_insights] == [QUOTE]
    assert "Authorization" not in fake_llm.chat_requests[0].headers  # a local endpoint, no key
    sent = json.dumps([request.message_payload for request in message_requests(fake_discord.requests)])
    assert "@everyone" not in report.summary and "<@123456789012345678>" not in report.summary
    for request in message_requests(fake_discord.requests):
        assert_cannot_ping(request)
    assert "IGNORE PREVIOUS INSTRUCTIONS" in sent  # shown as text, inert
    assert stalls == 0


async def test_rejected_key_still_gives_a_local_report_with_the_reason(
    fake_discord: FakeDiscord, fake_llm: FakeLLM, settings: Settings, embedder: Embedder
) -> None:
    fake_llm.script(FakeReply.error(401, "invalid key"))
    bot_settings = bot_settings_for(
        fake_discord, settings, llm_base_url=fake_llm.base_url, llm_api_key=SecretStr("wrong"), llm_model="fake/model"
    )

    async with running_bot(fake_discord, bot_settings, embedder=embedder):
        log = await fake_discord.run_command("autointel", {"target": MENTIONS_TEXT, "depth": "quick"})
        final = await fake_discord.wait_for_response(log, _has_report_files, timeout=REPORT_TIMEOUT)

    report = IntelReport.model_validate_json(final.file(".json").data)
    assert report.engine.name == "local"
    assert report.engine.fallback_reason == "the LLM API key was rejected (admin: check LLM_API_KEY)"
    notes = " ".join(_field(final, "Note")).replace("\\", "")  # markdown escapes
    assert "Ran on local analysis" in notes and "LLM_API_KEY" in notes
    assert len(fake_llm.chat_requests) == 1
