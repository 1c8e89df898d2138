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
from tests.e2e.texts import HARBOUR_AND_SCHOOLS, MENTIONS_TEXT
from tests.fakes.fake_llm import FakeLLM, FakeReply, fake_llm, report_json
from tests.fakes.silent_server import SilentServer

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


async def test_hanging_llm_gives_a_local_report_in_time_and_the_next_request_does_not_wait(
    fake_discord: FakeDiscord, settings: Settings, embedder: Embedder
) -> None:
    async with SilentServer() as silent:
        bot_settings = bot_settings_for(
            fake_discord, settings, llm_base_url=silent.base_url, llm_api_key=None, llm_model="fake/model",
            llm_timeout_seconds=2.0, llm_total_budget_seconds=5.0, user_cooldown_seconds=0.0,
        )
        async with running_bot(fake_discord, bot_settings, embedder=embedder):
            first = await fake_discord.run_command("autointel", {"target": MENTIONS_TEXT, "depth": "quick"})
            first_report = await fake_discord.wait_for_response(first, _has_report_files, timeout=REPORT_TIMEOUT)
            connections_after_first = silent.connections
            second = await fake_discord.run_command("autointel", {"target": HARBOUR_AND_SCHOOLS, "depth": "quick"})
            second_report = await fake_discord.wait_for_response(second, _has_report_files, timeout=REPORT_TIMEOUT)

    report = IntelReport.model_validate_json(first_report.file(".json").data)
    assert report.engine.name == "local"
    assert report.engine.fallback_reason is not None and "no answer in" in report.engine.fallback_reason
    assert first_report.at - first.sent_at < REPORT_TIMEOUT
    notes = " ".join(_field(first_report, "Note")).replace("\\", "")
    assert "Ran on local analysis" in notes and "no answer in" in notes
    waiting_lines = [edit.content or "" for edit in first.edits]
    assert any("the LLM is not answering; local analysis in" in line for line in waiting_lines)
    # The hang opened the breaker: the next request skips the LLM at once, and says why.
    assert connections_after_first >= 1 and silent.connections == connections_after_first
    follow_up = IntelReport.model_validate_json(second_report.file(".json").data)
    assert follow_up.engine.name == "local"
    assert follow_up.engine.fallback_reason == "the LLM service is failing, so it is paused for a while"
    assert not any("not answering" in (edit.content or "") for edit in second.edits)
