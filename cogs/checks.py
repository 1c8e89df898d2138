"""Tree-level checks, and the per-command hooks: log context and metrics.

:class:`IntelCommandTree` is the bot's command tree.  Its public :meth:`interaction_check` runs
first in the task discord.py starts for each interaction, so that is where
:func:`core.logcontext.bind_request_in_task` binds the guild and the command: every log line of the
command, its worker-gate jobs and the error handler's reply carries them.  The same place notes the
start time; :meth:`IntelCommandTree.record_finished` counts the command by name and outcome in
:class:`core.metrics.Metrics` when it ends (called on completion and by the error handler).

:meth:`IntelCommandTree.interaction_check` is the one place that refuses a command before it runs,
each with a short ephemeral reply from the tree's error handler (:mod:`cogs.errors`):

* a guild-only command used in a DM (:class:`~discord.app_commands.NoPrivateMessage`);
* a command whose ``default_permissions`` the user lacks (``MissingPermissions``): Discord hides
  such commands, but a server can override that and a crafted payload can name any command;
* a command an admin disabled in this guild (:class:`CommandDisabledHere`);
* a channel outside the guild's allowed channels (:class:`ChannelNotAllowed`); ``/settings`` is
  exempt so admins can always undo a mistake;
* a user still cooling down (:class:`~core.errors.CooldownError`, peeked without claiming: the
  service claims when the command runs).
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import discord
from discord import app_commands

from core.errors import CooldownError
from core.logcontext import bind_request_in_task
from core.tenants import tenant_for

if TYPE_CHECKING:
    from bot.client import IntelBot
    from core.guild_settings import EffectiveGuildSettings

__all__ = [
    "COOLDOWN_COMMANDS",
    "UNDISABLEABLE_COMMANDS",
    "ChannelNotAllowed",
    "CommandDisabledHere",
    "CommandRefused",
    "IntelCommandTree",
    "command_label",
    "root_name",
    "tenant_of",
]

_log = logging.getLogger(__name__)

# Commands that claim the per-user cooldown in the service (``/ask`` does not claim it, so peeking
# for it would refuse a question just because a report was asked for: add it when it claims).
COOLDOWN_COMMANDS = frozenset({"autointel"})
# Commands a guild cannot disable, nor restrict to channels: admins need them to fix settings.
UNDISABLEABLE_COMMANDS = frozenset({"settings"})
# Where the error handler leaves the outcome label of a failed command (see cogs.errors).
OUTCOME_EXTRA = "outcome"
# When the tree's check let the command start (``time.perf_counter()``), for its duration metric.
STARTED_EXTRA = "started_at"

AnyCommand = app_commands.Command | app_commands.Group | app_commands.ContextMenu


class CommandRefused(app_commands.CheckFailure):
    """A tree-level check refused the command; ``str(error)`` is the user's message.

    Inherits from :class:`discord.app_commands.CheckFailure`.  A refusal that comes from the
    engine (a cooldown) is raised ``from`` the :class:`~core.errors.IntelError`.
    """

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class CommandDisabledHere(CommandRefused):
    """The guild's admins disabled this command.  Inherits from :class:`CommandRefused`."""

    def __init__(self, command: str) -> None:
        self.command = command
        super().__init__(f"/{command} is turned off in this server.")


class ChannelNotAllowed(CommandRefused):
    """The guild restricts the bot to other channels.  Inherits from :class:`CommandRefused`."""

    def __init__(self, allowed_channel_ids: list[int]) -> None:
        self.allowed_channel_ids = list(allowed_channel_ids)
        channels = ", ".join(f"<#{channel_id}>" for channel_id in self.allowed_channel_ids[:10])
        super().__init__(f"I only answer in {channels} in this server.")


def tenant_of(interaction: discord.Interaction) -> int:
    """The tenant this interaction belongs to: its guild, or in a DM the user's own tenant."""
    return tenant_for(guild_id=interaction.guild_id, user_id=interaction.user.id)


def root_name(command: AnyCommand) -> str:
    """The top-level name of a command: ``settings`` for ``/settings set``."""
    root = command.root_parent if not isinstance(command, app_commands.ContextMenu) else None
    return (root or command).name


def command_label(interaction: discord.Interaction) -> str:
    """The command's name for logs and metric labels: ``autointel``, ``settings set``."""
    command = interaction.command
    if command is None:
        return "unknown"
    return command.qualified_name if not isinstance(command, app_commands.ContextMenu) else command.name


def _root(command: AnyCommand) -> AnyCommand:
    if isinstance(command, app_commands.ContextMenu):
        return command
    return command.root_parent or command


def _guild_only(command: AnyCommand) -> bool:
    root = _root(command)
    contexts = root.allowed_contexts
    dm_allowed = contexts is not None and (contexts.dm_channel or contexts.private_channel)
    return root.guild_only or (contexts is not None and contexts.guild and not dm_allowed)


def _missing_permissions(command: AnyCommand, permissions: discord.Permissions) -> list[str]:
    required = _root(command).default_permissions
    if required is None:
        return []
    return [name for name, needed in required if needed and not getattr(permissions, name)]


def _channel_allowed(interaction: discord.Interaction, guild: EffectiveGuildSettings) -> bool:
    if not guild.allowed_channel_ids:
        return True
    channel = interaction.channel
    parent_id = getattr(channel, "parent_id", None)  # a thread counts as its parent channel
    return interaction.channel_id in guild.allowed_channel_ids or parent_id in guild.allowed_channel_ids


class IntelCommandTree(app_commands.CommandTree["IntelBot"]):
    """The command tree: binds the log context, records metrics and runs the tree-level checks.

    Only public discord.py hooks: :meth:`interaction_check` runs first in the task discord.py starts
    for the interaction, so what it binds reaches the command, its worker jobs and the error handler;
    :meth:`record_finished` is called by the bot's ``on_app_command_completion`` listener (success)
    and by the tree's error handler (failure or refusal).
    """

    def record_finished(self, interaction: discord.Interaction) -> None:
        """Count and time a finished slash command once; other interactions are not recorded."""
        started = interaction.extras.pop(STARTED_EXTRA, None)
        if started is None or interaction.type is not discord.InteractionType.application_command:
            return
        label = command_label(interaction)
        seconds = time.perf_counter() - started
        outcome = str(interaction.extras.get(OUTCOME_EXTRA, "error" if interaction.command_failed else "ok"))
        self.client.runtime.metrics.record_command(label, outcome=outcome, seconds=seconds)
        _log.info("/%s finished: %s in %.2fs", label, outcome, seconds)

    async def interaction_check(self, interaction: discord.Interaction[IntelBot], /) -> bool:
        """Refuse with an exception the error handler turns into an ephemeral reply.

        Autocomplete cannot show a message: a refused autocomplete just offers no choices.
        """
        bind_request_in_task(guild_id=interaction.guild_id, command=command_label(interaction))
        interaction.extras[STARTED_EXTRA] = time.perf_counter()
        command = interaction.command
        if command is None:
            return True  # discord.py reports the unknown command
        try:
            await self._check(interaction, command)
        except app_commands.CheckFailure:
            if interaction.type is discord.InteractionType.autocomplete:
                return False
            raise
        return True

    async def _check(self, interaction: discord.Interaction[IntelBot], command: AnyCommand) -> None:
        if interaction.guild_id is None:
            if _guild_only(command):
                raise app_commands.NoPrivateMessage()
        else:
            missing = _missing_permissions(command, interaction.permissions)
            if missing:
                raise app_commands.MissingPermissions(missing)
            await self._check_guild_settings(interaction, command, guild_id=interaction.guild_id)
        if root_name(command) in COOLDOWN_COMMANDS and interaction.type is discord.InteractionType.application_command:
            self._check_cooldown(interaction)

    async def _check_guild_settings(
        self, interaction: discord.Interaction[IntelBot], command: AnyCommand, *, guild_id: int
    ) -> None:
        name = root_name(command)
        if name in UNDISABLEABLE_COMMANDS:
            return
        guild = await self.client.service.effective_settings(guild_id)
        qualified = command_label(interaction)
        if name in guild.disabled_commands or qualified in guild.disabled_commands:
            raise CommandDisabledHere(qualified if qualified in guild.disabled_commands else name)
        if not _channel_allowed(interaction, guild):
            raise ChannelNotAllowed(guild.allowed_channel_ids)

    def _check_cooldown(self, interaction: discord.Interaction[IntelBot]) -> None:
        seconds_left = self.client.service.cooldown_remaining(
            guild_id=tenant_of(interaction), user_id=interaction.user.id
        )
        if seconds_left > 0:
            error = CooldownError(seconds_left=seconds_left)
            raise CommandRefused(str(error)) from error
