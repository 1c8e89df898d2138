"""The digest service both front ends call: messages in, a :class:`Digest` out; privacy per guild.

It drops what a digest must never use (bots, system messages, members who opted out), picks the
engine (the LLM when one is configured, grounded; else local) and falls back to the local engine,
with the reason, when the LLM fails.  It knows nothing of Discord: the cog reads the history and
renders, the console parses a chat file.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from core.digest.llm import LLMDigestWriter
from core.digest.local import LocalDigester, usable_messages
from core.digest.models import ChatMessage, Digest
from core.errors import LLMError
from core.guild_settings import GuildSettingsStore
from core.llm import LLMBackend, fallback_reason
from core.progress import Progress, ProgressSink, ignore_progress
from core.storage.server_rows import PrivacyRows
from core.tenants import require_tenant

__all__ = ["DigestService"]

_log = logging.getLogger(__name__)


class DigestService:
    """Digests and the per-guild privacy opt-out.  Built by :class:`core.runtime.IntelRuntime`."""

    def __init__(
        self, *, local: LocalDigester, llm: LLMBackend | None, guild_settings: GuildSettingsStore, privacy: PrivacyRows,
    ) -> None:
        self._local = local
        self._llm = llm
        self._guild_settings = guild_settings
        self._privacy = privacy

    async def digest(
        self, guild_id: int, messages: Sequence[ChatMessage], *, progress: ProgressSink = ignore_progress
    ) -> Digest:
        """The digest of ``messages``, leaving out bots, system messages and opted-out members."""
        excluded = await self._privacy.opted_out(require_tenant(guild_id))
        usable, skipped = usable_messages(messages, excluded_authors=excluded)
        await progress(Progress("Digesting", detail=f"{len(usable)} messages", done=len(usable), total=len(messages)))
        if not usable:
            return Digest(skipped_count=skipped)
        if self._llm is None:
            return await self._local.digest(usable, skipped=skipped)
        try:
            digest = await self._llm_digest(self._llm, guild_id, usable)
        except LLMError as error:
            reason = fallback_reason(error)
            _log.warning("the LLM could not write the digest (%s); using the local engine", reason)
            await progress(Progress("Falling back to local digest", detail=reason))
            local = await self._local.digest(usable, skipped=skipped)
            return local.model_copy(update={"fallback_reason": reason})
        return digest.model_copy(update={"skipped_count": skipped})

    async def _llm_digest(self, llm: LLMBackend, guild_id: int, messages: list[ChatMessage]) -> Digest:
        """The LLM's grounded digest (with the guild's model if allowed); raises an :class:`LLMError` child."""
        guild = await self._guild_settings.effective(guild_id)
        model, _ = llm.choose_model(guild.llm_model)
        writer = LLMDigestWriter(llm, model=model, guild_id=guild_id, budget_usd=guild.daily_budget_usd)
        return await writer.write(messages)

    # --- privacy ---------------------------------------------------------------------------------

    async def opt_out(self, guild_id: int, user_id: int) -> bool:
        """Keep ``user_id``'s messages out of this guild's digests and analyses; ``False`` if already."""
        return await self._privacy.opt_out(require_tenant(guild_id), user_id, now=time.time())

    async def opt_in(self, guild_id: int, user_id: int) -> bool:
        return await self._privacy.opt_in(require_tenant(guild_id), user_id)

    async def is_opted_out(self, guild_id: int, user_id: int) -> bool:
        return user_id in await self._privacy.opted_out(require_tenant(guild_id))
