"""Per-guild settings: what a server's admins may change, stored in the database, cached in memory.

:class:`GuildSettings` holds only the overrides a guild made (``None`` means "use the process
default"); :meth:`GuildSettings.resolve` combines them with :class:`~core.settings.Settings` into
the effective :class:`EffectiveGuildSettings`.  :class:`GuildSettingsStore` is the cached getter:
reads are served from memory, every write invalidates that guild's entry, and so does a write
made by another process (announced through :meth:`GuildSettingsStore.on_change`).
"""

from __future__ import annotations

import json
import logging
import time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.errors import InputError
from core.settings import Depth, Settings
from core.storage import ChangeEvent, GuildSettingsRows

__all__ = ["EffectiveGuildSettings", "GuildSettings", "GuildSettingsStore"]

_log = logging.getLogger(__name__)

Strictness = Literal["lenient", "balanced", "strict"]



class GuildSettings(BaseModel):
    """A guild's overrides.  Unset fields fall back to the process settings."""

    model_config = ConfigDict(extra="ignore", validate_assignment=True)

    default_depth: Depth | None = None
    cache_strictness: Strictness | None = None
    cache_similarity_threshold: float | None = Field(default=None, gt=0.0, le=1.0)
    cache_ttl_days: float | None = Field(default=None, gt=0, le=365)
    cache_llm_verify: bool | None = None
    llm_model: str | None = None
    daily_budget_usd: float | None = Field(default=None, ge=0, le=10_000)
    user_cooldown_seconds: float | None = Field(default=None, ge=0, le=3600)
    allowed_channel_ids: list[int] = Field(default_factory=list)
    disabled_commands: list[str] = Field(default_factory=list)
    url_allowlist: list[str] = Field(default_factory=list)
    url_denylist: list[str] = Field(default_factory=list)

    def resolve(self, settings: Settings) -> EffectiveGuildSettings:
        return EffectiveGuildSettings(
            default_depth=self.default_depth or settings.default_depth,
            cache_strictness=self.cache_strictness or settings.cache_strictness,
            cache_similarity_threshold=self.cache_similarity_threshold or settings.cache_similarity_threshold,
            cache_ttl_days=self.cache_ttl_days or settings.cache_ttl_days,
            cache_llm_verify=self.cache_llm_verify if self.cache_llm_verify is not None else settings.cache_llm_verify,
            llm_model=self.llm_model or settings.llm_model,
            daily_budget_usd=(
                self.daily_budget_usd if self.daily_budget_usd is not None else settings.llm_daily_budget_usd
            ),
            user_cooldown_seconds=(
                self.user_cooldown_seconds
                if self.user_cooldown_seconds is not None
                else settings.user_cooldown_seconds
            ),
            allowed_channel_ids=list(self.allowed_channel_ids),
            disabled_commands=list(self.disabled_commands),
            url_allowlist=list(self.url_allowlist),
            url_denylist=list(self.url_denylist),
        )


class EffectiveGuildSettings(BaseModel):
    """What is in force for a guild: overrides applied over the process defaults."""

    model_config = ConfigDict(frozen=True)

    default_depth: Depth
    cache_strictness: Strictness
    cache_similarity_threshold: float
    cache_ttl_days: float
    cache_llm_verify: bool
    """Ask the LLM about borderline cache candidates (only when an LLM is configured)."""
    llm_model: str
    daily_budget_usd: float
    user_cooldown_seconds: float
    allowed_channel_ids: list[int]
    disabled_commands: list[str]
    url_allowlist: list[str]
    url_denylist: list[str]


class GuildSettingsStore:
    """Cached getter over :class:`~core.storage.GuildSettingsRows`; invalidated on every write."""

    def __init__(self, rows: GuildSettingsRows, settings: Settings) -> None:
        self._rows = rows
        self._settings = settings
        self._cache: dict[int, GuildSettings] = {}
        # Bumped on every invalidation: a fetch that raced with one does not fill the cache.
        self._generation: dict[int, int] = {}

    async def get(self, guild_id: int) -> GuildSettings:
        cached = self._cache.get(guild_id)
        if cached is not None:
            return cached.model_copy(deep=True)
        generation = self._generation.get(guild_id, 0)
        overrides = await self._fetch(guild_id)
        if self._generation.get(guild_id, 0) == generation:
            self._cache[guild_id] = overrides
        return overrides.model_copy(deep=True)

    async def effective(self, guild_id: int) -> EffectiveGuildSettings:
        return (await self.get(guild_id)).resolve(self._settings)

    async def _fetch(self, guild_id: int) -> GuildSettings:
        data = await self._rows.get(guild_id)
        if data is None:
            return GuildSettings()
        try:
            return GuildSettings.model_validate(json.loads(data))
        except (ValueError, ValidationError):
            _log.warning("guild %s has unreadable settings; using defaults", guild_id, exc_info=True)
            return GuildSettings()

    async def update(self, guild_id: int, **changes: object) -> GuildSettings:
        """Validate and save changes; raises :class:`InputError` with a clear message on a bad value."""
        current = await self.get(guild_id)
        try:
            updated = GuildSettings.model_validate({**current.model_dump(), **changes})
        except ValidationError as exc:
            first = exc.errors()[0]
            key = ".".join(str(part) for part in first["loc"]) or "value"
            raise InputError(f"Invalid value for {key}: {first['msg']}.") from exc
        await self._save(guild_id, updated)
        return updated

    async def reset(self, guild_id: int, key: str | None = None) -> GuildSettings:
        """Reset one key (or all) to the process default."""
        if key is None:
            updated = GuildSettings()
        else:
            if key not in GuildSettings.model_fields:
                raise InputError(f"Unknown setting {key!r}.")
            data = (await self.get(guild_id)).model_dump()
            data[key] = GuildSettings.model_fields[key].get_default(call_default_factory=True)
            updated = GuildSettings.model_validate(data)
        await self._save(guild_id, updated)
        return updated

    async def _save(self, guild_id: int, overrides: GuildSettings) -> None:
        self._invalidate(guild_id)
        await self._rows.put(guild_id, overrides.model_dump_json(exclude_defaults=True), updated_at=time.time())
        self._invalidate(guild_id)

    def _invalidate(self, guild_id: int) -> None:
        self._cache.pop(guild_id, None)
        self._generation[guild_id] = self._generation.get(guild_id, 0) + 1

    def on_change(self, event: ChangeEvent) -> None:
        """Another process changed a guild's settings: the next read fetches them again."""
        if event.kind == "all":
            for guild_id in list(self._cache):
                self._invalidate(guild_id)
        elif event.kind == "guild_settings":
            self._invalidate(event.guild_id)
