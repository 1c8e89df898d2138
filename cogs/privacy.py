"""``/privacy optout|optin|status``: a member keeps their messages out of digests and analyses here.

Stored per guild (:class:`core.digest.DigestService`); a digest leaves out an opted-out member's
messages and "Analyse message" refuses their messages.  Every reply is ephemeral.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

if TYPE_CHECKING:
    from bot.client import IntelBot
    from core.digest import DigestService

__all__ = ["PrivacyCog"]

_log = logging.getLogger(__name__)

_GUILD_ONLY = app_commands.AppCommandContext(guild=True)
OPTED_OUT = "Done: your messages in this server are now left out of digests and message analyses."
ALREADY_OUT = "Your messages in this server were already left out of digests and message analyses."
OPTED_IN = "Done: your messages in this server can appear in digests and message analyses again."
ALREADY_IN = "Your messages in this server can already appear in digests and message analyses."


def _guild_id(interaction: discord.Interaction) -> int:
    if interaction.guild_id is None:
        raise app_commands.NoPrivateMessage()
    return interaction.guild_id


class PrivacyCog(commands.Cog, name="Privacy"):
    """Your privacy in this server.

    ``/privacy optout`` keeps your messages out of every digest and "Analyse message" here;
    ``/privacy optin`` undoes it; ``/privacy status`` says which is in force.
    """

    privacy_group = app_commands.Group(
        name="privacy", description="Keep your messages out of digests and analyses in this server",
        guild_only=True, allowed_contexts=_GUILD_ONLY,
    )

    def __init__(self, bot: IntelBot) -> None:
        self.bot = bot

    @property
    def digests(self) -> DigestService:
        if self.bot.runtime.digests is None:
            raise RuntimeError("the runtime is not started")
        return self.bot.runtime.digests

    @privacy_group.command(name="optout", description="Leave your messages out of digests and analyses here")
    async def optout(self, interaction: discord.Interaction) -> None:
        changed = await self.digests.opt_out(_guild_id(interaction), interaction.user.id)
        await interaction.response.send_message(OPTED_OUT if changed else ALREADY_OUT, ephemeral=True)

    @privacy_group.command(name="optin", description="Let your messages appear in digests and analyses here again")
    async def optin(self, interaction: discord.Interaction) -> None:
        changed = await self.digests.opt_in(_guild_id(interaction), interaction.user.id)
        await interaction.response.send_message(OPTED_IN if changed else ALREADY_IN, ephemeral=True)

    @privacy_group.command(name="status", description="Whether your messages here are left out of digests")
    async def status(self, interaction: discord.Interaction) -> None:
        out = await self.digests.is_opted_out(_guild_id(interaction), interaction.user.id)
        await interaction.response.send_message(ALREADY_OUT if out else ALREADY_IN, ephemeral=True)


async def setup(bot: IntelBot) -> None:
    await bot.add_cog(PrivacyCog(bot))
