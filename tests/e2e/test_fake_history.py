"""The fake Discord's history pagination and permissions behave as Discord's do."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import discord

from tests.e2e.fake_guild import CHANNEL_PUBLIC_THREAD, FakeChannel, build_test_world
from tests.e2e.fake_history import FakeHistory, history_message

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _filled(count: int) -> tuple[FakeHistory, list[int]]:
    world = build_test_world()
    history = FakeHistory()
    ids = []
    for number in range(count):
        message = history_message(channel_id=1, guild_id=2, author=world.member, content=f"message {number}",
                                  at=START + timedelta(seconds=number))
        ids.append(int(history.add(message)["id"]))
    return history, ids


def test_page_without_cursor_is_the_newest_hundred_newest_first() -> None:
    history, ids = _filled(250)

    page = history.page(1, limit=500)

    assert [int(message["id"]) for message in page] == list(reversed(ids[-100:]))


def test_before_pages_walk_back_to_the_oldest_message() -> None:
    history, ids = _filled(250)
    seen: list[int] = []
    before = None
    while True:
        page = history.page(1, limit=100, before=before)
        seen += [int(message["id"]) for message in page]
        if len(page) < 100:
            break
        before = int(page[-1]["id"])

    assert seen == list(reversed(ids))


def test_after_gives_the_oldest_messages_after_the_id_newest_first() -> None:
    history, ids = _filled(250)

    page = history.page(1, limit=100, after=ids[9])

    assert [int(message["id"]) for message in page] == list(reversed(ids[10:110]))


def test_snowflakes_carry_the_message_time() -> None:
    _, ids = _filled(3)

    assert discord.utils.snowflake_time(ids[2]) == START + timedelta(seconds=2)


def test_thread_permissions_are_its_parent_channels() -> None:
    world = build_test_world()
    guild = world.guild
    hidden = guild.channel("admin-only")
    thread = FakeChannel(99, "plans", CHANNEL_PUBLIC_THREAD, parent_id=hidden.id)
    guild.threads.append(thread)

    member = guild.member(world.member)
    admin = guild.member(world.admin)

    assert not guild.permissions_for(member, thread).view_channel
    assert guild.permissions_for(admin, thread).view_channel
