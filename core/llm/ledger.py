"""What the LLM cost, per guild per UTC day, in SQLite; and the daily budget check.

Each response's cost is OpenRouter's reported ``usage.cost`` when present, else its token counts
times the :class:`PriceTable`.  Before a command calls the LLM it *reserves* its estimated cost:
if what the guild spent today, plus what running commands reserved, plus this estimate passes the
budget, :class:`~core.errors.BudgetExceededError` is raised and no call is made.  Rows are the
source of truth, so spending survives a restart.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field

from core.db import Database
from core.errors import BudgetExceededError
from core.llm.client import Usage

__all__ = ["GuildSpend", "PriceTable", "SpendLedger"]

_log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS llm_spend (
    guild_id          INTEGER NOT NULL,
    day               TEXT    NOT NULL,
    model             TEXT    NOT NULL,
    calls             INTEGER NOT NULL DEFAULT 0,
    prompt_tokens     INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd          REAL    NOT NULL DEFAULT 0,
    PRIMARY KEY (guild_id, day, model)
);
"""


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


class GuildSpend(BaseModel):
    guild_id: int
    day: str
    calls: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float


class SpendLedger:
    """The ``llm_spend`` table plus in-memory reservations of running commands."""

    def __init__(self, database: Database, *, clock: Callable[[], float] = time.time) -> None:
        self._database = database
        self._clock = clock
        self._reserved: defaultdict[int, float] = defaultdict(float)
        self._lock = asyncio.Lock()

    async def setup(self) -> None:
        await self._database.ensure_schema(_SCHEMA)

    def today(self) -> str:
        return datetime.fromtimestamp(self._clock(), UTC).strftime("%Y-%m-%d")

    async def spent_today(self, guild_id: int) -> GuildSpend:
        day = self.today()
        async with self._database.connection.execute(
            "SELECT COALESCE(SUM(calls), 0) AS calls, COALESCE(SUM(prompt_tokens), 0) AS prompt_tokens, "
            "COALESCE(SUM(completion_tokens), 0) AS completion_tokens, COALESCE(SUM(cost_usd), 0) AS cost_usd "
            "FROM llm_spend WHERE guild_id = ? AND day = ?",
            (guild_id, day),
        ) as cursor:
            row = await cursor.fetchone()
        assert row is not None
        return GuildSpend(guild_id=guild_id, day=day, **dict(row))

    async def record(self, guild_id: int, *, model: str, usage: Usage, cost_usd: float) -> None:
        await self._database.connection.execute(
            "INSERT INTO llm_spend (guild_id, day, model, calls, prompt_tokens, completion_tokens, cost_usd) "
            "VALUES (?, ?, ?, 1, ?, ?, ?) ON CONFLICT(guild_id, day, model) DO UPDATE SET "
            "calls = calls + 1, prompt_tokens = prompt_tokens + excluded.prompt_tokens, "
            "completion_tokens = completion_tokens + excluded.completion_tokens, "
            "cost_usd = cost_usd + excluded.cost_usd",
            (guild_id, self.today(), model, usage.prompt_tokens, usage.completion_tokens, cost_usd),
        )
        await self._database.connection.commit()

    @asynccontextmanager
    async def reserve(self, guild_id: int, *, estimate_usd: float, budget_usd: float) -> AsyncIterator[None]:
        """Hold ``estimate_usd`` of today's budget while the block runs, or raise if it does not fit."""
        async with self._lock:
            spent = (await self.spent_today(guild_id)).cost_usd
            committed = spent + self._reserved[guild_id]
            if committed + estimate_usd > budget_usd:
                _log.info(
                    "guild %s over LLM budget: spent %.4f, reserved %.4f, estimate %.4f, budget %.2f",
                    guild_id, spent, self._reserved[guild_id], estimate_usd, budget_usd,
                )
                raise BudgetExceededError(spent_usd=committed, budget_usd=budget_usd)
            self._reserved[guild_id] += estimate_usd
        try:
            yield
        finally:
            self._reserved[guild_id] -= estimate_usd
            if self._reserved[guild_id] <= 1e-12:
                del self._reserved[guild_id]
