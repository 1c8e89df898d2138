""""Wrong answer?" under a reply served from the cache: one handler both cogs hand to their view.

Thin: the service forgets the entry and records the pair as this server's negative
(:meth:`core.service.IntelService.report_wrong_answer`); this only answers the click, privately.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord

from cogs.views import WrongAnswer

if TYPE_CHECKING:
    from bot.client import IntelBot
    from core.service import CacheHitInfo

__all__ = ["ALREADY_GONE_MESSAGE", "wrong_answer_handler"]

_log = logging.getLogger(__name__)

_NO_MENTIONS = discord.AllowedMentions.none()
ALREADY_GONE_MESSAGE = "That cached answer is already gone; nothing more to do."


def wrong_answer_handler(bot: IntelBot, *, tenant_id: int, hit: CacheHitInfo | None) -> WrongAnswer | None:
    """The button's callback for a cached reply, or ``None`` (no button) for a fresh one."""
    if hit is None:
        return None
    cached = hit

    async def report(interaction: discord.Interaction) -> None:
        marked = await bot.service.report_wrong_answer(tenant_id, user_id=interaction.user.id, hit=cached)
        text = (
            f"Thanks: cache entry #{cached.entry_id} is forgotten, and this request will not be answered "
            "with it again. Run the command again for a fresh answer."
            if marked else ALREADY_GONE_MESSAGE
        )
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=_NO_MENTIONS)

    return report
