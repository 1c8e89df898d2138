"""``/intel history`` and ``/intel search``: the server's own reports, listed and searched.

Both answer with pages (:class:`cogs.views.PagedView`) whose Open buttons post the stored report
the way ``/autointel`` does (digest embeds and the Markdown and JSON files).  Every lookup is
scoped to the tenant the command runs in (the guild, or in a direct message the user's own
reports: :func:`core.tenants.tenant_for`), so an id from elsewhere is simply not found.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from cogs.checks import tenant_of
from cogs.render import DiscordLimits, discord_text, history_pages, render_report, search_pages
from cogs.views import PagedView
from core.service import AutointelResult

if TYPE_CHECKING:
    from bot.client import IntelBot

__all__ = ["IntelCog", "open_report"]

_log = logging.getLogger(__name__)

HISTORY_LIMIT = 50
_NO_MENTIONS = discord.AllowedMentions.none()


def _owner(interaction: discord.Interaction) -> str:
    return "This server has" if interaction.guild_id is not None else "You have"


def _where(interaction: discord.Interaction) -> str:
    return "in this server" if interaction.guild_id is not None else "of yours"


async def open_report(bot: IntelBot, interaction: discord.Interaction, report_id: int) -> None:
    """Post report ``report_id`` of this guild in a new message, with its files and insight pages."""
    await interaction.response.defer(thinking=True)
    report = await bot.service.get_report(tenant_of(interaction), report_id)
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

    intel = app_commands.Group(name="intel", description="This server's past reports (in a DM: yours)")

    def __init__(self, bot: IntelBot) -> None:
        self.bot = bot

    async def _open(self, interaction: discord.Interaction, report_id: int) -> None:
        await open_report(self.bot, interaction, report_id)

    async def _reply_with_pages(self, interaction: discord.Interaction, view: PagedView) -> None:
        await interaction.edit_original_response(embeds=view.page.embeds, view=view, allowed_mentions=_NO_MENTIONS)
        view.shown_by(interaction)

    @intel.command(name="history", description="List this server's reports, newest first")
    async def history(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        history = await self.bot.service.report_history(tenant_of(interaction), limit=HISTORY_LIMIT)
        if not history.summaries:
            await interaction.edit_original_response(
                content=f"{_owner(interaction)} no reports yet: run /autointel to make one.",
                allowed_mentions=_NO_MENTIONS,
            )
            return
        pages = history_pages(history.summaries, total=history.total)
        view = PagedView(pages, owner_id=interaction.user.id, timeout=self.bot.settings.discord_view_timeout_seconds,
                         on_open=self._open)
        await self._reply_with_pages(interaction, view)

    @intel.command(name="search", description="Search this server's reports by meaning")
    @app_commands.describe(query="What you are looking for, in a few words or a sentence")
    async def search(self, interaction: discord.Interaction, query: app_commands.Range[str, 1, 300]) -> None:
        tenant_id = tenant_of(interaction)
        await interaction.response.defer(thinking=True)
        matches = await self.bot.service.search_reports(tenant_id, query)
        if not matches:
            await interaction.edit_original_response(
                content=f"No report {_where(interaction)} matches “{discord_text(query, 300)}”.", allowed_mentions=_NO_MENTIONS
            )
            return
        view = PagedView(search_pages(query, matches), owner_id=interaction.user.id,
                         timeout=self.bot.settings.discord_view_timeout_seconds, on_open=self._open)
        await self._reply_with_pages(interaction, view)
        _log.info("/intel search for tenant %s: %d reports matched", tenant_id, len(matches))


async def setup(bot: IntelBot) -> None:
    await bot.add_cog(IntelCog(bot))
