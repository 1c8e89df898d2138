"""/autointel with URLs and files through the real runtime, local engine, cache and a loopback site."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.embedder import Embedder
from core.errors import AllSourcesFailedError, BlockedUrlError, FetchError, TooManySourcesError
from core.inputs import Attachment
from core.progress import Progress
from core.runtime import IntelRuntime
from core.service import AutointelRequest, IntelService
from core.settings import Settings
from tests.fakes.web_server import (
    ARTICLE_HTML,
    PDF_LINES,
    LoopbackSite,
    loopback_guard,
    minimal_pdf,
    web_server,
)

__all__ = ["web_server"]


class ProgressRecorder:
    def __init__(self) -> None:
        self.lines: list[str] = []

    async def __call__(self, progress: Progress) -> None:
        self.lines.append(progress.describe())


def request(target: str = "", **fields: object) -> AutointelRequest:
    return AutointelRequest(**{"guild_id": 7, "user_id": 1, "target": target, "depth": "quick", **fields})  # type: ignore[arg-type]


@pytest.fixture
async def runtime(tmp_path: Path, embedder: Embedder, web_server: LoopbackSite) -> AsyncIterator[IntelRuntime]:
    """The real runtime whose URL guard may reach the loopback site (the test-only allowance)."""
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", user_cooldown_seconds=0)  # type: ignore[call-arg]
    async with IntelRuntime(settings, embedder=embedder, url_guard=loopback_guard(web_server)) as started:
        yield started


@pytest.fixture
def service(runtime: IntelRuntime) -> IntelService:
    assert runtime.service is not None
    return runtime.service


async def test_one_url_gives_a_report_on_the_article(service: IntelService, web_server: LoopbackSite) -> None:
    result = await service.autointel(request(web_server.url("/article.html")))
    source = result.report.sources[0]
    assert (source.kind, source.url, source.author) == ("url", web_server.url("/article.html"), "Mara Olsen")
    assert "Riverton" in result.report.summary
    assert result.report.synthesis is None and result.report.failed_sources == []


async def test_batch_with_one_failing_source_reports_the_others_and_the_failure(
    service: IntelService, web_server: LoopbackSite
) -> None:
    urls = [web_server.url("/article.html"), web_server.url("/no-such-page"), web_server.url("/review.txt")]
    seen = ProgressRecorder()
    result = await service.autointel(request("\n".join(urls)), progress=seen)
    report = result.report
    assert [source.url for source in report.sources] == [urls[0], urls[2]]
    assert report.failed_sources == [f"{urls[1]}: the server answered 404 Not Found"]
    assert report.synthesis is not None
    assert any("rose 18 percent" in line and "fell 18 percent" in line for line in report.synthesis.contradictions)
    assert "Reading sources (3/3): fetched 2/3, analysed 2/3, 1 failed" in seen.lines


async def test_batch_where_every_source_fails_is_one_clear_error(
    service: IntelService, web_server: LoopbackSite
) -> None:
    urls = [web_server.url("/binary"), web_server.url("/missing")]
    with pytest.raises(AllSourcesFailedError) as failed:
        await service.autointel(request(" ".join(urls)))
    assert str(failed.value) == (
        f"None of the sources could be used: {urls[0]}: it is application/octet-stream; only HTML, plain text, "
        f"Markdown and PDF are read; {urls[1]}: the server answered 404 Not Found"
    )


async def test_single_refused_url_keeps_its_own_message(service: IntelService) -> None:
    with pytest.raises(BlockedUrlError, match="link-local"):
        await service.autointel(request("http://169.254.169.254/latest/meta-data/"))


async def test_more_urls_than_allowed_is_refused_before_fetching(
    service: IntelService, web_server: LoopbackSite
) -> None:
    urls = [web_server.url(f"/article.html?page={number}") for number in range(6)]
    with pytest.raises(TooManySourcesError, match=r"Too many URLs \(6\); give at most 5 per request\."):
        await service.autointel(request(" ".join(urls)))
    assert web_server.hits == []


async def test_repeat_of_the_same_links_is_served_from_cache_before_any_fetch(
    service: IntelService, web_server: LoopbackSite
) -> None:
    urls = [web_server.url("/article.html"), web_server.url("/review.txt")]
    first = await service.autointel(request(" ".join(urls)))
    hits_after_first = list(web_server.hits)
    again = await service.autointel(request(f"{urls[0]}?utm_source=chat#top {urls[1]}", user_id=2))
    assert first.cache_hit is None
    assert again.cache_hit is not None and again.cache_hit.how == "exact"
    assert again.report == first.report
    assert web_server.hits == hits_after_first


async def test_same_article_at_another_address_is_served_by_its_text(
    service: IntelService, web_server: LoopbackSite
) -> None:
    await service.autointel(request(web_server.url("/article.html")))
    mirror = await service.autointel(request(web_server.url("/mirror/article.html")))
    assert mirror.cache_hit is not None and mirror.cache_hit.how == "exact"
    assert "/mirror/article.html" in web_server.hits


async def test_guild_denylist_refuses_the_domain(
    runtime: IntelRuntime, service: IntelService, web_server: LoopbackSite
) -> None:
    await runtime.guild_settings.update(7, url_denylist=["news.test"])
    with pytest.raises(FetchError, match="blocked that domain"):
        await service.autointel(request(web_server.url("/article.html")))
    assert web_server.hits == []


async def test_pdf_and_html_attachments_are_analysed(service: IntelService) -> None:
    files = (
        Attachment("tram.html", ARTICLE_HTML.encode(), "text/html"),
        Attachment("harbour.pdf", minimal_pdf(PDF_LINES, title="Harbour report"), "application/pdf"),
    )
    result = await service.autointel(request(attachments=files))
    assert [source.label for source in result.report.sources] == [
        "Riverton tram extension carries more riders",
        "Harbour report",
    ]
    assert result.report.synthesis is not None
