""""Wrong answer?" under a cached reply, through the real bot and the fake Discord."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from cogs.views import NOT_YOURS_MESSAGE
from core.embedder import Embedder
from core.settings import Settings
from tests.e2e.bot_runner import RunningBot, bot_settings_for, running_bot
from tests.e2e.components import message_buttons, message_id
from tests.e2e.fake_discord import FakeDiscord
from tests.e2e.fake_records import InteractionLog, InteractionResponse
from tests.e2e.texts import HARBOUR_AND_SCHOOLS

REPORT_TIMEOUT = 90.0


@pytest.fixture
async def feedback_bot(fake_discord: FakeDiscord, settings: Settings, embedder: Embedder) -> AsyncIterator[RunningBot]:
    configured = bot_settings_for(fake_discord, settings, user_cooldown_seconds=0)
    async with running_bot(fake_discord, configured, embedder=embedder) as running:
        yield running


async def _report(fake: FakeDiscord, log: InteractionLog) -> InteractionResponse:
    return await fake.wait_for_response(log, lambda r: any(f.filename.endswith(".json") for f in r.files),
                                        timeout=REPORT_TIMEOUT)


def _served_from_cache(response: InteractionResponse) -> bool:
    return any(field["name"] == "Served from cache" for embed in response.embeds for field in embed.get("fields") or [])


async def test_wrong_answer_forgets_the_entry_for_the_invoker_or_a_manager(feedback_bot: RunningBot) -> None:
    fake = feedback_bot.fake
    invoker = fake.world.admin
    first = await fake.run_command("autointel", {"target": HARBOUR_AND_SCHOOLS, "depth": "quick"}, user=invoker)
    assert not _served_from_cache(await _report(fake, first))
    cached_log = await fake.run_command("autointel", {"target": HARBOUR_AND_SCHOOLS, "depth": "quick"}, user=invoker)
    assert _served_from_cache(await _report(fake, cached_log))
    button = message_buttons(fake, cached_log)["Wrong answer?"]

    refused = await fake.click_button(button["custom_id"], message_id=message_id(fake, cached_log),
                                      user=fake.world.member)  # neither the invoker nor Manage Server
    accepted = await fake.click_button(button["custom_id"], message_id=message_id(fake, cached_log),
                                       user=fake.world.owner)  # the server's owner: Manage Server
    again = await fake.click_button(button["custom_id"], message_id=message_id(fake, cached_log), user=invoker)

    assert refused.ephemeral and refused.callback is not None and refused.callback.content == NOT_YOURS_MESSAGE
    assert accepted.ephemeral and accepted.callback is not None
    assert "is forgotten" in (accepted.callback.content or "")
    assert again.callback is not None and "already gone" in (again.callback.content or "")
    third = await fake.run_command("autointel", {"target": HARBOUR_AND_SCHOOLS, "depth": "quick"}, user=invoker)
    assert not _served_from_cache(await _report(fake, third))


async def test_a_fresh_report_has_no_wrong_answer_button(feedback_bot: RunningBot) -> None:
    fake = feedback_bot.fake
    log = await fake.run_command("autointel", {"target": HARBOUR_AND_SCHOOLS, "depth": "standard"})
    await _report(fake, log)
    assert "Wrong answer?" not in message_buttons(fake, log)
    assert "Refresh" in message_buttons(fake, log)
