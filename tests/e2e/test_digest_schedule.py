"""Scheduled digests end to end: the real bot, a hand-moved clock, restarts on the same database."""

from __future__ import annotations

import asyncio
import dataclasses
import math
from collections.abc import Callable
from datetime import UTC, datetime

import discord

from core.embedder import Embedder
from core.settings import Settings
from tests.e2e.bot_runner import RunningBot, bot_settings_for, running_bot
from tests.e2e.digest_world import human_lines, jump_links, write_channel
from tests.e2e.fake_discord import FakeDiscord
from tests.e2e.fake_guild import PermissionOverwrite
from tests.e2e.fake_records import RecordedRequest
from tests.fakes.clock import ManualClock

RUN_TIMEOUT = 180.0


def _posts(fake: FakeDiscord, channel_id: int) -> Callable[[], list[RecordedRequest]]:
    return lambda: [r for r in fake.requests if r.route == f"POST /channels/{channel_id}/messages"]


async def _one_pass(running: RunningBot) -> None:
    """Wait until the scheduler of a freshly started bot has looked at its due jobs once."""
    scheduler = running.bot.runtime.scheduler
    async with asyncio.timeout(60):
        await scheduler.wait_for_passes(1)


async def test_a_schedule_fires_at_its_time_and_survives_restarts_without_running_twice(
    fake_discord: FakeDiscord, settings: Settings, embedder: Embedder
) -> None:
    fake = fake_discord
    world = fake.world
    general, reports = world.guild.channel("general"), world.guild.channel("reports")
    written = write_channel(fake, general, human_lines(40), authors=[world.owner, world.member])
    now = datetime.now(UTC).timestamp()
    clock = ManualClock(now)
    fire_at = math.ceil(now / 3600) * 3600 + 3600  # the next whole hour but one
    at = datetime.fromtimestamp(fire_at, UTC).strftime("%H:%M")
    bot_settings = bot_settings_for(fake, settings, message_content_intent=True)
    posts = _posts(fake, reports.id)

    async with running_bot(fake, bot_settings, embedder=embedder, clock=clock) as running:
        made = await fake.run_command("digest", {"schedule": {
            "channel": general, "post_to": reports, "every": "daily", "at": at, "timezone": "UTC"}}, user=world.admin)
        await _one_pass(running)
        assert posts() == []
        await clock.set(fire_at + 1)
        await fake.wait_for(lambda: len(posts()) == 1, timeout=RUN_TIMEOUT, what="the scheduled digest")

    async with running_bot(fake, bot_settings, embedder=embedder, clock=clock) as running:  # restart, same time
        await _one_pass(running)
        after_restart = len(posts())

    await clock.set(fire_at + 3 * 86_400 + 60)  # down for three days: missed runs
    async with running_bot(fake, bot_settings, embedder=embedder, clock=clock) as running:
        await fake.wait_for(lambda: len(posts()) == 2, timeout=RUN_TIMEOUT, what="the missed run")
        await _one_pass(running)
        listed = await fake.run_command("digest", {"schedules": {}}, user=world.admin)

    assert made.ephemeral and "Schedule #1" in (made.callback.content or "")  # type: ignore[union-attr]
    assert after_restart == 1
    assert len(posts()) == 2
    first = posts()[0].body
    assert "Scheduled digest of" in first["content"] and "40 messages from 2 people" in first["content"]
    links = jump_links("\n".join(embed["description"] for embed in first["embeds"]))
    assert links and {message for _, _, message in links} <= {int(message["id"]) for message in written}
    expected_next = datetime.fromtimestamp(fire_at + 4 * 86_400, UTC)
    assert f"<t:{int(expected_next.timestamp())}:F>" in (listed.callback.content or "")  # type: ignore[union-attr]


async def _run_until_paused(fake: FakeDiscord, running: RunningBot, clock: ManualClock, fire_at: float) -> str:
    """Move the clock past the schedule's time and return ``/digest schedules`` once it shows a pause."""
    passes = running.bot.runtime.scheduler.passes
    await clock.set(fire_at + 1)
    async with asyncio.timeout(RUN_TIMEOUT):
        await running.bot.runtime.scheduler.wait_for_passes(passes + 1)
        # A pass that began before the clock moved may be the one counted: ask until the pause shows.
        while True:
            listed = await fake.run_command("digest", {"schedules": {}}, user=fake.world.admin)
            if listed.callback is not None and "**paused**" in (listed.callback.content or ""):
                return listed.callback.content or ""
            await asyncio.sleep(0.2)


def _next_hour_but_one() -> tuple[ManualClock, float, str]:
    now = datetime.now(UTC).timestamp()
    fire_at = math.ceil(now / 3600) * 3600 + 3600
    return ManualClock(now), fire_at, datetime.fromtimestamp(fire_at, UTC).strftime("%H:%M")


async def test_a_schedule_whose_channel_was_deleted_pauses_and_says_why(
    fake_discord: FakeDiscord, settings: Settings, embedder: Embedder
) -> None:
    fake = fake_discord
    world = fake.world
    general, off_topic = world.guild.channel("general"), world.guild.channel("off-topic")
    clock, fire_at, at = _next_hour_but_one()
    async with running_bot(fake, bot_settings_for(fake, settings, message_content_intent=True), embedder=embedder,
                           clock=clock) as running:
        await fake.run_command("digest", {"schedule": {
            "channel": off_topic, "post_to": general, "every": "daily", "at": at, "timezone": "UTC"}}, user=world.admin)
        await fake.delete_channel(off_topic)
        await fake.run_command("privacy", {"status": {}})  # answered after the bot read CHANNEL_DELETE
        assert running.bot.get_channel(off_topic.id) is None
        listed = await _run_until_paused(fake, running, clock, fire_at)

    assert "**paused**: the channel to digest was deleted" in listed
    assert _posts(fake, general.id)() == []


async def test_a_schedule_whose_source_became_private_pauses_instead_of_posting_to_a_wider_audience(
    fake_discord: FakeDiscord, settings: Settings, embedder: Embedder
) -> None:
    """Accepted when #general was open to all; then #general is hidden from everyone but the bot, so
    the Admin role that sees #admin-only could read a digest of a channel it cannot read."""
    fake = fake_discord
    world = fake.world
    general, staff_only = world.guild.channel("general"), world.guild.channel("admin-only")
    write_channel(fake, general, human_lines(10), authors=[world.owner, world.member])
    clock, fire_at, at = _next_hour_but_one()
    async with running_bot(fake, bot_settings_for(fake, settings, message_content_intent=True), embedder=embedder,
                           clock=clock) as running:
        made = await fake.run_command("digest", {"schedule": {
            "channel": general, "post_to": staff_only, "every": "daily", "at": at, "timezone": "UTC"}},
            user=world.admin)
        hidden = PermissionOverwrite(world.guild.id, 0, deny=discord.Permissions(view_channel=True))
        bot_sees = PermissionOverwrite(world.guild.role("intelbot").id, 0,
                                       allow=discord.Permissions(view_channel=True, read_message_history=True))
        await fake.update_channel(dataclasses.replace(general, overwrites=(hidden, bot_sees)))
        await fake.run_command("privacy", {"status": {}})  # answered after the bot read CHANNEL_UPDATE
        listed = await _run_until_paused(fake, running, clock, fire_at)

    assert "Schedule #1" in (made.callback.content or "")  # type: ignore[union-attr]
    assert f"**paused**: <#{staff_only.id}> is now visible to people who cannot read <#{general.id}>" in listed
    assert _posts(fake, staff_only.id)() == []


async def test_a_schedule_that_would_show_a_private_channel_to_a_wider_audience_is_refused(
    fake_discord: FakeDiscord, settings: Settings, embedder: Embedder
) -> None:
    fake = fake_discord
    world = fake.world
    private, general = world.guild.channel("admin-only"), world.guild.channel("general")
    async with running_bot(fake, bot_settings_for(fake, settings, message_content_intent=True), embedder=embedder,
                           clock=ManualClock(datetime.now(UTC).timestamp())):
        wider = await fake.run_command("digest", {"schedule": {
            "channel": private, "post_to": general, "every": "daily", "at": "09:00", "timezone": "UTC"}},
            user=world.admin)
        same = await fake.run_command("digest", {"schedule": {
            "channel": private, "post_to": private, "every": "daily", "at": "09:00", "timezone": "UTC"}},
            user=world.admin)
        narrower = await fake.run_command("digest", {"schedule": {
            "channel": general, "post_to": private, "every": "weekly", "at": "09:00", "timezone": "UTC"}},
            user=world.admin)

    assert wider.callback is not None and wider.ephemeral
    assert "visible to people who cannot read the channel to digest" in (wider.callback.content or "")
    assert "Schedule #1" in (same.callback.content or "")  # type: ignore[union-attr]
    assert "Schedule #2" in (narrower.callback.content or "")  # type: ignore[union-attr]
