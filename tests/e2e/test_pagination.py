"""Buttons under a report: key-insight pages, invoker only, disabled on timeout, Refresh without the cache."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import AsyncIterator

import pytest

from cogs.views import NOT_YOURS_MESSAGE
from core.embedder import Embedder
from core.models import IntelReport
from core.settings import Settings
from tests.e2e.bot_runner import RunningBot, bot_settings_for, running_bot
from tests.e2e.components import message_buttons, message_id
from tests.e2e.discord_limits import assert_cannot_ping
from tests.e2e.fake_discord import FakeDiscord
from tests.e2e.fake_records import InteractionLog, InteractionResponse
from tests.e2e.texts import HARBOUR_AND_SCHOOLS, LONG_REPORT_TEXT

REPORT_TIMEOUT = 90.0


@pytest.fixture
async def paging_bot(
    fake_discord: FakeDiscord, settings: Settings, embedder: Embedder
) -> AsyncIterator[RunningBot]:
    """The bot with no per-user cooldown (these tests run /autointel and Refresh back to back)."""
    configured = bot_settings_for(fake_discord, settings, user_cooldown_seconds=0)
    async with running_bot(fake_discord, configured, embedder=embedder) as running:
        yield running


def _has_report_files(response: InteractionResponse) -> bool:
    return any(item.filename.endswith(".json") for item in response.files)


async def _report(fake: FakeDiscord, log: InteractionLog) -> InteractionResponse:
    return await fake.wait_for_response(log, _has_report_files, timeout=REPORT_TIMEOUT)


def _insights_footer(fake: FakeDiscord, log: InteractionLog) -> str:
    embeds = fake.original_message(log)["embeds"]
    insights = next(embed for embed in embeds if embed.get("title") == "Key insights")
    return (insights.get("footer") or {}).get("text") or ""


def _summary_field_names(response: InteractionResponse) -> list[str]:
    summary = next(embed for embed in response.embeds if (embed.get("title") or "").startswith("Intelligence report"))
    return [field["name"] for field in summary.get("fields") or []]


async def _long_report(fake: FakeDiscord) -> InteractionLog:
    log = await fake.run_command("autointel", {"target": LONG_REPORT_TEXT, "depth": "deep"})
    await _report(fake, log)
    return log


async def test_next_and_previous_page_through_the_key_insights(paging_bot: RunningBot) -> None:
    fake = paging_bot.fake
    log = await _long_report(fake)
    first_buttons = message_buttons(fake, log)
    assert first_buttons["Previous"]["disabled"] and not first_buttons["Next"].get("disabled")
    assert _insights_footer(fake, log).startswith("Page 1/")

    turned = await fake.click_button(first_buttons["Next"]["custom_id"], message_id=message_id(fake, log))

    assert turned.callback is not None and turned.callback.callback_type == 7  # the message itself is updated
    assert _insights_footer(fake, log).startswith("Page 2/")
    assert not message_buttons(fake, log)["Previous"].get("disabled")
    assert len(fake.original_message(log)["attachments"]) == 2  # the full report stays attached
    assert_cannot_ping(turned.callback.request)
    back = await fake.click_button(message_buttons(fake, log)["Previous"]["custom_id"], message_id=message_id(fake, log))
    assert back.callback is not None and _insights_footer(fake, log).startswith("Page 1/")


async def test_someone_else_clicking_gets_an_ephemeral_refusal_and_nothing_changes(paging_bot: RunningBot) -> None:
    fake = paging_bot.fake
    log = await _long_report(fake)
    before = fake.original_message(log)["embeds"]

    click = await fake.click_button(message_buttons(fake, log)["Next"]["custom_id"], message_id=message_id(fake, log),
                                    user=fake.world.admin)

    assert click.callback is not None and click.callback.callback_type == 4
    assert click.ephemeral and click.callback.content == NOT_YOURS_MESSAGE
    assert fake.original_message(log)["embeds"] == before


async def test_refresh_runs_the_request_again_without_the_cache(paging_bot: RunningBot) -> None:
    fake = paging_bot.fake
    await _report(fake, await fake.run_command("autointel", {"target": HARBOUR_AND_SCHOOLS, "depth": "quick"}))
    cached_log = await fake.run_command("autointel", {"target": HARBOUR_AND_SCHOOLS, "depth": "quick"})
    cached = await _report(fake, cached_log)
    assert "Served from cache" in _summary_field_names(cached)

    refresh = await fake.click_button(message_buttons(fake, cached_log)["Refresh"]["custom_id"],
                                      message_id=message_id(fake, cached_log))
    refreshed = await _report(fake, refresh)

    assert refresh.deferred and not refresh.ephemeral
    assert "Served from cache" not in _summary_field_names(refreshed)
    assert refreshed.content != cached.content  # a new report, saved under a new number
    assert IntelReport.model_validate_json(refreshed.file(".json").data).summary


async def test_refresh_is_for_the_invoker_only(paging_bot: RunningBot) -> None:
    fake = paging_bot.fake
    log = await fake.run_command("autointel", {"target": HARBOUR_AND_SCHOOLS, "depth": "quick"})
    await _report(fake, log)

    click = await fake.click_button(message_buttons(fake, log)["Refresh"]["custom_id"], message_id=message_id(fake, log),
                                    user=fake.world.owner)

    assert click.ephemeral and click.callback is not None and click.callback.content == NOT_YOURS_MESSAGE
    assert not click.deferred


async def test_buttons_disable_themselves_when_the_view_times_out(
    fake_discord: FakeDiscord, settings: Settings, embedder: Embedder
) -> None:
    configured = bot_settings_for(fake_discord, settings, discord_view_timeout_seconds=1.0)
    async with running_bot(fake_discord, configured, embedder=embedder):
        log = await fake_discord.run_command("autointel", {"target": HARBOUR_AND_SCHOOLS, "depth": "quick"})
        await _report(fake_discord, log)

        await fake_discord.wait_for(
            lambda: all(button.get("disabled") for button in message_buttons(fake_discord, log).values()),
            timeout=15, what="the buttons to be disabled",
        )

    shown = message_buttons(fake_discord, log)
    assert "Refresh" in shown
    assert len(fake_discord.original_message(log)["attachments"]) == 2


async def test_a_view_timing_out_after_shutdown_leaves_its_message_alone_and_logs_no_error(
    fake_discord: FakeDiscord, settings: Settings, embedder: Embedder, caplog: pytest.LogCaptureFixture
) -> None:
    timeout = 4.0
    configured = bot_settings_for(fake_discord, settings, discord_view_timeout_seconds=timeout)
    async with running_bot(fake_discord, configured, embedder=embedder):
        log = await fake_discord.run_command("autointel", {"target": HARBOUR_AND_SCHOOLS, "depth": "quick"})
        await _report(fake_discord, log)
        shown_at = time.monotonic()
    closed_in_time = time.monotonic() - shown_at < timeout  # else the view timed out while the bot ran
    requests_at_close = len(fake_discord.requests)

    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        await asyncio.sleep(timeout + 1.0 - (time.monotonic() - shown_at))  # the view times out now
        gc.collect()  # a failed timeout task logs its error when it is collected

    assert closed_in_time
    assert len(fake_discord.requests) == requests_at_close  # no edit tried
    assert not any(button.get("disabled") for button in message_buttons(fake_discord, log).values())
    assert "Session is closed" not in caplog.text
    assert [record for record in caplog.records if record.levelno >= logging.WARNING] == []


async def test_refresh_during_the_cooldown_is_refused_ephemerally(intel_bot: RunningBot) -> None:
    fake = intel_bot.fake
    log = await fake.run_command("autointel", {"target": HARBOUR_AND_SCHOOLS, "depth": "quick"})
    await _report(fake, log)

    click = await fake.click_button(message_buttons(fake, log)["Refresh"]["custom_id"], message_id=message_id(fake, log))

    assert click.ephemeral and not click.deferred
    assert click.callback is not None and (click.callback.content or "").startswith("You are going too fast")
