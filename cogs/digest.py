"""``/digest now|schedule|schedules``: what happened in a channel or thread, with a link to every source.

Thin, per STYLE.md: check the intent setting and both sides' permissions (so a refusal stays
ephemeral), defer, read the history (at most ``DIGEST_MAX_MESSAGES``, with progress), hand plain
:class:`~core.digest.ChatMessage` records to :class:`core.digest.DigestService`, render.  Discord
does not let a command with subcommands run by itself, so the digest is ``/digest now``.

A digest of another channel is answered only to the invoker (ephemeral): posting it where people
who cannot read that channel would see it would reveal the channel.

Scheduled digests (``/digest schedule``, ``/digest schedules``, Manage Server) are run by the
runtime's one :class:`core.schedules.Scheduler`; this cog is its runner (read, digest, post) and
turns a deleted channel or lost access into :class:`core.schedules.JobAccessLostError`, which
pauses the schedule with the reason.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from cogs.autointel import ThrottledResponseEditor
from cogs.render import DiscordLimits, discord_text, truncate
from core.digest.errors import DigestAccessError, MessageContentDisabledError, ScheduleError
from core.digest.models import ChatMessage, Digest
from core.digest.render import digest_sections, digest_summary_line
from core.digest.window import parse_since
from core.progress import Progress, ProgressSink, ignore_progress
from core.schedules import JobAccessLostError, every_code, parse_at, parse_timezone
from core.storage.server_rows import NewSchedule, ScheduleRow

if TYPE_CHECKING:
    from bot.client import IntelBot
    from core.digest import DigestService

__all__ = ["DigestCog", "ReadableChannel", "chat_message", "check_can_read", "read_history", "render_digest"]

_log = logging.getLogger(__name__)

ReadableChannel = discord.TextChannel | discord.Thread
_NO_MENTIONS = discord.AllowedMentions.none()
_GUILD_ONLY = app_commands.AppCommandContext(guild=True)
_EMBED_COLOUR = discord.Colour.blurple()
_PROGRESS_EVERY = 100
NOTHING_TO_DIGEST = "Nothing to digest: no messages from people in that window."
MAX_SCHEDULES_PER_GUILD = 20


def chat_message(message: discord.Message) -> ChatMessage:
    """A Discord message as the digest engine's plain record."""
    reference = message.reference
    return ChatMessage(
        message_id=message.id, author_id=message.author.id, author=message.author.display_name,
        created_at=message.created_at, content=message.content, jump_url=message.jump_url,
        reply_to=reference.message_id if reference is not None else None,
        is_bot=message.author.bot, is_system=message.is_system(),
        attachments=tuple(attachment.filename for attachment in message.attachments),
    )


async def read_history(
    channel: ReadableChannel, *, after: datetime, limit: int, progress: ProgressSink = ignore_progress
) -> list[ChatMessage]:
    """The newest ``limit`` messages after ``after``, oldest first."""
    read: list[ChatMessage] = []
    async for message in channel.history(limit=limit, after=after, oldest_first=False):
        read.append(chat_message(message))
        if len(read) % _PROGRESS_EVERY == 0:
            await progress(Progress("Reading messages", done=len(read), total=limit))
    read.reverse()
    return read


def check_can_read(channel: ReadableChannel, *, member: discord.Member, me: discord.Member) -> None:
    """Refuse unless the invoker *and* the bot may view ``channel`` and read its history.

    The invoker's refusal never names the channel, so it reveals nothing they could not see.
    """
    if not _reads_history(channel.permissions_for(member)):
        raise DigestAccessError("You can only digest a channel whose history you can read.", who="member")
    if not _reads_history(channel.permissions_for(me)):
        raise DigestAccessError(
            f"I cannot read the history of {channel.mention}: give me View Channel and Read Message History there.",
            who="bot",
        )


def check_no_wider_audience(source: ReadableChannel, post_to: ReadableChannel) -> None:
    """Refuse a schedule whose digests would reach people who cannot read the channel digested.

    Compared per role (``@everyone`` included) and per member with an overwrite on ``post_to``:
    anyone of them who sees ``post_to`` must be able to read ``source``'s history.
    """
    if source.id == post_to.id:
        return
    audience: list[discord.Role | discord.Member] = list(post_to.guild.roles)
    overwritten = post_to.parent.overwrites if isinstance(post_to, discord.Thread) and post_to.parent else \
        getattr(post_to, "overwrites", {})
    audience += [target for target in overwritten if isinstance(target, discord.Member)]
    for target in audience:
        if _permissions(post_to, target).view_channel and not _reads_history(_permissions(source, target)):
            raise DigestAccessError(
                f"{post_to.mention} is visible to people who cannot read the channel to digest: "
                "post its digests in a channel with the same or a smaller audience.",
                who="member",
            )


def _permissions(channel: ReadableChannel, target: discord.Role | discord.Member) -> discord.Permissions:
    """``target``'s permissions in ``channel``; a thread has its parent's (it has no overwrites)."""
    if isinstance(channel, discord.Thread) and channel.parent is not None:
        return channel.parent.permissions_for(target)
    return channel.permissions_for(target)


def _reads_history(permissions: discord.Permissions) -> bool:
    return permissions.view_channel and permissions.read_message_history


def render_digest(digest: Digest, *, heading: str) -> tuple[str, list[discord.Embed]]:
    """Content (heading and figures) and one embed per section, within Discord's limits."""
    content = truncate(f"{heading}\n{digest_summary_line(digest)}", DiscordLimits.CONTENT)
    if digest.empty:
        return truncate(f"{heading}\n{NOTHING_TO_DIGEST}" if not digest.message_count else
                        f"{content}\nNo topics, decisions, questions or links stood out.", DiscordLimits.CONTENT), []

    def link(message_id: int, number: int) -> str:
        url = digest.jump_urls.get(message_id)
        return f"[[{number}]]({url})" if url else ""

    sections = digest_sections(digest, link=link, escape=lambda text: discord_text(text, 400))
    budget = (DiscordLimits.EMBED_TOTAL - 200) // max(1, len(sections))
    embeds = []
    for section in sections:
        description = _fit_lines(section.lines, min(budget, DiscordLimits.DESCRIPTION))
        embeds.append(discord.Embed(title=section.title, description=description, colour=_EMBED_COLOUR))
    return content, embeds


def _fit_lines(lines: Sequence[str], limit: int) -> str:
    """As many whole bullet lines as fit in ``limit`` characters (a line is never cut mid-link)."""
    kept: list[str] = []
    used = 0
    for line in lines:
        bullet = f"• {line}"
        if used + len(bullet) + 1 > limit:
            break
        kept.append(bullet)
        used += len(bullet) + 1
    return "\n".join(kept) or truncate(f"• {lines[0]}", limit)


def resolve_channel(interaction: discord.Interaction, chosen: ReadableChannel | None) -> ReadableChannel:
    """The chosen channel, else the one the command was used in (a text channel or a thread)."""
    if chosen is not None:
        return chosen
    guild = interaction.guild
    current = guild.get_channel_or_thread(interaction.channel_id) if guild and interaction.channel_id else None
    if not isinstance(current, ReadableChannel):
        raise DigestAccessError("Pick a text channel or thread to digest.", who="member")
    return current


def member_and_me(interaction: discord.Interaction) -> tuple[discord.Member, discord.Member]:
    guild = interaction.guild
    if guild is None or not isinstance(interaction.user, discord.Member):
        raise app_commands.NoPrivateMessage()
    return interaction.user, guild.me


class DigestCog(commands.Cog, name="Digest"):
    """Digests of a channel or thread: main topics, decisions, open questions, links, who drove each topic.

    ``/digest now channel:<channel or thread> since:<24h, 3d, 2026-03-01>`` digests the recent messages
    (default: the last 24 hours); every item links to its messages.  Needs the Message Content intent.
    """

    digest_group = app_commands.Group(
        name="digest", description="Digests of this server's channels", guild_only=True, allowed_contexts=_GUILD_ONLY,
    )

    def __init__(self, bot: IntelBot) -> None:
        self.bot = bot
        self._starter: asyncio.Task[None] | None = None

    @property
    def digests(self) -> DigestService:
        if self.bot.runtime.digests is None:
            raise RuntimeError("the runtime is not started")
        return self.bot.runtime.digests

    @digest_group.command(name="now", description="Digest the recent messages of a channel or thread")
    @app_commands.describe(
        channel="The channel or thread to digest (default: this one)",
        since="How far back: 24h (default), 90m, 3d, 1w, or a date such as 2026-03-01 14:00 (UTC)",
    )
    async def digest_now(
        self, interaction: discord.Interaction, channel: ReadableChannel | None = None,
        since: app_commands.Range[str, 0, 40] | None = None,
    ) -> None:
        if not self.bot.settings.message_content_intent:
            raise MessageContentDisabledError()
        member, me = member_and_me(interaction)
        target = resolve_channel(interaction, channel)
        check_can_read(target, member=member, me=me)
        start = parse_since(since, now=discord.utils.utcnow())
        elsewhere = target.id != interaction.channel_id
        await interaction.response.defer(thinking=True, ephemeral=elsewhere)
        heading = f"**Digest of {target.mention}** since {discord.utils.format_dt(start, 'f')}"
        editor = ThrottledResponseEditor(interaction, heading=heading)
        try:
            messages = await read_history(target, after=start, limit=self.bot.settings.digest_max_messages,
                                          progress=editor.progress)
            digest = await self.digests.digest(target.guild.id, messages, progress=editor.progress)
        finally:
            await editor.cancel()
        content, embeds = render_digest(digest, heading=heading)
        await editor.finish(content=content, embeds=embeds)
        _log.info("/digest now: %d messages read, %d digested", len(messages), digest.message_count)

    # --- scheduled digests --------------------------------------------------------------------

    async def cog_load(self) -> None:
        self.bot.runtime.scheduler.set_runner(self)
        self._starter = asyncio.get_running_loop().create_task(self._start_scheduler_when_ready())

    async def _start_scheduler_when_ready(self) -> None:
        """Start the scheduler once the guild cache is filled: before READY every channel looks
        deleted, and a due schedule would pause itself for nothing."""
        await self.bot.wait_until_ready()
        self.bot.runtime.scheduler.start()

    async def cog_unload(self) -> None:
        if self._starter is not None:
            self._starter.cancel()
        self.bot.runtime.scheduler.set_runner(None)

    @digest_group.command(name="schedule", description="Post a digest of a channel on a schedule (Manage Server)")
    @app_commands.describe(
        channel="The channel or thread to digest", post_to="Where to post the digest",
        every="daily or weekly", at="Local time of day, HH:MM (24 h)",
        timezone="IANA time zone, e.g. Europe/Paris, America/New_York or UTC", day="For weekly: the day (default Monday)",
    )
    async def digest_schedule(
        self, interaction: discord.Interaction, channel: ReadableChannel, post_to: ReadableChannel,
        every: Literal["daily", "weekly"], at: app_commands.Range[str, 3, 5],
        timezone: app_commands.Range[str, 1, 64],
        day: Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] | None = None,
    ) -> None:
        member, me = _manager_and_me(interaction)
        if not self.bot.settings.message_content_intent:
            raise MessageContentDisabledError()
        check_can_read(channel, member=member, me=me)
        check_no_wider_audience(channel, post_to)
        if not post_to.permissions_for(me).send_messages:
            raise DigestAccessError(f"I cannot post in {post_to.mention}: give me Send Messages there.", who="bot")
        zone, at_time, code = parse_timezone(timezone), parse_at(at), every_code(every, day=day)
        scheduler = self.bot.runtime.scheduler
        guild_id = channel.guild.id
        if len(await self._schedules(guild_id)) >= MAX_SCHEDULES_PER_GUILD:
            raise ScheduleError(f"This server has {MAX_SCHEDULES_PER_GUILD} schedules, the most; remove one first.")
        first = scheduler.first_run(every=code, at_time=at_time, timezone=zone.key)
        row = await scheduler.add(NewSchedule(
            guild_id=guild_id, source_channel_id=channel.id, post_channel_id=post_to.id, every=code, at_time=at_time,
            timezone=zone.key, created_by=member.id, created_at=scheduler.clock.now(), next_run_at=first,
        ))
        await interaction.response.send_message(
            f"Schedule #{row.schedule_id}: {describe_schedule(row)}. First run {_when(first)}.",
            ephemeral=True, allowed_mentions=_NO_MENTIONS)

    @digest_group.command(name="schedules", description="List, remove, pause or resume scheduled digests (Manage Server)")
    @app_commands.describe(action="What to do (default: list)", schedule="The schedule's number, for remove/pause/resume")
    async def digest_schedules(
        self, interaction: discord.Interaction, action: Literal["list", "remove", "pause", "resume"] = "list",
        schedule: app_commands.Range[int, 1] | None = None,
    ) -> None:
        member, _ = _manager_and_me(interaction)
        guild_id = member.guild.id
        if action == "list":
            rows = await self._schedules(guild_id)
            lines = [f"#{row.schedule_id}: {describe_schedule(row)}; " + (
                f"**paused**: {row.paused_reason}" if row.paused else f"next {_when(row.next_run_at)}") for row in rows]
            text = "\n".join(lines) or "No scheduled digests here. Add one with /digest schedule."
            await interaction.response.send_message(truncate(text, DiscordLimits.CONTENT), ephemeral=True,
                                                    allowed_mentions=_NO_MENTIONS)
            return
        row = await self._schedule(guild_id, schedule)
        store, scheduler = self.bot.runtime.storage.schedules, self.bot.runtime.scheduler
        if action == "remove":
            await store.delete(guild_id, row.schedule_id)
            scheduler.wake()
            answer = f"Schedule #{row.schedule_id} removed."
        elif action == "pause":
            await store.set_paused(guild_id, row.schedule_id, paused=True, reason=f"paused by {member.display_name}")
            scheduler.wake()
            answer = f"Schedule #{row.schedule_id} paused; resume it with /digest schedules action:resume."
        else:
            await scheduler.resume(row)
            answer = f"Schedule #{row.schedule_id} resumed."
        await interaction.response.send_message(answer, ephemeral=True, allowed_mentions=_NO_MENTIONS)

    async def _schedules(self, guild_id: int) -> list[ScheduleRow]:
        return await self.bot.runtime.storage.schedules.for_guild(guild_id)

    async def _schedule(self, guild_id: int, schedule_id: int | None) -> ScheduleRow:
        if schedule_id is None:
            raise ScheduleError("Give the schedule's number (see /digest schedules).")
        row = await self.bot.runtime.storage.schedules.get(guild_id, schedule_id)
        if row is None:
            raise ScheduleError(f"This server has no schedule #{schedule_id}.")
        return row

    async def run_schedule(self, schedule: ScheduleRow, *, since: float) -> None:
        """The scheduler's runner: digest the source since ``since`` and post it; a deleted channel or
        lost access raises :class:`JobAccessLostError` (the schedule pauses with the reason)."""
        source, post = self._schedule_channels(schedule)
        try:
            messages = await read_history(source, after=datetime.fromtimestamp(since, UTC),
                                          limit=self.bot.settings.digest_max_messages)
            digest = await self.digests.digest(schedule.guild_id, messages)
            content, embeds = render_digest(digest, heading=f"**Scheduled digest of {source.mention}** "
                                                            f"(schedule #{schedule.schedule_id})")
            await post.send(content=content, embeds=embeds, allowed_mentions=_NO_MENTIONS)
        except discord.NotFound as exc:
            raise JobAccessLostError("a channel of this schedule was deleted") from exc
        except discord.Forbidden as exc:
            raise JobAccessLostError("the bot lost access to a channel of this schedule") from exc

    def _schedule_channels(self, schedule: ScheduleRow) -> tuple[ReadableChannel, ReadableChannel]:
        if not self.bot.settings.message_content_intent:
            raise JobAccessLostError("the Message Content intent is off (MESSAGE_CONTENT_INTENT)")
        guild = self.bot.get_guild(schedule.guild_id)
        if guild is None:
            raise JobAccessLostError("the bot is not in this server any more")
        source = guild.get_channel_or_thread(schedule.source_channel_id)
        post = guild.get_channel_or_thread(schedule.post_channel_id)
        if not isinstance(source, ReadableChannel):
            raise JobAccessLostError("the channel to digest was deleted")
        if not isinstance(post, ReadableChannel):
            raise JobAccessLostError("the channel to post in was deleted")
        if not _reads_history(source.permissions_for(guild.me)):
            raise JobAccessLostError(f"the bot lost access to {source.mention} (View Channel, Read Message History)")
        if not post.permissions_for(guild.me).send_messages:
            raise JobAccessLostError(f"the bot may not post in {post.mention} (Send Messages)")
        try:  # checked at every run, not only at creation: permissions change
            check_no_wider_audience(source, post)
        except DigestAccessError as exc:
            raise JobAccessLostError(
                f"{post.mention} is now visible to people who cannot read {source.mention}") from exc
        return source, post


def describe_schedule(row: ScheduleRow) -> str:
    """``<#1> to <#2>, daily at 09:00 Europe/Paris``."""
    every = "daily" if row.every == "daily" else f"weekly on {row.every.removeprefix('weekly-').title()}"
    return f"<#{row.source_channel_id}> to <#{row.post_channel_id}>, {every} at {row.at_time} {row.timezone}"


def _when(moment: float) -> str:
    return discord.utils.format_dt(datetime.fromtimestamp(moment, UTC), "F")


def _manager_and_me(interaction: discord.Interaction) -> tuple[discord.Member, discord.Member]:
    """The invoker, who must have Manage Server, and the bot's member."""
    member, me = member_and_me(interaction)
    if not interaction.permissions.manage_guild:
        raise app_commands.MissingPermissions(["manage_guild"])
    return member, me


async def setup(bot: IntelBot) -> None:
    await bot.add_cog(DigestCog(bot))
