"""Spend per guild per day in a real SQLite file; budget refusals that survive a restart."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import BudgetExceededError
from core.llm import PriceTable, SpendLedger
from core.llm.client import Usage
from core.storage import Storage
from core.storage.sqlite import SqliteBackend
from tests.core.llm.conftest import ManualClock

DAY_ONE = 1_717_200_000.0  # 2024-06-01 00:00 UTC


async def open_ledger(path: Path, clock: ManualClock) -> tuple[Storage, SpendLedger]:
    database = Storage(SqliteBackend(path))
    await database.open()
    return database, SpendLedger(database.spend, clock=clock)


async def test_spend_is_summed_per_guild_and_day(tmp_path: Path) -> None:
    clock = ManualClock(DAY_ONE)
    database, ledger = await open_ledger(tmp_path / "intel.db", clock)
    usage = Usage(prompt_tokens=1000, completion_tokens=200)
    await ledger.record(1, model="a", usage=usage, cost_usd=0.25)
    await ledger.record(1, model="b", usage=usage, cost_usd=0.50)
    await ledger.record(2, model="a", usage=usage, cost_usd=0.10)

    spend = await ledger.spent_today(1)
    clock.advance(86_400)
    tomorrow = await ledger.spent_today(1)
    await database.close()

    assert spend.cost_usd == pytest.approx(0.75) and spend.calls == 2 and spend.prompt_tokens == 2000
    assert spend.day == "2024-06-01"
    assert tomorrow.cost_usd == 0 and tomorrow.day == "2024-06-02"


async def test_budget_refusal_survives_a_restart(tmp_path: Path) -> None:
    clock = ManualClock(DAY_ONE)
    database, ledger = await open_ledger(tmp_path / "intel.db", clock)
    await ledger.record(7, model="a", usage=Usage(), cost_usd=0.95)
    await database.close()

    database, reopened = await open_ledger(tmp_path / "intel.db", clock)
    with pytest.raises(BudgetExceededError) as caught:
        async with reopened.reserve(7, estimate_usd=0.10, budget_usd=1.0):
            pass
    async with reopened.reserve(8, estimate_usd=0.10, budget_usd=1.0):
        pass  # another guild has its own budget
    clock.advance(86_400)
    async with reopened.reserve(7, estimate_usd=0.10, budget_usd=1.0):
        pass  # a new day, a new budget
    await database.close()

    assert caught.value.spent_usd == pytest.approx(0.95)
    assert "$0.95 of $1.00" in str(caught.value)


async def test_running_reservations_count_against_the_budget(tmp_path: Path) -> None:
    database, ledger = await open_ledger(tmp_path / "intel.db", ManualClock(DAY_ONE))

    async with ledger.reserve(3, estimate_usd=0.6, budget_usd=1.0):
        with pytest.raises(BudgetExceededError):
            async with ledger.reserve(3, estimate_usd=0.6, budget_usd=1.0):
                pass
    async with ledger.reserve(3, estimate_usd=0.6, budget_usd=1.0):
        pass  # released once the first finished
    await database.close()


def test_reported_cost_wins_over_the_price_table() -> None:
    prices = PriceTable(input_per_mtok=1.0, output_per_mtok=2.0)

    assert prices.cost(Usage(prompt_tokens=1_000_000, completion_tokens=500_000)) == pytest.approx(2.0)
    assert prices.cost(Usage(prompt_tokens=1_000_000, reported_cost_usd=0.01)) == pytest.approx(0.01)
