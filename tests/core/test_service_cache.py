"""/autointel through the real runtime and the local engine: what the cache changes for a user."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.embedder import Embedder
from core.progress import Progress
from core.runtime import IntelRuntime
from core.service import AutointelRequest, IntelService
from core.settings import Settings

ARTICLE = (Path(__file__).parents[2] / "samples" / "renewables_article.md").read_text(encoding="utf-8")


class StageRecorder:
    """A progress sink that keeps the stage names a user would have seen."""

    def __init__(self) -> None:
        self.stages: list[str] = []

    async def __call__(self, progress: Progress) -> None:
        self.stages.append(progress.stage)


def request(**fields: object) -> AutointelRequest:
    return AutointelRequest(**{"guild_id": 7, "user_id": 1, "target": ARTICLE, "depth": "quick", **fields})  # type: ignore[arg-type]


@pytest.fixture
async def service(tmp_path: Path, embedder: Embedder) -> AsyncIterator[IntelService]:
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", user_cooldown_seconds=0)  # type: ignore[call-arg]
    async with IntelRuntime(settings, embedder=embedder) as runtime:
        assert runtime.service is not None
        yield runtime.service


async def test_second_identical_request_is_served_exactly_without_running_the_engine(service: IntelService) -> None:
    first = await service.autointel(request())
    seen = StageRecorder()

    second = await service.autointel(request(user_id=2), progress=seen)

    assert first.cache_hit is None
    assert second.cache_hit is not None
    assert (second.cache_hit.how, second.cache_hit.similarity) == ("exact", 1.0)
    assert second.report == first.report
    assert "Checking the cache" in seen.stages
    assert "Segmenting" not in seen.stages


async def test_fresh_request_runs_the_engine_again_and_replaces_the_entry(service: IntelService) -> None:
    await service.autointel(request())
    old_hit = await service.autointel(request())
    seen = StageRecorder()

    fresh = await service.autointel(request(fresh=True), progress=seen)
    after = await service.autointel(request())

    assert fresh.cache_hit is None and "Segmenting" in seen.stages
    assert fresh.report.created_at > old_hit.report.created_at
    assert after.cache_hit is not None and old_hit.cache_hit is not None
    assert after.cache_hit.entry_id != old_hit.cache_hit.entry_id
    assert after.report == fresh.report


async def test_other_depth_or_guild_is_not_served_from_cache(service: IntelService) -> None:
    await service.autointel(request())

    deeper = await service.autointel(request(depth="standard"))
    elsewhere = await service.autointel(request(guild_id=8))

    assert deeper.cache_hit is None and deeper.report.depth == "standard"
    assert elsewhere.cache_hit is None
