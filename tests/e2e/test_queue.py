"""The analysis queue end to end: a waiting user sees their place; a full line says "busy", privately."""

from __future__ import annotations

from core.embedder import Embedder
from core.settings import Settings
from tests.e2e.bot_runner import bot_settings_for, running_bot
from tests.e2e.fake_discord import FakeDiscord
from tests.e2e.fake_records import InteractionResponse
from tests.e2e.texts import FERRY_TEXT, LONG_REPORT_TEXT, ORCHARD_TEXT

REPORT_TIMEOUT = 120.0


def _has_report(response: InteractionResponse) -> bool:
    return any(item.filename.endswith(".json") for item in response.files)


async def test_waiting_user_sees_their_place_and_a_full_line_answers_busy_privately(
    fake_discord: FakeDiscord, settings: Settings, embedder: Embedder
) -> None:
    world = fake_discord.world
    configured = bot_settings_for(
        fake_discord, settings, analysis_concurrency=1, analysis_queue_size=1, user_cooldown_seconds=0,
    )
    async with running_bot(fake_discord, configured, embedder=embedder):
        running = await fake_discord.run_command("autointel", {"target": LONG_REPORT_TEXT, "depth": "deep"},
                                                 user=world.owner)
        waiting = await fake_discord.run_command("autointel", {"target": ORCHARD_TEXT, "depth": "quick"},
                                                 user=world.admin)
        refused = await fake_discord.run_command("autointel", {"target": FERRY_TEXT, "depth": "quick"},
                                                 user=world.member)
        await fake_discord.wait_for_response(running, _has_report, timeout=REPORT_TIMEOUT)
        await fake_discord.wait_for_response(waiting, _has_report, timeout=REPORT_TIMEOUT)

    assert refused.ephemeral and not refused.deferred
    assert refused.callback is not None and refused.callback.content == "The bot is busy: try again in a minute."
    assert waiting.deferred and not waiting.ephemeral
    assert any("Waiting in line: you are next" in (edit.content or "") for edit in waiting.edits)
    assert not any("Waiting in line" in (edit.content or "") for edit in running.edits)
