"""The Discord client: :class:`IntelBot`, the one class ``python -m bot`` runs (and the e2e tests too).

Two-step life, as in RoboDanny: ``__init__`` only stores what it is given (no I/O);
:meth:`IntelBot.setup_hook` starts the :class:`~core.runtime.IntelRuntime`, loads the extensions in
:data:`INITIAL_EXTENSIONS` (logging, not raising, a broken one) and syncs the command tree.
:meth:`IntelBot.close` closes the Discord connection and then the runtime (DB, gate, indexes).

Custom endpoints (``DISCORD_API_BASE_URL`` / ``DISCORD_GATEWAY_URL``) are applied when the bot is
entered (``async with IntelBot(...)``) and restored when it is left: discord.py keeps them in two
class attributes (``Route.BASE`` and ``DiscordWebSocket.DEFAULT_GATEWAY``), so they are process-wide.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import discord
import yarl
from discord.ext import commands
from pydantic import BaseModel, ConfigDict

from cogs.checks import IntelCommandTree
from core.looplag import LoopLagMonitor

if TYPE_CHECKING:
    from core.runtime import IntelRuntime
    from core.service import IntelService
    from core.settings import Settings

__all__ = ["INITIAL_EXTENSIONS", "DiscordEndpoints", "IntelBot", "ShardedIntelBot", "bot_intents", "build_bot"]

_log = logging.getLogger(__name__)

INITIAL_EXTENSIONS: tuple[str, ...] = (
    "cogs.errors", "cogs.autointel", "cogs.ask", "cogs.intel", "cogs.admin", "cogs.status",
    "cogs.digest", "cogs.privacy", "cogs.message_menu", "cogs.watch",
)

API_VERSION = 10
_VERSIONED_API_RE = re.compile(r"/api/v\d+$")


class DiscordEndpoints(BaseModel):
    """Where discord.py sends REST calls and opens the gateway."""

    model_config = ConfigDict(frozen=True)

    api_base: str
    gateway: str

    @classmethod
    def current(cls) -> DiscordEndpoints:
        return cls(api_base=discord.http.Route.BASE, gateway=str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY))

    @classmethod
    def from_settings(cls, settings: Settings) -> DiscordEndpoints:
        """The endpoints the settings ask for; unset ones keep discord.py's current values."""
        current = cls.current()
        return cls(
            api_base=resolve_api_base(settings.discord_api_base_url) if settings.discord_api_base_url else current.api_base,
            gateway=settings.discord_gateway_url or current.gateway,
        )

    def apply(self) -> None:
        discord.http.Route.BASE = self.api_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway)


def resolve_api_base(url: str) -> str:
    """``https://proxy.example`` -> ``https://proxy.example/api/v10``; a URL already ending in
    ``/api/v<N>`` is used as given."""
    url = url.rstrip("/")
    if _VERSIONED_API_RE.search(url):
        return url
    return f"{url}/api/v{API_VERSION}"


def bot_intents(*, message_content: bool = False) -> discord.Intents:
    """Minimal intents: guilds only (channels and roles for permission checks); the privileged
    Message Content intent only when ``MESSAGE_CONTENT_INTENT=true`` (``/digest`` needs it)."""
    return discord.Intents(guilds=True, message_content=message_content)


class IntelBot(commands.Bot):
    """The intelligence bot.  ``async with IntelBot(settings=..., runtime=...) as bot: await bot.start(token)``."""

    def __init__(
        self, *, settings: Settings, runtime: IntelRuntime, extensions: Sequence[str] = INITIAL_EXTENSIONS
    ) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=bot_intents(message_content=settings.message_content_intent),
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=IntelCommandTree,
            **self._connection_options(settings),
        )
        self.settings = settings
        self.runtime = runtime
        self.extensions_to_load = tuple(extensions)
        self.failed_extensions: dict[str, BaseException] = {}
        self._endpoints = DiscordEndpoints.from_settings(settings)
        self._previous_endpoints: DiscordEndpoints | None = None
        self.loop_lag = LoopLagMonitor(interval=0.25)

    @staticmethod
    def _connection_options(settings: Settings) -> dict[str, Any]:
        """discord.py options that shape the gateway connection: none for one unsharded connection."""
        return {}

    async def __aenter__(self) -> IntelBot:
        self._previous_endpoints = DiscordEndpoints.current()
        self._endpoints.apply()
        await super().__aenter__()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        try:
            await super().__aexit__(*exc_info)  # type: ignore[arg-type]
        finally:
            if self._previous_endpoints is not None:
                self._previous_endpoints.apply()
                self._previous_endpoints = None

    @property
    def service(self) -> IntelService:
        """The engine's service; available once :meth:`setup_hook` has started the runtime."""
        if self.runtime.service is None:
            raise RuntimeError("the runtime is not started")
        return self.runtime.service

    async def setup_hook(self) -> None:
        await self.runtime.start()
        self.loop_lag.start()
        await self._start_metrics()
        for extension in self.extensions_to_load:
            await self._load_extension_logged(extension)
        await self._sync_commands()

    async def _start_metrics(self) -> None:
        """Point the gauges at live values (read at scrape time); serve them if METRICS_PORT is set."""
        metrics = self.runtime.metrics
        metrics.gateway_latency.set_function(lambda: self.latency if math.isfinite(self.latency) else math.nan)
        metrics.guilds.set_function(lambda: len(self.guilds))
        metrics.loop_lag.set_function(lambda: self.loop_lag.snapshot().last_lag_seconds)
        metrics.loop_lag_max.set_function(lambda: self.loop_lag.snapshot().max_lag_seconds)
        if self.settings.metrics_port is not None:
            await metrics.serve(port=self.settings.metrics_port)

    async def _load_extension_logged(self, extension: str) -> None:
        try:
            await self.load_extension(extension)
        except Exception as exc:  # one broken cog must not take the bot down
            self.failed_extensions[extension] = exc
            _log.exception("could not load extension %s", extension)

    async def _sync_commands(self) -> None:
        shards = self.settings.shards
        if shards is not None and 0 not in shards.ids:
            # Commands belong to the application, not to a shard: one process of a cluster (the one
            # running shard 0) syncs them, the others would only repeat the same PUT.
            _log.info("command sync left to the process running shard 0")
            return
        guild_id = self.settings.dev_guild_id
        if guild_id is None:
            synced = await self.tree.sync()
            _log.info("synced %d global commands (may take up to an hour to appear)", len(synced))
            return
        guild = discord.Object(id=guild_id)
        self.tree.copy_global_to(guild=guild)
        synced = await self.tree.sync(guild=guild)
        _log.info("synced %d commands to dev guild %s", len(synced), guild_id)

    async def on_app_command_completion(
        self, interaction: discord.Interaction[IntelBot], command: discord.app_commands.Command | discord.app_commands.ContextMenu
    ) -> None:
        """discord.py's public event for a command that ran without error: count and time it."""
        if isinstance(self.tree, IntelCommandTree):
            self.tree.record_finished(interaction)

    async def on_ready(self) -> None:
        _log.info("connected as %s to %d guilds", self.user, len(self.guilds))

    async def close(self) -> None:
        """Close the Discord connection, then the runtime.  Idempotent."""
        try:
            await super().close()
        finally:
            await self.loop_lag.stop()
            await self.runtime.metrics.close()
            await self.runtime.close()


class ShardedIntelBot(IntelBot, commands.AutoShardedBot):
    """The bot as a discord.py ``AutoShardedBot`` for the shards in ``SHARD_COUNT`` / ``SHARD_IDS``.

    The same class otherwise: only the connection differs (one gateway session per shard).
    """

    @staticmethod
    def _connection_options(settings: Settings) -> dict[str, Any]:
        shards = settings.shards
        if shards is None:
            raise ValueError("ShardedIntelBot needs SHARD_COUNT; use IntelBot for one unsharded connection")
        return {"shard_count": shards.count, "shard_ids": list(shards.ids)}

    async def on_ready(self) -> None:
        shards = self.settings.shards
        assert shards is not None
        _log.info("connected as %s to %d guilds (%s)", self.user, len(self.guilds), shards.describe())


def build_bot(
    *, settings: Settings, runtime: IntelRuntime, extensions: Sequence[str] = INITIAL_EXTENSIONS
) -> IntelBot:
    """The bot the settings ask for: :class:`ShardedIntelBot` when ``SHARD_COUNT`` is set, else :class:`IntelBot`."""
    bot_class = IntelBot if settings.shards is None else ShardedIntelBot
    return bot_class(settings=settings, runtime=runtime, extensions=extensions)
