"""What the LLM cost, per guild per UTC day, in the database; and the daily budget check.

Each response's cost is OpenRouter's reported ``usage.cost`` when present, else its token counts
times the :class:`PriceTable`.  Before a command calls the LLM it *reserves* its estimated cost:
if what the guild spent today, plus what running commands reserved, plus this estimate passes the
budget, :class:`~core.errors.BudgetExceededError` is raised and no call is made.  Rows are the
source of truth, so spending survives a restart.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field

from core.errors import BudgetExceededError, StorageUnavailableError
from core.llm.client import Usage
from core.storage import SpendRows
from core.storage.models import GuildSpend

__all__ = ["GuildSpend", "PriceTable", "SpendLedger"]

_log = logging.getLogger(__name__)


class PriceTable(BaseModel):
    """USD per million tokens."""

    model_config = ConfigDict(frozen=True)

    input_per_mtok: float = Field(ge=0)
    output_per_mtok: float = Field(ge=0)

    def estimate(self, *, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.input_per_mtok + completion_tokens * self.output_per_mtok) / 1_000_000

    def cost(self, usage: Usage) -> float:
        if usage.reported_cost_usd is not None:
            return usage.reported_cost_usd
        return self.estimate(prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens)


class SpendLedger:
    """Spend per guild and day, and reservations of running commands, in :class:`~core.storage.SpendRows`.

    A reservation is one atomic statement on the guild's budget row (spent + reserved + estimate
    must fit), so the budget holds across every process sharing the database.
    """

    def __init__(self, rows: SpendRows, *, clock: Callable[[], float] = time.time) -> None:
        self._rows = rows
        self._clock = clock

    def today(self) -> str:
        return datetime.fromtimestamp(self._clock(), UTC).strftime("%Y-%m-%d")

    async def spent_today(self, guild_id: int) -> GuildSpend:
        return await self._rows.spent(guild_id, self.today())

    async def record(self, guild_id: int, *, model: str, usage: Usage, cost_usd: float) -> None:
        await self._rows.record(
            guild_id, self.today(), model=model, prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens, cost_usd=cost_usd,
        )

    @asynccontextmanager
    async def reserve(self, guild_id: int, *, estimate_usd: float, budget_usd: float) -> AsyncIterator[None]:
        """Hold ``estimate_usd`` of today's budget while the block runs, or raise if it does not fit."""
        day = self.today()
        if not await self._rows.reserve(guild_id, day, estimate_usd=estimate_usd, budget_usd=budget_usd):
            committed = await self._rows.committed(guild_id, day)
            _log.info(
                "guild %s over LLM budget: spent and reserved %.4f, estimate %.4f, budget %.2f",
                guild_id, committed, estimate_usd, budget_usd,
            )
            raise BudgetExceededError(spent_usd=committed, budget_usd=budget_usd)
        try:
            yield
        finally:
            try:
                await self._rows.release(guild_id, day, estimate_usd=estimate_usd)
            except StorageUnavailableError:  # held until the day ends; never hides the block's own error
                _log.warning("could not release a %.4f USD reservation of guild %s", estimate_usd, guild_id,
                             exc_info=True)
