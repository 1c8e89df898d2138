"""``/watch`` end to end: the real bot, a real page on loopback HTTP, a hand-moved clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from core.embedder import Embedder
from core.settings import Settings
from tests.e2e.bot_runner import RunningBot, bot_settings_for, running_bot
from tests.e2e.fake_discord import FakeDiscord
from tests.fakes.clock import ManualClock
from tests.fakes.web_server import FERRY_TEXT, TRAM_TEXT_CONTRADICTING, loopback_guard, start_web_server

CHECK_TIMEOUT = 180.0


async def _checked(running: RunningBot, hits: list[str], count: int, *, passes_before: int) -> None:
    """Wait until the page was fetched ``count`` times and a scheduler pass started after
    ``passes_before`` passes (read before the clock moved) has finished."""
    scheduler = running.bot.runtime.scheduler
    async with asyncio.timeout(CHECK_TIMEOUT):
        while hits.count("/watched") < count or scheduler.passes <= passes_before:
            await scheduler.wait_for_passes(scheduler.passes + 1)


async def _advance(running: RunningBot, clock: ManualClock, seconds: float) -> int:
    """Move the clock; returns the scheduler's pass count from before the move."""
    passes = running.bot.runtime.scheduler.passes
    await clock.advance(seconds)
    return passes


async def test_a_watch_posts_once_per_change_and_not_when_unchanged(
    fake_discord: FakeDiscord, settings: Settings, embedder: Embedder
) -> None:
    fake, world = fake_discord, fake_discord.world
    reports = world.guild.channel("reports")
    runner, site = await start_web_server()
    site.watched_text = FERRY_TEXT
    clock = ManualClock(datetime.now(UTC).timestamp())
    posts = lambda: [r for r in fake.requests if r.route == f"POST /channels/{reports.id}/messages"]  # noqa: E731
    try:
        async with running_bot(fake, bot_settings_for(fake, settings), embedder=embedder,
                               url_guard=loopback_guard(site), clock=clock) as running:
            too_often = await fake.run_command("watch", {"add": {"url": site.url("/watched"), "every": 5,
                                                                 "post_to": reports}}, user=world.admin)
            added = await fake.run_command("watch", {"add": {"url": site.url("/watched"), "every": 15,
                                                             "post_to": reports}}, user=world.admin)
            await _checked(running, site.hits, 1, passes_before=0)  # the baseline
            before = await _advance(running, clock, 15 * 60 + 1)
            await _checked(running, site.hits, 2, passes_before=before)  # 304: nothing to say
            unchanged_posts = len(posts())
            site.watched_text = FERRY_TEXT + "\n\n" + TRAM_TEXT_CONTRADICTING
            await clock.advance(15 * 60 + 1)
            await fake.wait_for(lambda: len(posts()) == 2, timeout=CHECK_TIMEOUT, what="the change")
            before = await _advance(running, clock, 15 * 60 + 1)
            await _checked(running, site.hits, 4, passes_before=before)
            listed = await fake.run_command("watch", {"list": {}}, user=world.admin)
    finally:
        await runner.cleanup()

    assert too_often.callback is not None and "at least 15 minutes" in (too_often.callback.content or "")
    assert added.callback is not None and "watch #1" in (added.callback.content or "")
    assert unchanged_posts == 0
    change, report = posts()
    assert "Page changed" in change.body["content"]
    fields = {field["name"]: field["value"] for field in change.body["embeds"][0]["fields"]}
    assert "New insights" in fields and "tram" in fields["New insights"].lower()
    assert any(item.filename.endswith(".json") for item in report.files)
    assert len(posts()) == 2
    assert "#1: <" in (listed.callback.content or "")  # type: ignore[union-attr]
