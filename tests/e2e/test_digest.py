"""``/digest now``, ``/privacy`` and "Analyse message" end to end: the real bot against the fake Discord."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import discord

from core.embedder import Embedder
from core.settings import Settings
from tests.e2e.bot_runner import bot_settings_for, running_bot
from tests.e2e.digest_world import human_lines, jump_links, write_channel
from tests.e2e.fake_discord import FakeDiscord
from tests.e2e.fake_guild import CHANNEL_FORUM, FakeChannel, FakeUser, PermissionOverwrite
from tests.e2e.fake_records import InteractionLog, InteractionResponse
from tests.e2e.texts import HARBOUR_AND_SCHOOLS

DIGEST_TIMEOUT = 240.0


def _finished(response: InteractionResponse) -> bool:
    return response.kind == "edit_original" and "⏳" not in (response.content or "")


async def _digest_reply(fake: FakeDiscord, log: InteractionLog) -> InteractionResponse:
    return await fake.wait_for_response(log, _finished, timeout=DIGEST_TIMEOUT)


def _people(fake: FakeDiscord) -> list[FakeUser]:
    world = fake.world
    return [world.owner, world.admin, world.member]


async def test_a_1500_message_channel_is_digested_with_working_jump_links(
    fake_discord: FakeDiscord, settings: Settings, embedder: Embedder
) -> None:
    fake = fake_discord
    general = fake.world.guild.channel("general")
    written = write_channel(fake, general, human_lines(1500), authors=_people(fake))
    for number in range(20):  # bots are never digested
        fake.add_history(general, fake.world.bot_user, f"Report #{number} is ready.",
                         at=datetime.now(UTC) - timedelta(minutes=number))
    bot_settings = bot_settings_for(fake, settings, message_content_intent=True, digest_max_messages=2000)
    async with running_bot(fake, bot_settings, embedder=embedder):
        log = await fake.run_command("digest", {"now": {}}, channel=general)
        reply = await _digest_reply(fake, log)

    text = reply.text()
    assert not log.ephemeral
    assert "1,500 messages from 3 people" in text
    assert "Main topics" in text and "Links" not in text
    links = jump_links(text)
    ids = {int(message["id"]) for message in written}
    assert len(links) >= 5
    assert all(guild == fake.world.guild.id and channel == general.id and message in ids
               for guild, channel, message in links)
    pages = [request for request in fake.requests if request.route == f"GET /channels/{general.id}/messages"]
    assert len(pages) >= 15 and all(int(request.query["limit"]) <= 100 for request in pages)


async def test_a_digest_reads_at_most_digest_max_messages_the_newest_ones(
    fake_discord: FakeDiscord, settings: Settings, embedder: Embedder
) -> None:
    fake = fake_discord
    general = fake.world.guild.channel("general")
    written = write_channel(fake, general, human_lines(300), authors=_people(fake))
    bot_settings = bot_settings_for(fake, settings, message_content_intent=True, digest_max_messages=120)
    async with running_bot(fake, bot_settings, embedder=embedder):
        log = await fake.run_command("digest", {"now": {}}, channel=general)
        reply = await _digest_reply(fake, log)

    text = reply.text()
    assert "120 messages from 3 people" in text
    newest = sorted(written, key=lambda message: int(message["id"]))[-120:]
    cited = {message for _, _, message in jump_links(text)}
    assert cited and cited <= {int(message["id"]) for message in newest}


async def test_refusals_for_the_member_the_bot_and_a_missing_intent(
    fake_discord: FakeDiscord, settings: Settings, embedder: Embedder
) -> None:
    fake = fake_discord
    guild = fake.world.guild
    hidden = guild.channel("admin-only")
    off_topic = guild.channel("off-topic")
    write_channel(fake, hidden, ["The secret staff plan is to rename the project Zephyr next quarter."] * 3,
                  authors=[fake.world.admin])
    async with running_bot(fake, bot_settings_for(fake, settings, message_content_intent=True), embedder=embedder):
        member_refused = await fake.run_command("digest", {"now": {"channel": hidden}}, user=fake.world.member)
        bot_role = guild.role("intelbot")
        deny_bot = PermissionOverwrite(bot_role.id, 0, deny=discord.Permissions(read_message_history=True))
        await fake.update_channel(dataclasses.replace(off_topic, overwrites=(deny_bot,)))
        await fake.wait_for(lambda: True)
        bot_refused = await fake.run_command("digest", {"now": {"channel": off_topic}}, user=fake.world.admin)
    async with running_bot(fake, bot_settings_for(fake, settings), embedder=embedder):
        no_intent = await fake.run_command("digest", {"now": {}}, user=fake.world.admin)

    assert member_refused.ephemeral and member_refused.callback is not None
    assert member_refused.callback.content == "You can only digest a channel whose history you can read."
    assert bot_refused.ephemeral and bot_refused.callback is not None
    assert "I cannot read the history of" in (bot_refused.callback.content or "")
    assert no_intent.ephemeral and no_intent.callback is not None
    assert "MESSAGE_CONTENT_INTENT=true" in (no_intent.callback.content or "")
    assert not [r for r in fake.requests if r.route.startswith(f"GET /channels/{hidden.id}/messages")]


async def test_an_opted_out_members_messages_stay_out_of_digests_and_analyses(
    fake_discord: FakeDiscord, settings: Settings, embedder: Embedder
) -> None:
    fake = fake_discord
    world = fake.world
    reports = world.guild.channel("reports")
    write_channel(fake, reports, human_lines(59), authors=[world.owner, world.admin])
    long_post = fake.add_history(reports, world.owner, HARBOUR_AND_SCHOOLS, at=datetime.now(UTC) - timedelta(seconds=20))
    secret = [fake.add_history(reports, world.member, f"My zeppelin hobby costs more than the team lunch budget {n}.",
                               at=datetime.now(UTC) - timedelta(seconds=30 + n)) for n in range(5)]
    async with running_bot(fake, bot_settings_for(fake, settings, message_content_intent=True), embedder=embedder):
        opted = await fake.run_command("privacy", {"optout": {}}, user=world.member)
        log = await fake.run_command("digest", {"now": {}}, channel=reports, user=world.admin)
        reply = await _digest_reply(fake, log)
        refused = await fake.message_command("Analyse message", secret[0], user=world.admin)
        analysed = await fake.message_command("Analyse message", long_post, user=world.admin)
        report = await fake.wait_for_response(analysed, lambda r: any(f.filename.endswith(".json") for f in r.files),
                                              timeout=DIGEST_TIMEOUT)

    assert opted.ephemeral and "left out of digests" in (opted.callback.content or "")  # type: ignore[union-attr]
    text = reply.text()
    assert "zeppelin" not in text.lower()
    assert "60 messages from 2 people" in text and "5 left out" in text
    secret_ids = {int(message["id"]) for message in secret}
    assert not {message for _, _, message in jump_links(text)} & secret_ids
    assert refused.ephemeral and "opted out" not in (refused.callback.content or "x")  # type: ignore[union-attr]
    assert "keeps their messages out of analyses" in (refused.callback.content or "")  # type: ignore[union-attr]
    assert "harbour" in report.file(".json").text.lower()


async def test_a_forum_post_is_digested_with_links_into_it(
    fake_discord: FakeDiscord, settings: Settings, embedder: Embedder
) -> None:
    fake = fake_discord
    world = fake.world
    forum = FakeChannel(fake.world.guild.id + 500, "ideas", CHANNEL_FORUM, parent_id=world.guild.channel("general").parent_id)
    world.guild.channels.append(forum)
    post = await fake.add_thread(forum, "Release planning")
    written = write_channel(fake, post, human_lines(30), authors=[world.owner, world.member])
    async with running_bot(fake, bot_settings_for(fake, settings, message_content_intent=True), embedder=embedder):
        log = await fake.run_command("digest", {"now": {"channel": post}}, user=world.member)
        reply = await _digest_reply(fake, log)

    assert log.ephemeral  # asked from #general about another channel
    links = jump_links(reply.text())
    assert links and all(channel == post.id for _, channel, _ in links)
    assert {message for _, _, message in links} <= {int(message["id"]) for message in written}
