"""The one error handler of the command tree: errors become short replies, tracebacks go to the log.

An :class:`~core.errors.IntelError` already carries a message fit for a user; discord.py's check
failures get a short sentence of their own; anything else is a bug, logged with its traceback and
answered with a generic line.  Before the interaction is answered, the reply is ephemeral (only the
user sees it); after a public deferral, the "thinking" message is replaced by the error (Discord
keeps a deferred response's visibility).  Views and later cogs can call :func:`reply_with_error`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from cogs.checks import OUTCOME_EXTRA, CommandRefused, IntelCommandTree
from core.errors import IntelError

if TYPE_CHECKING:
    from bot.client import IntelBot

__all__ = ["ErrorHandler", "error_message", "outcome_label", "reply_with_error"]

_log = logging.getLogger(__name__)

UNEXPECTED_ERROR_MESSAGE = "Something went wrong on our side; the error was logged. Please try again later."


# discord.py's permission names where Discord's own UI says something else.
_PERMISSION_LABELS = {"manage_guild": "Manage Server", "manage_expressions": "Manage Expressions"}


def _permission_labels(names: list[str]) -> str:
    return ", ".join(_PERMISSION_LABELS.get(name, name.replace("_", " ").title()) for name in names)


def _unwrap(error: BaseException) -> BaseException:
    while isinstance(error, (app_commands.CommandInvokeError, app_commands.TransformerError, CommandRefused)):
        if error.__cause__ is None:
            break
        error = error.__cause__
    return error


def outcome_label(error: BaseException) -> str:
    """A bounded label for the commands metric: the error's class for known kinds, else ``unexpected``."""
    error = _unwrap(error)
    if isinstance(error, (IntelError, app_commands.CheckFailure)):
        return type(error).__name__
    return "unexpected"


def error_message(error: BaseException) -> str:
    """The short text a user sees for ``error`` (``None`` never: unknown errors get a generic line)."""
    error = _unwrap(error)
    if isinstance(error, (IntelError, CommandRefused)):
        return str(error)
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down: try again in {error.retry_after:.0f} seconds."
    if isinstance(error, app_commands.MissingPermissions):
        return f"You need the {_permission_labels(error.missing_permissions)} permission to use this command."
    if isinstance(error, app_commands.BotMissingPermissions):
        return f"I need the {_permission_labels(error.missing_permissions)} permission here to do that."
    if isinstance(error, app_commands.NoPrivateMessage):
        return "This command only works in a server."
    if isinstance(error, app_commands.CheckFailure):
        return "You cannot use this command here."
    return UNEXPECTED_ERROR_MESSAGE


async def reply_with_error(interaction: discord.Interaction, error: BaseException) -> None:
    """Log ``error`` as fits it and tell the user, ephemerally when the interaction allows it."""
    interaction.extras[OUTCOME_EXTRA] = outcome_label(error)
    cause = _unwrap(error)
    if isinstance(cause, (IntelError, app_commands.CheckFailure)):
        _log.info("command %s refused: %s", _command_name(interaction), cause)
    else:
        _log.error("command %s failed", _command_name(interaction), exc_info=cause)
    message = error_message(cause)
    none = discord.AllowedMentions.none()
    try:
        if not interaction.response.is_done():
            await interaction.response.send_message(message, ephemeral=True, allowed_mentions=none)
        elif interaction.response.type is discord.InteractionResponseType.deferred_channel_message:
            await interaction.edit_original_response(
                content=message, embeds=[], attachments=[], view=None, allowed_mentions=none
            )
        else:
            await interaction.followup.send(message, ephemeral=True, allowed_mentions=none)
    except discord.HTTPException:
        _log.warning("could not tell the user about an error", exc_info=True)


def _command_name(interaction: discord.Interaction) -> str:
    command = interaction.command
    return f"/{command.qualified_name}" if command is not None else f"interaction {interaction.type.name}"


class ErrorHandler(commands.Cog):
    """Turns command errors into short replies; installs itself as the tree's error handler."""

    def __init__(self, bot: IntelBot) -> None:
        self.bot = bot
        self._previous_handler = bot.tree.on_error

    async def cog_load(self) -> None:
        self.bot.tree.error(self.on_app_command_error)  # discord.py's public way to replace on_error

    async def cog_unload(self) -> None:
        self.bot.tree.on_error = self._previous_handler  # type: ignore[method-assign]

    async def on_app_command_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError, /
    ) -> None:
        try:
            await reply_with_error(interaction, error)
        finally:
            if isinstance(self.bot.tree, IntelCommandTree):
                self.bot.tree.record_finished(interaction)


async def setup(bot: IntelBot) -> None:
    await bot.add_cog(ErrorHandler(bot))
