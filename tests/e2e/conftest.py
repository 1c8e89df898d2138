"""Fixtures for end-to-end tests: a fake Discord on loopback and the real bot connected to it.

* ``fake_discord``: a started :class:`~tests.e2e.fake_discord.FakeDiscord` (its ``world`` holds the
  guild, channels, roles, and the users ``owner``, ``admin`` and ``member``);
* ``bot_settings``: settings pointing the bot at it, data in ``tmp_path``, no ``DEV_GUILD_ID``;
* ``running_bot``: the real :class:`bot.client.IntelBot`, connected, commands synced, with the
  session's embedding model injected and a loop-lag monitor running.

To test other settings, build them with :func:`~tests.e2e.bot_runner.bot_settings_for` and start
the bot with :func:`~tests.e2e.bot_runner.running_bot` inside the test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.embedder import Embedder
from core.settings import Settings
from tests.e2e.bot_runner import RunningBot, bot_settings_for, running_bot
from tests.e2e.fake_discord import FakeDiscord


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        yield fake


@pytest.fixture
def bot_settings(settings: Settings, fake_discord: FakeDiscord) -> Settings:
    return bot_settings_for(fake_discord, settings)


@pytest.fixture
async def intel_bot(
    fake_discord: FakeDiscord, bot_settings: Settings, embedder: Embedder
) -> AsyncIterator[RunningBot]:
    async with running_bot(fake_discord, bot_settings, embedder=embedder) as running:
        yield running
