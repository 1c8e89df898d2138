"""``/digest now|schedule|schedules``: what happened in a channel or thread, with a link to every source.

Thin, per STYLE.md: check the intent setting and both sides' permissions (so a refusal stays
ephemeral), defer, read the history (at most ``DIGEST_MAX_MESSAGES``, with progress), hand plain
:class:`~core.digest.ChatMessage` records to :class:`core.digest.DigestService`, render.  Discord
does not let a command with subcommands run by itself, so the digest is ``/digest now``.

A digest of another channel is answered only to the invoker (ephemeral): posting it where people
who cannot read that channel would see it would reveal the channel.  Scheduled digests are in
:mod:`cogs.digest_schedules` (they share this group).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from cogs.autointel import ThrottledResponseEditor
from cogs.render import DiscordLimits, discord_text, truncate
from core.digest.errors import DigestAccessError, MessageContentDisabledError
from core.digest.models import ChatMessage, Digest
from core.digest.render import digest_sections, digest_summary_line
from core.digest.window import parse_since
from core.progress import Progress, ProgressSink, ignore_progress

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


async def setup(bot: IntelBot) -> None:
    await bot.add_cog(DigestCog(bot))
