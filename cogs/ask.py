"""``/ask``: a question answered from this server's own past reports, citing them.

Thin: defer, call :meth:`core.service.IntelService.ask`, render with :func:`cogs.render.render_answer`,
and offer an Open button for each cited report (:func:`cogs.intel.open_report`).  The service says
plainly when the reports hold no answer; this cog only shows it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from cogs.checks import tenant_of
from cogs.intel import open_report
from cogs.render import Page, render_answer
from cogs.views import PagedView
from cogs.wrong_answer import wrong_answer_handler
from core.service import AskRequest

if TYPE_CHECKING:
    from bot.client import IntelBot

__all__ = ["AskCog"]

_log = logging.getLogger(__name__)

_NO_MENTIONS = discord.AllowedMentions.none()


class AskCog(commands.Cog, name="Ask"):
    """Questions about this server's past reports.

    ``/ask question:<text>`` answers from the reports made here with /autointel, and cites them;
    it never looks at another server's reports.  In a direct message it draws only on the reports
    you made in your own direct messages.
    """

    def __init__(self, bot: IntelBot) -> None:
        self.bot = bot

    async def _open(self, interaction: discord.Interaction, report_id: int) -> None:
        await open_report(self.bot, interaction, report_id)

    @app_commands.command(name="ask", description="Ask a question about this server's past reports")
    @app_commands.describe(question="Your question; the answer cites the reports it comes from")
    async def ask(self, interaction: discord.Interaction, question: app_commands.Range[str, 1, 500]) -> None:
        await interaction.response.defer(thinking=True)
        request = AskRequest(guild_id=tenant_of(interaction), user_id=interaction.user.id, question=question)
        result = await self.bot.service.ask(request)
        content, embed = render_answer(result, direct_message=interaction.guild_id is None)
        choices = [(citation.report_id, f"Open #{citation.report_id}") for citation in result.answer.citations]
        view = PagedView([Page(embeds=[embed], open_choices=choices)], owner_id=interaction.user.id,
                         timeout=self.bot.settings.discord_view_timeout_seconds, on_open=self._open,
                         on_wrong_answer=wrong_answer_handler(self.bot, tenant_id=request.guild_id,
                                                              hit=result.cache_hit))
        await interaction.edit_original_response(
            content=content, embed=embed, allowed_mentions=_NO_MENTIONS, view=view if view.has_items else None
        )
        if view.has_items:
            view.shown_by(interaction)
        _log.info("/ask for tenant %s: found=%s, %d reports cited, %.1fs", request.guild_id, result.answer.found,
                  len(result.answer.citations), result.elapsed_seconds)


async def setup(bot: IntelBot) -> None:
    await bot.add_cog(AskCog(bot))
