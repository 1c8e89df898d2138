"""``/autointel``: a structured report on pasted text, up to five URLs, or an attached file.

Thin, per STYLE.md: check the input (so a refusal can still be ephemeral), defer, download the
attachment, call :meth:`core.service.IntelService.autointel` with a throttled progress sink (a
batch of URLs shows "fetched 2/5, analysed 1/5"), and render the result with :mod:`cogs.render`
under a :class:`cogs.views.PagedView` (key insight pages, and Refresh: the same request again,
bypassing the cache).  Errors are raised, not answered here: the tree's one error handler
(:mod:`cogs.errors`) replies.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from cogs.checks import tenant_of
from cogs.render import DiscordLimits, discord_text, render_report
from cogs.views import PagedView
from cogs.wrong_answer import wrong_answer_handler
from core.errors import CooldownError, UnsupportedInputError
from core.inputs import Attachment, FileInfo, InputLimits, check_request_input
from core.progress import Progress
from core.service import AutointelRequest

if TYPE_CHECKING:
    from bot.client import IntelBot
    from core.queue import QueueTicket
    from core.settings import Settings

__all__ = ["AutointelCog", "ThrottledResponseEditor", "check_input"]

_log = logging.getLogger(__name__)

PROGRESS_EDIT_INTERVAL = 1.0
_NO_MENTIONS = discord.AllowedMentions.none()


class ThrottledResponseEditor:
    """Edits an interaction's original response at most once per ``interval`` seconds.

    :meth:`progress` is a :data:`~core.progress.ProgressSink`: it never waits for Discord.  The first
    update is shown at once; later ones within the interval are coalesced and the latest is shown when
    the interval has passed, so the last stage is never lost.  :meth:`finish` drops any pending
    update and shows the final state (the report) at once.  :meth:`cancel` drops pending work.
    """

    def __init__(self, interaction: discord.Interaction, *, heading: str, interval: float = PROGRESS_EDIT_INTERVAL) -> None:
        self._interaction = interaction
        self._heading = heading
        self._interval = interval
        self._last_edit_at: float | None = None
        self._pending: str | None = None
        self._shown: str | None = None
        self._flush_task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self.edits = 0

    async def progress(self, update: Progress) -> None:
        text = f"{self._heading}\n⏳ {discord_text(update.describe(), 300)}"
        if text == self._shown or text == self._pending:
            return
        self._pending = text
        if self._flush_task is None or self._flush_task.done():
            self._flush_task = asyncio.get_running_loop().create_task(self._flush_pending())

    async def finish(self, **edit: Any) -> None:
        """Show the final state (``edit_original_response`` keyword arguments) at once.

        The final edit is not held back by the interval: it replaces whatever progress was pending,
        and making the user wait up to a second for the report would buy nothing.
        """
        await self.cancel()
        async with self._lock:
            await self._edit(**edit)

    async def cancel(self) -> None:
        task, self._flush_task = self._flush_task, None
        self._pending = None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _flush_pending(self) -> None:
        async with self._lock:
            await self._wait_for_interval()
            text, self._pending = self._pending, None
            if text is None or text == self._shown:
                return
            try:
                await self._edit(content=text)
            except discord.HTTPException:
                _log.warning("could not show progress", exc_info=True)
            else:
                self._shown = text

    async def _wait_for_interval(self) -> None:
        if self._last_edit_at is None:
            return
        loop = asyncio.get_running_loop()
        delay = self._last_edit_at + self._interval - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)

    async def _edit(self, **edit: Any) -> None:
        self._last_edit_at = asyncio.get_running_loop().time()
        self.edits += 1
        await self._interaction.edit_original_response(allowed_mentions=_NO_MENTIONS, **edit)


def check_input(target: str, file: discord.Attachment | None, *, settings: Settings) -> None:
    """Refuse, before deferring, what the service would refuse: the one rule set of
    :func:`core.inputs.check_request_input`, with the file's declared name and size."""
    files = (FileInfo(filename=file.filename, size=file.size),) if file is not None else ()
    check_request_input(target, files=files, limits=InputLimits.from_settings(settings))


async def download_attachment(file: discord.Attachment) -> Attachment:
    try:
        data = await file.read()
    except discord.HTTPException as exc:
        raise UnsupportedInputError(f"Could not download {file.filename}; try attaching it again.") from exc
    return Attachment(filename=file.filename, data=data, content_type=file.content_type)


class AutointelCog(commands.Cog, name="Autointel"):
    """Structured intelligence reports: summary, key insights with evidence, patterns, themes, claims.

    ``/autointel target:<text or up to 5 URLs> depth:<quick|standard|deep> file:<.txt .md .html .pdf>``
    analyses pasted text, web pages and/or an attached file; several sources get a cross-source
    synthesis.  Refresh under a report runs it again without the cache.
    """

    def __init__(self, bot: IntelBot) -> None:
        self.bot = bot

    @app_commands.command(name="autointel", description="Analyse text, up to 5 URLs or a file into a structured report")
    @app_commands.describe(
        target="The text to analyse, or up to 5 URLs separated by spaces",
        depth="How much to extract (default: the server's setting)",
        file="A .txt, .md, .html or .pdf file to analyse",
    )
    async def autointel(
        self,
        interaction: discord.Interaction,
        target: app_commands.Range[str, 0, 6000] = "",
        depth: Literal["quick", "standard", "deep"] | None = None,
        file: discord.Attachment | None = None,
    ) -> None:
        check_input(target, file, settings=self.bot.settings)
        tenant_id = tenant_of(interaction)
        ticket = self.bot.service.enter_queue(tenant_id)  # before deferring: "busy" stays private
        async with ticket:
            await interaction.response.defer(thinking=True)
            attachments = (await download_attachment(file),) if file is not None else ()
            request = AutointelRequest(
                guild_id=tenant_id, user_id=interaction.user.id, target=target, attachments=attachments, depth=depth,
            )
            await self._analyse_and_reply(interaction, request, ticket=ticket)

    async def reply_with_report(
        self, interaction: discord.Interaction, request: AutointelRequest, *, ticket: QueueTicket
    ) -> None:
        """Analyse ``request`` and answer the (deferred) interaction with the report, as /autointel does;
        for other front ends on a message (the "Analyse message" context menu)."""
        await self._analyse_and_reply(interaction, request, ticket=ticket)

    async def _analyse_and_reply(
        self, interaction: discord.Interaction, request: AutointelRequest, *, ticket: QueueTicket
    ) -> None:
        heading = "**Analysing**" + (f" (depth: {request.depth})" if request.depth else "")
        editor = ThrottledResponseEditor(interaction, heading=heading)
        try:
            result = await self.bot.service.autointel(request, progress=editor.progress, ticket=ticket)
        finally:
            await editor.cancel()
        rendered = render_report(result)
        view = PagedView(
            rendered.pages, owner_id=request.user_id, timeout=self.bot.settings.discord_view_timeout_seconds,
            on_refresh=lambda click: self._refresh(click, request),
            on_wrong_answer=wrong_answer_handler(self.bot, tenant_id=request.guild_id, hit=result.cache_hit),
        )
        await editor.finish(
            content=rendered.content[: DiscordLimits.CONTENT],
            embeds=rendered.embeds,
            attachments=rendered.discord_files(),
            view=view,
        )
        view.shown_by(interaction)
        _log.info(
            "/autointel for user %s in guild %s: %d words in %.1fs",
            request.user_id, request.guild_id, sum(source.words for source in result.report.sources), result.elapsed_seconds,
        )

    async def _refresh(self, interaction: discord.Interaction, request: AutointelRequest) -> None:
        """Refresh: the same request again, bypassing the cache, answered in a new message."""
        waiting = self.bot.service.cooldown_remaining(guild_id=request.guild_id, user_id=request.user_id)
        if waiting > 0:
            raise CooldownError(seconds_left=waiting)  # before deferring, so the refusal is ephemeral
        async with self.bot.service.enter_queue(request.guild_id) as ticket:
            await interaction.response.defer(thinking=True)
            await self._analyse_and_reply(interaction, request.model_copy(update={"fresh": True}), ticket=ticket)


async def setup(bot: IntelBot) -> None:
    await bot.add_cog(AutointelCog(bot))
