"""The analysis queue on its own: round-robin across tenants, places in line, bounded."""

from __future__ import annotations

import asyncio

import pytest

from core.errors import BusyError
from core.progress import Progress
from core.queue import AnalysisQueue, QueueTicket


async def _wait_all(tickets: list[QueueTicket]) -> list[asyncio.Task[None]]:
    tasks = [asyncio.create_task(ticket.wait()) for ticket in tickets]
    await asyncio.sleep(0)
    return tasks


async def test_a_free_slot_is_granted_at_once() -> None:
    queue = AnalysisQueue(concurrency=2, max_waiting=5, max_waiting_per_tenant=5)

    first, second = queue.enter(1), queue.enter(1)
    third = queue.enter(1)

    assert first.granted and second.granted and not third.granted and third.place == 1


async def test_freed_slots_go_round_robin_across_tenants_not_first_come() -> None:
    queue = AnalysisQueue(concurrency=1, max_waiting=30, max_waiting_per_tenant=25)
    running = queue.enter(100)
    busy_guild = [queue.enter(100) for _ in range(20)]
    quiet_guild = queue.enter(200)
    order: list[QueueTicket] = []

    for _ in range(21):
        (running if not order else order[-1]).release()
        order.append(next(ticket for ticket in [*busy_guild, quiet_guild] if ticket.granted and ticket not in order))

    assert order.index(quiet_guild) == 1  # after one of the busy guild's twenty, not after all of them
    assert [ticket.tenant_id for ticket in order].count(100) == 20


async def test_places_in_line_follow_the_round_robin_and_are_told_when_they_change() -> None:
    queue = AnalysisQueue(concurrency=1, max_waiting=10, max_waiting_per_tenant=10)
    running = queue.enter(1)
    same_guild = [queue.enter(1), queue.enter(1)]
    other = queue.enter(2)
    lines: list[str] = []

    async def collect(update: Progress) -> None:
        lines.append(update.describe())

    waiter = asyncio.create_task(other.wait(progress=collect))
    await asyncio.sleep(0)
    assert [ticket.place for ticket in (*same_guild, other)] == [1, 3, 2]
    running.release()  # guild 1's next runs; guild 2 is next after it
    await asyncio.sleep(0)
    same_guild[0].release()
    await asyncio.wait_for(waiter, 1)

    assert lines == ["Waiting in line: place 2 (1 ahead of you)", "Waiting in line: you are next"]
    assert other.granted and same_guild[1].place == 1


async def test_a_full_line_is_refused_at_once_and_one_tenant_cannot_fill_it() -> None:
    queue = AnalysisQueue(concurrency=1, max_waiting=3, max_waiting_per_tenant=2)
    queue.enter(1)
    queue.enter(1)
    queue.enter(1)

    with pytest.raises(BusyError) as caught:
        queue.enter(1)  # guild 1 already has two waiting
    queue.enter(2)  # another guild still gets in
    with pytest.raises(BusyError):
        queue.enter(3)  # three waiting in all

    assert str(caught.value) == "The bot is busy: try again in a minute."
    assert queue.stats().refused == 2 and queue.stats().waiting == 3


async def test_a_cancelled_wait_gives_its_place_up() -> None:
    queue = AnalysisQueue(concurrency=1, max_waiting=5, max_waiting_per_tenant=5)
    running = queue.enter(1)
    leaving, staying = queue.enter(2), queue.enter(3)
    tasks = await _wait_all([leaving, staying])

    tasks[0].cancel()
    await asyncio.gather(tasks[0], return_exceptions=True)
    running.release()
    await asyncio.wait_for(tasks[1], 1)

    assert staying.granted and not leaving.granted and queue.stats().waiting == 0
