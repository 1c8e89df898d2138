"""Buttons under the bot's messages: Previous/Next pages, Open a report, Refresh, Wrong answer?.

Every view here belongs to the user who ran the command: anyone else who clicks gets a short
ephemeral refusal and nothing changes.  The one exception is "Wrong answer?" under a cached reply,
which members with Manage Server may use too (they look after the server's cache).  A view stops after ``timeout`` seconds without a click
(``DISCORD_VIEW_TIMEOUT_SECONDS``) and then edits its message to show its buttons disabled, so a
dead button never looks alive; a view that times out after the bot has shut down leaves its
message alone (there is no session to edit with).  Errors in a button's work go to the same handler as commands'.

The views hold no Discord-independent logic: the cogs hand them the pages
(:class:`cogs.render.Page`) and what to do on Open and Refresh.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import discord

from cogs.errors import reply_with_error
from cogs.render import Page

__all__ = ["NOT_YOURS_MESSAGE", "OwnerOnlyView", "PagedView"]

_log = logging.getLogger(__name__)

NOT_YOURS_MESSAGE = "Only the person who ran this command can use these buttons."
_NO_MENTIONS = discord.AllowedMentions.none()
_MAX_OPEN_BUTTONS = 5

OpenReport = Callable[[discord.Interaction, int], Awaitable[None]]
Refresh = Callable[[discord.Interaction], Awaitable[None]]
WrongAnswer = Callable[[discord.Interaction], Awaitable[None]]
WRONG_ANSWER_ID = "intel:wrong-answer"


class OwnerOnlyView(discord.ui.View):
    """A view only ``owner_id`` may use; disables itself on timeout (see the module docstring)."""

    def __init__(self, *, owner_id: int, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self.owner_id = owner_id
        self._message_interaction: discord.Interaction | None = None

    def shown_by(self, interaction: discord.Interaction) -> None:
        """Remember the interaction whose response message carries this view (to edit on timeout)."""
        self._message_interaction = interaction

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        if interaction.user.id == self.owner_id or _manager_on_wrong_answer(interaction):
            return True
        await interaction.response.send_message(NOT_YOURS_MESSAGE, ephemeral=True, allowed_mentions=_NO_MENTIONS)
        return False

    async def on_timeout(self) -> None:
        for item in self.children:
            if isinstance(item, discord.ui.Button | discord.ui.Select):
                item.disabled = True
        interaction = self._message_interaction
        if interaction is None:
            return
        if interaction.client.is_closed():  # shut down: its HTTP session is closed, nothing can edit
            _log.debug("not disabling the buttons of a message: the bot has shut down")
            return
        try:
            await interaction.edit_original_response(view=self, allowed_mentions=_NO_MENTIONS)
        except discord.HTTPException:
            _log.info("could not disable the buttons of a timed-out message", exc_info=True)
        except RuntimeError:  # aiohttp's "Session is closed": the bot shut down during the edit
            if not interaction.client.is_closed():
                raise
            _log.debug("not disabling the buttons of a message: the bot shut down meanwhile")

    async def on_error(self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any], /) -> None:
        await reply_with_error(interaction, error)


class PagedView(OwnerOnlyView):
    """Previous/Next over ``pages``, an Open button per report the page offers, and an optional Refresh."""

    def __init__(
        self,
        pages: Sequence[Page],
        *,
        owner_id: int,
        timeout: float,
        on_open: OpenReport | None = None,
        on_refresh: Refresh | None = None,
        on_wrong_answer: WrongAnswer | None = None,
    ) -> None:
        """``on_wrong_answer``: given for a reply served from the cache (adds "Wrong answer?")."""
        super().__init__(owner_id=owner_id, timeout=timeout)
        if not pages:
            raise ValueError("a paged view needs at least one page")
        self.pages = list(pages)
        self.index = 0
        self._on_open = on_open
        self._on_refresh = on_refresh
        self._on_wrong_answer = on_wrong_answer
        self._build()

    @property
    def page(self) -> Page:
        return self.pages[self.index]

    @property
    def has_items(self) -> bool:
        return bool(self.children)

    def _build(self) -> None:
        """Lay out the buttons for the current page (row 0: paging and Refresh, row 1: Open)."""
        self.clear_items()
        if len(self.pages) > 1:
            self.add_item(_Step(self, step=-1, label="Previous", disabled=self.index == 0))
            self.add_item(_Step(self, step=+1, label="Next", disabled=self.index == len(self.pages) - 1))
        if self._on_refresh is not None:
            self.add_item(_RefreshButton(self._on_refresh))
        if self._on_wrong_answer is not None:
            self.add_item(_WrongAnswerButton(self._on_wrong_answer))
        if self._on_open is not None:
            for report_id, label in self.page.open_choices[:_MAX_OPEN_BUTTONS]:
                self.add_item(_OpenButton(self._on_open, report_id=report_id, label=label))

    async def turn(self, interaction: discord.Interaction, *, step: int) -> None:
        self.index = max(0, min(len(self.pages) - 1, self.index + step))
        self._build()
        await interaction.response.edit_message(embeds=self.page.embeds, view=self, allowed_mentions=_NO_MENTIONS)


class _Step(discord.ui.Button[PagedView]):
    def __init__(self, paged: PagedView, *, step: int, label: str, disabled: bool) -> None:
        super().__init__(label=label, style=discord.ButtonStyle.secondary, disabled=disabled, row=0)
        self._paged = paged
        self._step = step

    async def callback(self, interaction: discord.Interaction) -> None:
        await self._paged.turn(interaction, step=self._step)


class _RefreshButton(discord.ui.Button[PagedView]):
    def __init__(self, on_refresh: Refresh) -> None:
        super().__init__(label="Refresh", style=discord.ButtonStyle.primary, row=0)
        self._on_refresh = on_refresh

    async def callback(self, interaction: discord.Interaction) -> None:
        await self._on_refresh(interaction)


class _WrongAnswerButton(discord.ui.Button[PagedView]):
    def __init__(self, on_wrong_answer: WrongAnswer) -> None:
        super().__init__(label="Wrong answer?", style=discord.ButtonStyle.danger, row=0, custom_id=WRONG_ANSWER_ID)
        self._on_wrong_answer = on_wrong_answer

    async def callback(self, interaction: discord.Interaction) -> None:
        await self._on_wrong_answer(interaction)


def _manager_on_wrong_answer(interaction: discord.Interaction) -> bool:
    """A member with Manage Server clicking "Wrong answer?" (the only button others may use)."""
    data = interaction.data or {}
    return data.get("custom_id") == WRONG_ANSWER_ID and interaction.permissions.manage_guild


class _OpenButton(discord.ui.Button[PagedView]):
    def __init__(self, on_open: OpenReport, *, report_id: int, label: str) -> None:
        super().__init__(label=label[:80], style=discord.ButtonStyle.success, row=1)
        self._on_open = on_open
        self._report_id = report_id

    async def callback(self, interaction: discord.Interaction) -> None:
        await self._on_open(interaction, self._report_id)
