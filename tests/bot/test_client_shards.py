"""The settings pick the bot class: an ``AutoShardedBot`` for the configured shards, else the plain bot."""

from __future__ import annotations

from pathlib import Path

import discord
import pytest

from bot.client import IntelBot, ShardedIntelBot, build_bot
from core.runtime import IntelRuntime
from core.settings import Settings


def _settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, **values)  # type: ignore[arg-type]


def test_without_shard_settings_the_bot_is_one_plain_connection(tmp_path: Path) -> None:
    settings = _settings(tmp_path)

    bot = build_bot(settings=settings, runtime=IntelRuntime(settings))

    assert type(bot) is IntelBot
    assert not isinstance(bot, discord.AutoShardedClient)
    assert bot.shard_count is None


def test_shard_settings_make_an_auto_sharded_bot_for_exactly_those_shards(tmp_path: Path) -> None:
    settings = _settings(tmp_path, shard_count=4, shard_ids=[1, 3])

    bot = build_bot(settings=settings, runtime=IntelRuntime(settings))

    assert isinstance(bot, ShardedIntelBot) and isinstance(bot, discord.AutoShardedClient)
    assert bot.shard_count == 4
    assert bot.shard_ids == [1, 3]


def test_a_sharded_bot_without_shard_settings_is_refused(tmp_path: Path) -> None:
    settings = _settings(tmp_path)

    with pytest.raises(ValueError, match="SHARD_COUNT"):
        ShardedIntelBot(settings=settings, runtime=IntelRuntime(settings))
