"""``/status`` (how the bot is doing) and ``/help`` (every command, one line each).

``/status`` shows what an admin needs to see at a glance and nothing secret: the LLM endpoint is
shown as its host only, never with the API key.  ``/help`` is generated from the command tree, so
it lists exactly the commands the bot has.
"""

from __future__ import annotations

import importlib.metadata
import logging
import math
import time
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import discord
from discord import app_commands
from discord.ext import commands

from core.service import ServiceStatus, format_age

if TYPE_CHECKING:
    from bot.client import IntelBot

__all__ = ["StatusCog", "bot_version", "help_lines", "llm_host"]

_log = logging.getLogger(__name__)

_NO_MENTIONS = discord.AllowedMentions.none()
DISTRIBUTION = "autointel-bot"
PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def bot_version(*, pyproject: Path = PYPROJECT) -> str:
    """The version in the source tree's ``pyproject.toml``, else the installed package's, else ``unknown``.

    The source tree wins: an editable install's metadata is only as new as its last ``pip install``.
    """
    try:
        return str(tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        pass
    try:
        return importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def llm_host(base_url: str) -> str:
    """The host (and port) of an endpoint URL: no scheme, path, query or credentials."""
    parts = urlsplit(base_url)
    host = parts.hostname or "?"
    return f"{host}:{parts.port}" if parts.port else host


def help_lines(tree: app_commands.CommandTree) -> list[str]:
    """``/name — description`` for every command and subcommand, admin-only ones marked."""
    lines = []
    for command in sorted(tree.walk_commands(), key=lambda item: item.qualified_name):
        if isinstance(command, app_commands.Group):
            continue
        root = command.root_parent or command
        admin = root.default_permissions is not None and root.default_permissions.manage_guild
        lines.append(f"`/{command.qualified_name}` — {command.description}{' *(Manage Server)*' if admin else ''}")
    for menu in sorted(tree.get_commands(type=discord.AppCommandType.message), key=lambda item: item.name):
        lines.append(f"Apps > `{menu.name}` — on any message (right-click or long-press it, then Apps)")
    return lines


class StatusCog(commands.Cog, name="Status"):
    """What the bot is and how it is doing: ``/status`` and ``/help``."""

    def __init__(self, bot: IntelBot) -> None:
        self.bot = bot
        self.version = "unknown"

    async def cog_load(self) -> None:
        self.version = bot_version()  # one small file read, once

    @app_commands.command(name="status", description="Version, uptime, engine, LLM, cache and today's spend")
    async def status(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        embed = discord.Embed(title="Bot status", colour=discord.Colour.blurple())
        self._add_process_fields(embed)
        # A DM shows the bot without server figures: a DM user's own cache is not "this server".
        status = await self.bot.service.status(interaction.guild_id)
        self._add_engine_fields(embed, status)
        self._add_tenant_fields(embed, status)
        await interaction.edit_original_response(embed=embed, allowed_mentions=_NO_MENTIONS)

    def _add_process_fields(self, embed: discord.Embed) -> None:
        runtime, latency = self.bot.runtime, self.bot.latency
        uptime = format_age(time.time() - runtime.started_at) if runtime.started_at else "starting"
        embed.add_field(name="Version", value=self.version)
        embed.add_field(name="Uptime", value=uptime)
        embed.add_field(name="Gateway latency", value=f"{latency * 1000:.0f} ms" if math.isfinite(latency) else "unknown")
        embed.add_field(name="Servers", value=str(len(self.bot.guilds)))

    def _add_engine_fields(self, embed: discord.Embed, status: ServiceStatus) -> None:
        dimension = f", {status.embedding_dimension} dimensions" if status.embedding_dimension else ""
        loaded = "loaded" if status.embedding_loaded else "not loaded"
        embed.add_field(name="Embedding model", value=f"{status.embedding_model}; {loaded}{dimension}")
        if status.llm is None:
            embed.add_field(name="LLM", value="not configured: reports use the local engine", inline=False)
        else:
            breaker = status.llm.breaker
            circuit = breaker.state.replace("_", "-")
            if breaker.state == "open":
                circuit += f", retrying in {breaker.retry_in_seconds:.0f}s"
            embed.add_field(
                name="LLM", value=f"{status.llm.model} at {llm_host(status.llm.base_url)}; circuit {circuit}",
                inline=False,
            )
        queue = status.queue
        embed.add_field(
            name="Analysis queue",
            value=f"{queue.running} running of {queue.concurrency}, {queue.waiting} waiting; {queue.refused} turned away",
            inline=False,
        )

    def _add_tenant_fields(self, embed: discord.Embed, status: ServiceStatus) -> None:
        if status.cache is not None:
            stats = status.cache
            embed.add_field(name="Cache (this server)", value=f"{stats.entries} entries, {stats.hits} hits, {stats.misses} misses")
        if status.spend_today is not None and status.daily_budget_usd is not None:
            spend = status.spend_today
            embed.add_field(
                name="LLM spend today (UTC)",
                value=f"${spend.cost_usd:.4f} of ${status.daily_budget_usd:.2f} ({spend.calls} calls)",
            )

    @app_commands.command(name="help", description="Every command of this bot, one line each")
    async def help(self, interaction: discord.Interaction) -> None:
        embed = discord.Embed(
            title="Commands", description="\n".join(help_lines(self.bot.tree))[:4096], colour=discord.Colour.blurple()
        )
        embed.set_footer(text="Commands marked (Manage Server) are for this server's admins.")
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=_NO_MENTIONS)


async def setup(bot: IntelBot) -> None:
    await bot.add_cog(StatusCog(bot))
