"""The analysis queue through the real service: fair between guilds, places told, full line refused."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.embedder import Embedder
from core.errors import BusyError
from core.progress import Progress
from core.runtime import IntelRuntime
from core.service import AutointelRequest, AutointelResult, IntelService
from core.settings import Settings
from tests.e2e.texts import FERRY_TEXT, HARBOUR_AND_SCHOOLS

BUSY_GUILD, QUIET_GUILD = 101, 202


@pytest.fixture
async def service(tmp_path: Path, embedder: Embedder) -> AsyncIterator[IntelService]:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=tmp_path / "data", user_cooldown_seconds=0,
        analysis_concurrency=1, analysis_queue_size=25, analysis_queue_per_tenant=21,
    )
    async with IntelRuntime(settings, embedder=embedder) as runtime:
        assert runtime.service is not None
        yield runtime.service


def _request(guild_id: int, user_id: int, text: str) -> AutointelRequest:
    return AutointelRequest(guild_id=guild_id, user_id=user_id, target=text, depth="quick")


async def test_a_guild_with_20_queued_requests_does_not_delay_another_guilds_one_behind_all_20(
    service: IntelService,
) -> None:
    finished: list[int] = []
    lines: list[str] = []

    async def run(request: AutointelRequest) -> AutointelResult:
        async def collect(update: Progress) -> None:
            if request.guild_id == QUIET_GUILD:
                lines.append(update.describe())

        result = await service.autointel(request, progress=collect)
        finished.append(request.guild_id)
        return result

    busy = [asyncio.create_task(run(_request(BUSY_GUILD, user, HARBOUR_AND_SCHOOLS))) for user in range(1, 21)]
    await asyncio.sleep(0.05)  # the busy guild's twenty are in: one running, nineteen in line
    quiet = asyncio.create_task(run(_request(QUIET_GUILD, 1, FERRY_TEXT)))
    results = await asyncio.gather(*busy, quiet)

    assert finished.index(QUIET_GUILD) <= 2  # one turn behind the busy guild, not twenty
    assert "Waiting in line: place 2 (1 ahead of you)" in lines
    assert "Waiting in line: you are next" in lines
    assert results[-1].report.summary and all(result.report.summary for result in results)


async def test_a_full_line_answers_busy_at_once_without_doing_any_work(service: IntelService) -> None:
    # concurrency 1 and 21 places for one guild: the 23rd request of the guild is refused.
    tickets = [service.enter_queue(BUSY_GUILD) for _ in range(22)]

    with pytest.raises(BusyError) as caught:
        await service.autointel(_request(BUSY_GUILD, 99, HARBOUR_AND_SCHOOLS))
    quiet = service.enter_queue(QUIET_GUILD)  # another guild still gets a place

    assert str(caught.value) == "The bot is busy: try again in a minute."
    assert (await service.status()).queue.refused == 1
    assert quiet.place == 2  # after the busy guild's next, before its other twenty
    for ticket in [*tickets, quiet]:
        ticket.release()
