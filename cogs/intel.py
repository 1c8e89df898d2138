"""``/intel history`` and ``/intel search``: the server's own reports, listed and searched.

Both answer with pages (:class:`cogs.views.PagedView`) whose Open buttons post the stored report
the way ``/autointel`` does (digest embeds and the Markdown and JSON files).  Every lookup is
scoped to the guild the command runs in (:class:`core.reports.ReportLibrary` is per guild), so an
id from another server is simply not found.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from cogs.render import DiscordLimits, discord_text, history_pages, render_report, search_pages
from cogs.views import PagedView
from core.reports import ReportLibrary
from core.service import AutointelResult

if TYPE_CHECKING:
    from bot.client import IntelBot

__all__ = ["IntelCog", "open_report", "require_guild"]

_log = logging.getLogger(__name__)

HISTORY_LIMIT = 50
_NO_MENTIONS = discord.AllowedMentions.none()


def report_library(bot: IntelBot) -> ReportLibrary:
    """The runtime's report library (there once the bot's ``setup_hook`` has started the runtime)."""
    if bot.runtime.reports is None:
        raise RuntimeError("the runtime is not started")
    return bot.runtime.reports


def require_guild(interaction: discord.Interaction) -> int:
    """The guild id; in a direct message, refuse (Discord hides guild-only commands there, but a
    client can still send one)."""
    if interaction.guild_id is None:
        raise app_commands.NoPrivateMessage()
    return interaction.guild_id


async def open_report(bot: IntelBot, interaction: discord.Interaction, report_id: int) -> None:
    """Post report ``report_id`` of this guild in a new message, with its files and insight pages."""
    await interaction.response.defer(thinking=True)
    report = await report_library(bot).get(require_guild(interaction), report_id)
    rendered = render_report(AutointelResult(report=report, report_id=report_id))
    view = PagedView(rendered.pages, owner_id=interaction.user.id, timeout=bot.settings.discord_view_timeout_seconds)
    await interaction.edit_original_response(
        content=rendered.content[: DiscordLimits.CONTENT], embeds=rendered.embeds,
        attachments=rendered.discord_files(), allowed_mentions=_NO_MENTIONS, view=view if view.has_items else None,
    )
    view.shown_by(interaction)


class IntelCog(commands.Cog, name="Intel"):
    """This server's report library.

    ``/intel history`` lists the server's reports, newest first; ``/intel search query:<words>``
    finds the reports about something.  Open one with its button.
    """

    intel = app_commands.Group(name="intel", description="This server's past reports", guild_only=True)

    def __init__(self, bot: IntelBot) -> None:
        self.bot = bot

    async def _open(self, interaction: discord.Interaction, report_id: int) -> None:
        await open_report(self.bot, interaction, report_id)

    async def _reply_with_pages(self, interaction: discord.Interaction, view: PagedView) -> None:
        await interaction.edit_original_response(embeds=view.page.embeds, view=view, allowed_mentions=_NO_MENTIONS)
        view.shown_by(interaction)

    @intel.command(name="history", description="List this server's reports, newest first")
    async def history(self, interaction: discord.Interaction) -> None:
        guild_id = require_guild(interaction)
        await interaction.response.defer(thinking=True)
        library = report_library(self.bot)
        summaries = await library.history(guild_id, limit=HISTORY_LIMIT)
        if not summaries:
            await interaction.edit_original_response(
                content="This server has no reports yet: run /autointel to make one.", allowed_mentions=_NO_MENTIONS
            )
            return
        pages = history_pages(summaries, total=await library.count(guild_id))
        view = PagedView(pages, owner_id=interaction.user.id, timeout=self.bot.settings.discord_view_timeout_seconds,
                         on_open=self._open)
        await self._reply_with_pages(interaction, view)

    @intel.command(name="search", description="Search this server's reports by meaning")
    @app_commands.describe(query="What you are looking for, in a few words or a sentence")
    async def search(self, interaction: discord.Interaction, query: app_commands.Range[str, 1, 300]) -> None:
        guild_id = require_guild(interaction)
        await interaction.response.defer(thinking=True)
        matches = await report_library(self.bot).search_reports(guild_id=guild_id, query=query)
        if not matches:
            await interaction.edit_original_response(
                content=f"No report in this server matches “{discord_text(query, 300)}”.", allowed_mentions=_NO_MENTIONS
            )
            return
        view = PagedView(search_pages(query, matches), owner_id=interaction.user.id,
                         timeout=self.bot.settings.discord_view_timeout_seconds, on_open=self._open)
        await self._reply_with_pages(interaction, view)
        _log.info("/intel search in guild %s: %d reports matched", guild_id, len(matches))


async def setup(bot: IntelBot) -> None:
    await bot.add_cog(IntelCog(bot))
