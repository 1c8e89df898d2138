"""``/watch add|list|remove`` (Manage Server): pages re-fetched on an interval, changes posted.

Thin: check input, call :class:`core.watch.WatchService`, render.  This cog is the service's poster:
a change is posted to the watch's channel as two messages, what changed (new and dropped insights
and claims) and the fresh report, rendered as ``/autointel`` renders one.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from cogs.digest import ReadableChannel, member_and_me
from cogs.render import DiscordLimits, discord_text, render_report, truncate
from core.digest.errors import DigestAccessError
from core.schedules import JobAccessLostError
from core.service import AutointelResult

if TYPE_CHECKING:
    from bot.client import IntelBot
    from core.storage.server_rows import WatchRow
    from core.watch import WatchChange, WatchService

__all__ = ["WatchCog", "render_change"]

_log = logging.getLogger(__name__)

_NO_MENTIONS = discord.AllowedMentions.none()
_GUILD_ONLY = app_commands.AppCommandContext(guild=True)
_ADMIN = discord.Permissions(manage_guild=True)


def render_change(change: WatchChange) -> discord.Embed:
    """One embed: new and dropped key insights and claims (each list cut to fit)."""
    embed = discord.Embed(title="What changed", url=change.url, colour=discord.Colour.orange())
    for name, items in (("New insights", change.new_insights), ("Dropped insights", change.dropped_insights),
                        ("New claims", change.new_claims), ("Dropped claims", change.dropped_claims)):
        if items:
            lines = "\n".join(f"• {discord_text(item, 200)}" for item in items[:6])
            embed.add_field(name=name, value=truncate(lines, DiscordLimits.FIELD_VALUE), inline=False)
    if not embed.fields:
        embed.description = "The main text changed, but no key insight or claim did."
    return embed


def describe_watch(row: WatchRow) -> str:
    state = f"last error: {row.last_error} ({row.failures} in a row)" if row.failures else (
        f"last checked {discord.utils.format_dt(datetime.fromtimestamp(row.last_checked_at, UTC), 'R')}"
        if row.last_checked_at else "not checked yet")
    return f"#{row.watch_id}: <{row.url}> every {row.every_minutes} min to <#{row.post_channel_id}>; {state}"


class WatchCog(commands.Cog, name="Watch"):
    """Watched pages (Manage Server).

    ``/watch add url:<page> every:<minutes, at least 15> post_to:<channel>`` re-fetches the page and,
    when its main text changes, posts the new and dropped insights and claims with a fresh report.
    ``/watch list`` shows this server's watches; ``/watch remove watch:<number>`` stops one.
    """

    watch_group = app_commands.Group(
        name="watch", description="Watch web pages for changes (Manage Server)", guild_only=True,
        allowed_contexts=_GUILD_ONLY, default_permissions=_ADMIN,
    )

    def __init__(self, bot: IntelBot) -> None:
        self.bot = bot

    @property
    def watches(self) -> WatchService:
        if self.bot.runtime.watches is None:
            raise RuntimeError("the runtime is not started")
        return self.bot.runtime.watches

    async def cog_load(self) -> None:
        self.watches.poster = self
        self.bot.runtime.scheduler.wake()

    async def cog_unload(self) -> None:
        self.watches.poster = None

    @watch_group.command(name="add", description="Watch a page; post what changed when its text changes")
    @app_commands.describe(url="The page (http or https)", every="Minutes between checks (at least 15; default 60)",
                           post_to="Where to post changes")
    async def add(
        self, interaction: discord.Interaction, url: app_commands.Range[str, 8, 2000], post_to: ReadableChannel,
        every: app_commands.Range[int, 1, 10_080] = 60,
    ) -> None:
        member, me = member_and_me(interaction)
        if not post_to.permissions_for(me).send_messages:
            raise DigestAccessError(f"I cannot post in {post_to.mention}: give me Send Messages there.", who="bot")
        row = await self.watches.add(guild_id=member.guild.id, url=url, every_minutes=every,
                                     post_channel_id=post_to.id, created_by=member.id)
        self.bot.runtime.scheduler.wake()
        await interaction.response.send_message(
            f"Watching <{row.url}> every {row.every_minutes} min (watch #{row.watch_id}); changes go to "
            f"{post_to.mention}. The first check takes the baseline.", ephemeral=True, allowed_mentions=_NO_MENTIONS)

    @watch_group.command(name="list", description="This server's watched pages")
    async def list_watches(self, interaction: discord.Interaction) -> None:
        member, _ = member_and_me(interaction)
        rows = await self.watches.for_guild(member.guild.id)
        text = "\n".join(describe_watch(row) for row in rows) or "No watched pages here. Add one with /watch add."
        await interaction.response.send_message(truncate(text, DiscordLimits.CONTENT), ephemeral=True,
                                                allowed_mentions=_NO_MENTIONS)

    @watch_group.command(name="remove", description="Stop watching a page")
    @app_commands.describe(watch="The watch's number (see /watch list)")
    async def remove(self, interaction: discord.Interaction, watch: app_commands.Range[int, 1]) -> None:
        member, _ = member_and_me(interaction)
        await self.watches.remove(member.guild.id, watch)
        await interaction.response.send_message(f"Watch #{watch} removed.", ephemeral=True)

    async def post_change(self, watch: WatchRow, change: WatchChange) -> None:
        """The service's poster: the changes, then the fresh report, in the watch's channel."""
        guild = self.bot.get_guild(watch.guild_id)
        channel = guild.get_channel_or_thread(watch.post_channel_id) if guild else None
        if guild is None or not isinstance(channel, ReadableChannel):
            raise JobAccessLostError("the channel to post in is gone")
        rendered = render_report(AutointelResult(report=change.report))
        try:
            await channel.send(content=truncate(f"**Page changed:** <{change.url}>", DiscordLimits.CONTENT),
                               embed=render_change(change), allowed_mentions=_NO_MENTIONS)
            await channel.send(content=rendered.content[: DiscordLimits.CONTENT], embeds=rendered.embeds,
                               files=rendered.discord_files(), allowed_mentions=_NO_MENTIONS)
        except (discord.NotFound, discord.Forbidden) as exc:
            raise JobAccessLostError("the bot cannot post in the watch's channel") from exc


async def setup(bot: IntelBot) -> None:
    await bot.add_cog(WatchCog(bot))
