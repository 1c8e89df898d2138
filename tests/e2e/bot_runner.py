"""Run the real :class:`bot.client.IntelBot` against a :class:`~tests.e2e.fake_discord.FakeDiscord`.

:func:`running_bot` does what ``bot.launcher.run_bot`` does (``async with IntelBot(...) as bot:
await bot.start(token)``) but in the test's loop, with the session's embedding model injected into
the runtime so it loads once per test run, and a :class:`~core.looplag.LoopLagMonitor` sampling the
loop from the moment the bot is ready.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from pydantic import SecretStr

from bot.client import INITIAL_EXTENSIONS, IntelBot
from core.embedder import Embedder
from core.fetch.guard import UrlGuard
from core.looplag import LoopLagMonitor
from core.runtime import IntelRuntime
from core.schedules import Clock
from core.settings import Settings
from tests.e2e.fake_discord import FakeDiscord

__all__ = ["RunningBot", "bot_settings_for", "running_bot"]


@dataclass
class RunningBot:
    """A connected bot, the fake it talks to, and the loop-lag monitor watching the loop."""

    bot: IntelBot
    fake: FakeDiscord
    loop_lag: LoopLagMonitor
    task: asyncio.Task[None]


def bot_settings_for(fake: FakeDiscord, settings: Settings, **overrides: object) -> Settings:
    """``settings`` pointed at ``fake`` (token, API base and gateway), with ``overrides`` applied."""
    return settings.model_copy(update={
        "discord_token": SecretStr(fake.token),
        "discord_api_base_url": fake.base_url,
        "discord_gateway_url": fake.gateway_url,
        **overrides,
    })


@contextlib.asynccontextmanager
async def running_bot(
    fake: FakeDiscord, settings: Settings, *, embedder: Embedder, extensions: Sequence[str] = INITIAL_EXTENSIONS,
    url_guard: UrlGuard | None = None, clock: Clock | None = None,
) -> AsyncIterator[RunningBot]:
    """Start the bot, wait until it is connected with its commands synced; close it on exit.

    ``url_guard`` replaces the SSRF guard (tests pass ``tests.fakes.web_server.loopback_guard``);
    ``clock`` the scheduler's clock (``tests.fakes.clock.ManualClock``).
    """
    assert settings.discord_token is not None
    runtime = IntelRuntime(settings, embedder=embedder, url_guard=url_guard, clock=clock)
    async with IntelBot(settings=settings, runtime=runtime, extensions=extensions) as bot:
        task = asyncio.create_task(bot.start(settings.discord_token.get_secret_value()), name="bot-under-test")
        monitor = LoopLagMonitor()
        try:
            await _wait_until_ready(bot, fake, task)
            monitor.start()
            yield RunningBot(bot=bot, fake=fake, loop_lag=monitor, task=task)
        finally:
            await monitor.stop()
            await bot.close()
            await asyncio.wait_for(asyncio.gather(task, return_exceptions=True), 10)


async def _wait_until_ready(bot: IntelBot, fake: FakeDiscord, task: asyncio.Task[None]) -> None:
    ready = asyncio.ensure_future(_both_ready(bot, fake))
    done, _ = await asyncio.wait({ready, task}, timeout=60, return_when=asyncio.FIRST_COMPLETED)
    if ready in done:
        ready.result()
        return
    ready.cancel()
    if task in done:
        task.result()  # raises what stopped the bot
        raise AssertionError("the bot stopped before it was ready")
    raise AssertionError("the bot was not ready within 60 s")


async def _both_ready(bot: IntelBot, fake: FakeDiscord) -> None:
    await fake.wait_until_ready(timeout=60)
    await bot.wait_until_ready()
