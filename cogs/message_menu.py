"""The message context menu "Analyse message" (Apps > Analyse message): a report on one message.

The interaction carries the message (Discord includes its content even without the Message
Content intent), so nothing privileged is needed.  The message's text, its links (fetched by the
same guarded fetcher as ``/autointel``) and its attachments of a supported type become one
``/autointel`` request, answered the same way: the text goes in as a ``message.txt`` source, the
links as the URL list.  A message whose author opted out (``/privacy optout``) is refused.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from cogs.autointel import AutointelCog, download_attachment
from cogs.checks import tenant_of
from core.digest.local import find_urls_in
from core.errors import InputError
from core.inputs import ATTACHMENT_SUFFIXES, Attachment, FileInfo, InputLimits, check_file
from core.models import count_words
from core.service import AutointelRequest

if TYPE_CHECKING:
    from bot.client import IntelBot

__all__ = ["MessageMenuCog", "message_sources"]

_log = logging.getLogger(__name__)

MENU_NAME = "Analyse message"
AUTHOR_OPTED_OUT = "The author of this message keeps their messages out of analyses here (/privacy)."
NOTHING_TO_ANALYSE = "This message has no text, links or files I can analyse."


def message_sources(content: str, *, limits: InputLimits) -> tuple[str, bytes | None]:
    """The URL list (the request's target) and the message's own text as a file, or ``None`` when
    there is too little of it to analyse (a bare link)."""
    urls = find_urls_in(content)[: limits.max_sources]
    text = content
    for url in urls:
        text = text.replace(url, " ")
    text = " ".join(text.split())
    keep_text = count_words(text) >= limits.min_words or (not urls and bool(text))
    return " ".join(urls), (text.encode("utf-8") if keep_text else None)


class MessageMenuCog(commands.Cog, name="Message menu"):
    """Apps > Analyse message: a report on a message's text, links and attachments, as /autointel makes."""

    def __init__(self, bot: IntelBot) -> None:
        self.bot = bot
        self.menu = app_commands.ContextMenu(name=MENU_NAME, callback=self.analyse_message)
        self.menu.guild_only = True

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.menu.name, type=self.menu.type)

    async def analyse_message(self, interaction: discord.Interaction, message: discord.Message) -> None:
        tenant_id = tenant_of(interaction)
        digests = self.bot.runtime.digests
        if interaction.guild_id is not None and digests is not None and \
                await digests.is_opted_out(interaction.guild_id, message.author.id):
            raise InputError(AUTHOR_OPTED_OUT)
        limits = InputLimits.from_settings(self.bot.settings)
        target, text = message_sources(message.content, limits=limits)
        files = [item for item in message.attachments if _supported(item, limits)]
        if not target and text is None and not files:
            raise InputError(NOTHING_TO_ANALYSE)
        ticket = self.bot.service.enter_queue(tenant_id)
        async with ticket:
            await interaction.response.defer(thinking=True)
            attachments = [Attachment(filename="message.txt", data=text, content_type="text/plain")] if text else []
            attachments += [await download_attachment(item) for item in files]
            request = AutointelRequest(guild_id=tenant_id, user_id=interaction.user.id, target=target,
                                       attachments=tuple(attachments))
            autointel = self.bot.get_cog("Autointel")
            assert isinstance(autointel, AutointelCog), "cogs.autointel must be loaded"
            await autointel.reply_with_report(interaction, request, ticket=ticket)


def _supported(attachment: discord.Attachment, limits: InputLimits) -> bool:
    if not attachment.filename.lower().endswith(ATTACHMENT_SUFFIXES):
        return False
    try:
        check_file(FileInfo(filename=attachment.filename, size=attachment.size), limits=limits)
    except InputError:
        return False
    return True


async def setup(bot: IntelBot) -> None:
    await bot.add_cog(MessageMenuCog(bot))
