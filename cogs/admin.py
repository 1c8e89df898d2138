"""``/settings show|set|reset`` and ``/cache stats|clear|forget``: a server's admins run the bot here.

Both groups are guild-only and carry ``default_permissions(manage_guild=True)``: Discord hides them
from members without Manage Server, and the tree-level check in :mod:`cogs.checks` enforces the
same permission in the bot, so a server override or a crafted payload changes nothing.

Values typed into ``/settings set`` are parsed here (:func:`parse_setting`) with a clear message
for a bad one; :class:`~core.guild_settings.GuildSettingsStore` validates and stores them and drops
its cached copy, so the next command sees the change.  ``/cache clear`` asks for confirmation with
buttons only the invoker can press (:class:`ConfirmClearView`).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, get_args

import discord
from discord import app_commands
from discord.ext import commands

from cogs.checks import UNDISABLEABLE_COMMANDS
from cogs.errors import reply_with_error
from core.errors import InputError
from core.fetch.guard import DomainPolicy
from core.guild_settings import EffectiveGuildSettings, GuildSettings, Strictness
from core.logcontext import bind_request
from core.settings import Depth

if TYPE_CHECKING:
    from bot.client import IntelBot
    from core.cache import CacheStats

__all__ = [
    "SETTING_DESCRIPTIONS",
    "AdminCog",
    "ConfirmClearView",
    "SettingChoices",
    "format_bytes",
    "parse_setting",
    "render_cache_stats",
    "render_settings",
]

_log = logging.getLogger(__name__)

_NO_MENTIONS = discord.AllowedMentions.none()
_ADMIN_PERMISSIONS = discord.Permissions(manage_guild=True)
_GUILD_ONLY = app_commands.AppCommandContext(guild=True)  # not in DMs or group DMs
_MAX_CHOICES = 25
_CLEAR_WORDS = frozenset({"none", "all", "everywhere", "any", "-"})
_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)[a-z0-9-]+(\.[a-z0-9-]+)+$")
_CHANNEL_TOKEN_RE = re.compile(r"^(?:<#(\d+)>|(\d+))$")

SETTING_DESCRIPTIONS: dict[str, str] = {
    "default_depth": "Depth of /autointel when none is given",
    "cache_strictness": "How sure a reworded request must be to reuse a report",
    "cache_similarity_threshold": "Similarity (0 to 1) a reworded request needs to be checked at all",
    "cache_llm_verify": "Ask the LLM about borderline cache matches (costs LLM budget)",
    "cache_ttl_days": "Days a cached report lives without being used",
    "llm_model": "LLM model that writes reports (from the bot's allowlist)",
    "daily_budget_usd": "Daily LLM spending limit for this server, in USD",
    "user_cooldown_seconds": "Seconds each user waits between reports",
    "allowed_channel_ids": "Channels where the bot answers ('none' = everywhere)",
    "disabled_commands": "Commands turned off in this server",
    "url_allowlist": "Only links to these domains are read ('none' = any)",
    "url_denylist": "Links to these domains are never read",
}


@dataclass(frozen=True, slots=True)
class SettingChoices:
    """What a value may be, for this bot and guild: allowed models, command names, channels."""

    models: tuple[str, ...]
    commands: tuple[str, ...]
    channels: dict[int, str]

    @classmethod
    def for_guild(cls, bot: IntelBot, guild: discord.Guild | None) -> SettingChoices:
        settings = bot.settings
        models = tuple(dict.fromkeys([settings.llm_model, *settings.llm_allowed_models]))
        names = sorted({command.qualified_name for command in bot.tree.walk_commands()})
        channels = {channel.id: channel.name for channel in guild.text_channels} if guild is not None else {}
        return cls(models=models, commands=tuple(names), channels=channels)

    def value_options(self, key: str) -> list[tuple[str, str]]:
        """``(label, value)`` pairs offered by autocomplete for ``key``; empty for free values."""
        if key == "default_depth":
            return [(depth, depth) for depth in get_args(Depth)]
        if key == "cache_strictness":
            return [(level, level) for level in get_args(Strictness)]
        if key == "cache_llm_verify":
            return [("on", "true"), ("off", "false")]
        if key == "llm_model":
            return [(model, model) for model in self.models]
        if key == "disabled_commands":
            return [(f"/{name}", name) for name in self.commands if name.split()[0] not in UNDISABLEABLE_COMMANDS]
        if key == "allowed_channel_ids":
            return [(f"#{name}", f"<#{channel_id}>") for channel_id, name in self.channels.items()]
        return []


# --- parsing what an admin typed ---------------------------------------------------------------


def parse_setting(key: str, raw: str, *, choices: SettingChoices) -> Any:
    """The value ``raw`` means for ``key``; raises :class:`InputError` saying what is accepted."""
    if key not in GuildSettings.model_fields:
        raise InputError(f"There is no setting called {key!r}; pick one from the list.")
    raw = raw.strip()
    if key in ("default_depth", "cache_strictness", "llm_model"):
        return _one_of(key, raw, [value for _, value in choices.value_options(key)])
    if key == "allowed_channel_ids":
        return _channel_ids(raw, channels=choices.channels)
    if key == "disabled_commands":
        return _command_names(raw, known=choices.commands)
    if key in ("url_allowlist", "url_denylist"):
        return _domains(raw)
    if key == "cache_llm_verify":
        return _switch(key, raw)
    return _number(key, raw)


def _switch(key: str, raw: str) -> bool:
    words = {"true": True, "on": True, "yes": True, "false": False, "off": False, "no": False}
    if raw.lower() not in words:
        raise InputError(f"{key} must be on or off.")
    return words[raw.lower()]


def _tokens(raw: str) -> list[str]:
    tokens = [token for token in re.split(r"[\s,]+", raw) if token]
    return [] if len(tokens) == 1 and tokens[0].lower() in _CLEAR_WORDS else tokens


def _one_of(key: str, raw: str, options: list[str]) -> str:
    match = next((option for option in options if option.lower() == raw.lower()), None)
    if match is None:
        raise InputError(f"{key} must be one of: {', '.join(options)}.")
    return match


def _number(key: str, raw: str) -> float:
    try:
        value = float(raw.removeprefix("$"))
    except ValueError:
        raise InputError(f"{key} must be a number, not {raw[:40]!r}.") from None
    if not math.isfinite(value):
        raise InputError(f"{key} must be a finite number.")
    return value


def _channel_ids(raw: str, *, channels: dict[int, str]) -> list[int]:
    channel_ids: list[int] = []
    for token in _tokens(raw):
        match = _CHANNEL_TOKEN_RE.match(token)
        if match is None:
            raise InputError(f"{token[:40]!r} is not a channel: mention it (#name) or give its id.")
        channel_id = int(match.group(1) or match.group(2))
        if channel_id not in channels:
            raise InputError(f"There is no text channel {token[:40]} in this server.")
        channel_ids.append(channel_id)
    return list(dict.fromkeys(channel_ids))


def _command_names(raw: str, *, known: tuple[str, ...]) -> list[str]:
    """Command names from ``/autointel, /intel search``; a subcommand's two words are joined."""
    words = [word.removeprefix("/").lower() for word in _tokens(raw.replace("/", " /"))]
    names: list[str] = []
    position = 0
    while position < len(words):
        pair = " ".join(words[position : position + 2])
        name = pair if pair in known and " " in pair else words[position]
        position += name.count(" ") + 1
        if name.split()[0] in UNDISABLEABLE_COMMANDS:
            raise InputError(f"/{name} cannot be disabled: it is how admins change settings.")
        if name not in known:
            raise InputError(f"There is no /{name[:40]} command. Commands: {', '.join(known)}.")
        names.append(name)
    return list(dict.fromkeys(names))


def _domains(raw: str) -> list[str]:
    domains = list(DomainPolicy(allowlist=tuple(_tokens(raw))).allowlist)
    for domain in domains:
        if not _DOMAIN_RE.match(domain):
            raise InputError(f"{domain[:60]!r} is not a domain name such as example.com.")
    return list(dict.fromkeys(domains))


# --- rendering -----------------------------------------------------------------------------------


def _shown(key: str, value: Any) -> str:
    """A setting's value as an admin reads it."""
    if key == "allowed_channel_ids":
        return ", ".join(f"<#{channel_id}>" for channel_id in value) or "everywhere"
    if key == "disabled_commands":
        return ", ".join(f"/{name}" for name in value) or "none"
    if key in ("url_allowlist", "url_denylist"):
        return ", ".join(value) or ("any domain" if key == "url_allowlist" else "none")
    if key == "daily_budget_usd":
        return f"${value:.2f}"
    if key in ("cache_ttl_days", "user_cooldown_seconds"):
        return f"{value:g} {'days' if key == 'cache_ttl_days' else 'seconds'}"
    if isinstance(value, float):
        return f"{value:g}"
    return discord.utils.escape_markdown(str(value))


def _is_override(overrides: GuildSettings, key: str) -> bool:
    default = GuildSettings.model_fields[key].get_default(call_default_factory=True)
    return bool(getattr(overrides, key) != default)


def render_settings(effective: EffectiveGuildSettings, overrides: GuildSettings) -> discord.Embed:
    """``/settings show``: every key, its value in force, and whether this server set it."""
    embed = discord.Embed(
        title="Settings for this server",
        description="✏️ marks a value set in this server; the others are the bot's defaults.",
        colour=discord.Colour.blurple(),
    )
    for key in GuildSettings.model_fields:
        marker = " ✏️" if _is_override(overrides, key) else ""
        value = f"{_shown(key, getattr(effective, key))}\n*{SETTING_DESCRIPTIONS.get(key, '')}*"
        embed.add_field(name=f"{key}{marker}", value=value[:1024], inline=False)
    embed.set_footer(text="Change one with /settings set, undo with /settings reset")
    return embed


def format_bytes(size: int) -> str:
    """``812 bytes``, ``14.2 KiB``, ``3.1 MiB``."""
    if size < 1024:
        return f"{size:,} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / (1024 * 1024):.1f} MiB"


def _hit_rate(hits: int, lookups: int) -> str:
    if not lookups:
        return "no lookups"
    return f"{hits} hits of {lookups} lookups ({hits / lookups:.0%})"


def render_cache_stats(stats: CacheStats) -> discord.Embed:
    """``/cache stats``: entries, hits by layer, hit rates over 24 hours and 7 days, size on disk."""
    embed = discord.Embed(title="Report cache of this server", colour=discord.Colour.blurple())
    embed.add_field(name="Entries", value=f"{stats.entries} ({stats.semantic_entries} matchable by meaning)")
    embed.add_field(
        name="Hits", value=f"{stats.hits} ({stats.exact_hits} exact, {stats.semantic_hits} semantic); {stats.misses} misses"
    )
    embed.add_field(name="Last 24 hours", value=_hit_rate(stats.hits_24h, stats.lookups_24h), inline=False)
    embed.add_field(name="Last 7 days", value=_hit_rate(stats.hits_7d, stats.lookups_7d), inline=False)
    embed.add_field(name="Size on disk", value=format_bytes(stats.size_bytes))
    embed.add_field(name="Removed", value=f"{stats.evictions} evicted, {stats.expired} expired, {stats.stale} stale")
    embed.add_field(name="Reported wrong", value=f"{stats.wrong_answers} (never matched again)")
    embed.set_footer(text="/cache forget entry_id:N removes the report shown as 'cache entry #N'")
    return embed


# --- the confirmation of /cache clear ------------------------------------------------------------


class ConfirmClearView(discord.ui.View):
    """Confirm / Cancel for ``/cache clear``: only the invoker may press; times out disabled."""

    def __init__(self, *, invoker_id: int, clear: Callable[[], Awaitable[int]], timeout: float) -> None:
        super().__init__(timeout=timeout)
        self.invoker_id = invoker_id
        self._clear = clear
        self.original: discord.Interaction | None = None

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        if interaction.user.id == self.invoker_id:
            return True
        await interaction.response.send_message(
            "Only the admin who ran /cache clear can press these buttons.", ephemeral=True, allowed_mentions=_NO_MENTIONS
        )
        return False

    @discord.ui.button(label="Clear the cache", style=discord.ButtonStyle.danger)
    async def confirm(self, interaction: discord.Interaction, button: discord.ui.Button[ConfirmClearView]) -> None:
        self._close()  # before awaiting: a second press cannot clear twice
        with bind_request(guild_id=interaction.guild_id, command="cache clear"):
            removed = await self._clear()
        await interaction.response.edit_message(content=f"Cache cleared: {removed} entries deleted.", view=self)

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(self, interaction: discord.Interaction, button: discord.ui.Button[ConfirmClearView]) -> None:
        self._close()
        await interaction.response.edit_message(content="Cancelled: the cache was not touched.", view=self)

    async def on_timeout(self) -> None:
        self._close()
        if self.original is None:
            return
        try:
            await self.original.edit_original_response(content="Timed out: the cache was not touched.", view=self)
        except discord.HTTPException:
            _log.warning("could not disable the /cache clear buttons", exc_info=True)

    async def on_error(
        self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any], /
    ) -> None:
        await reply_with_error(interaction, error)

    def _close(self) -> None:
        for item in self.children:
            if isinstance(item, discord.ui.Button):
                item.disabled = True
        self.stop()


# --- the cog -------------------------------------------------------------------------------------


def _guild_id(interaction: discord.Interaction) -> int:
    if interaction.guild_id is None:
        raise app_commands.NoPrivateMessage()
    return interaction.guild_id


def _completions(options: list[tuple[str, str]], current: str, *, many: bool) -> list[app_commands.Choice[str]]:
    """Choices matching what is typed; for a list setting, completing its last item."""
    head, tail = "", current
    if many:
        split = max(current.rfind(" "), current.rfind(","))
        head, tail = current[: split + 1], current[split + 1 :]
    tail = tail.strip().lower()
    found = [
        app_commands.Choice(name=(head + label)[:100], value=(head + value)[:100])
        for label, value in options
        if (tail in label.lower() or tail in value.lower()) and value not in head
    ]
    return found[:_MAX_CHOICES]


class AdminCog(commands.Cog, name="Admin"):
    """Server settings and the report cache, for members with the Manage Server permission.

    ``/settings show|set|reset`` changes how the bot behaves in this server (takes effect on the
    next command); ``/cache stats|clear|forget`` inspects and empties this server's report cache.
    """

    settings_group = app_commands.Group(
        name="settings", description="View or change this server's bot settings",
        guild_only=True, allowed_contexts=_GUILD_ONLY, default_permissions=_ADMIN_PERMISSIONS,
    )
    cache_group = app_commands.Group(
        name="cache", description="This server's report cache",
        guild_only=True, allowed_contexts=_GUILD_ONLY, default_permissions=_ADMIN_PERMISSIONS,
    )

    def __init__(self, bot: IntelBot) -> None:
        self.bot = bot
        self.confirm_timeout_seconds = 60.0

    # --- /settings ----------------------------------------------------------------------------

    @settings_group.command(name="show", description="Show the settings in force here; values set here are marked")
    async def settings_show(self, interaction: discord.Interaction) -> None:
        view = await self.bot.service.settings_view(_guild_id(interaction))
        embed = render_settings(view.effective, view.overrides)
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=_NO_MENTIONS)

    @settings_group.command(name="set", description="Change one setting for this server")
    @app_commands.describe(key="The setting to change", value="The new value (lists: separate items with spaces)")
    async def settings_set(
        self, interaction: discord.Interaction, key: str, value: app_commands.Range[str, 1, 1000]
    ) -> None:
        guild_id = _guild_id(interaction)
        parsed = parse_setting(key, value, choices=SettingChoices.for_guild(self.bot, interaction.guild))
        change = await self.bot.service.change_setting(guild_id, key=key, value=parsed)
        await interaction.response.send_message(
            f"**{key}** is now {_shown(key, change.after)} (was {_shown(key, change.before)}).",
            ephemeral=True, allowed_mentions=_NO_MENTIONS,
        )

    @settings_group.command(name="reset", description="Reset one setting, or all of them, to the bot's default")
    @app_commands.describe(key="The setting to reset (leave empty to reset every setting)")
    async def settings_reset(self, interaction: discord.Interaction, key: str | None = None) -> None:
        view = await self.bot.service.reset_setting(_guild_id(interaction), key=key)
        if key is None:
            message = "Every setting is back to the bot's default."
        else:
            message = f"**{key}** is back to the default: {_shown(key, getattr(view.effective, key))}."
        await interaction.response.send_message(message, ephemeral=True, allowed_mentions=_NO_MENTIONS)

    @settings_set.autocomplete("key")
    @settings_reset.autocomplete("key")
    async def _key_autocomplete(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        options = [(f"{key}: {description}", key) for key, description in SETTING_DESCRIPTIONS.items()]
        return _completions(options, current, many=False)

    @settings_set.autocomplete("value")
    async def _value_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        key = str(getattr(interaction.namespace, "key", "") or "")
        options = SettingChoices.for_guild(self.bot, interaction.guild).value_options(key)
        if options:
            many = key in ("allowed_channel_ids", "disabled_commands")
            return _completions(options, current, many=many)
        if key not in GuildSettings.model_fields or interaction.guild_id is None or current:
            return []
        now = getattr(await self.bot.service.effective_settings(interaction.guild_id), key)
        shown = " ".join(now) if isinstance(now, list) else f"{now:g}" if isinstance(now, float) else str(now)
        return [app_commands.Choice(name=f"{shown} (current)"[:100], value=shown[:100])] if shown else []

    # --- /cache -------------------------------------------------------------------------------

    @cache_group.command(name="stats", description="Entries, hits and hit rates, and size of this server's cache")
    async def cache_stats(self, interaction: discord.Interaction) -> None:
        guild_id = _guild_id(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        stats = await self.bot.service.cache_stats(guild_id)
        await interaction.edit_original_response(embed=render_cache_stats(stats), allowed_mentions=_NO_MENTIONS)

    @cache_group.command(name="clear", description="Delete every cached report of this server (asks first)")
    async def cache_clear(self, interaction: discord.Interaction) -> None:
        guild_id = _guild_id(interaction)
        view = ConfirmClearView(
            invoker_id=interaction.user.id, clear=lambda: self.bot.service.clear_cache(guild_id),
            timeout=self.confirm_timeout_seconds,
        )
        await interaction.response.send_message(
            "Delete **every** cached report of this server? Later requests will be analysed afresh.",
            view=view, ephemeral=True, allowed_mentions=_NO_MENTIONS,
        )
        view.original = interaction

    @cache_group.command(name="forget", description="Delete one cached report by its entry number")
    @app_commands.describe(entry_id="N from 'cache entry #N' under a report served from the cache")
    async def cache_forget(self, interaction: discord.Interaction, entry_id: app_commands.Range[int, 1]) -> None:
        guild_id = _guild_id(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self.bot.service.forget_cache_entry(guild_id, entry_id)
        await interaction.edit_original_response(content=f"Cache entry #{entry_id} deleted.")


async def setup(bot: IntelBot) -> None:
    await bot.add_cog(AdminCog(bot))
