"""URL batches through the fake Discord: the real bot fetches from a loopback article server.

The bot's URL guard is the test-only :func:`~tests.fakes.web_server.loopback_guard` (the one
allowance that may reach 127.0.0.1); everything else (fetching, extraction, analysis, rendering)
is what runs in production.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator

import pytest

from core.embedder import Embedder
from core.models import IntelReport
from core.settings import Settings
from tests.e2e.bot_runner import RunningBot, bot_settings_for, running_bot
from tests.e2e.discord_limits import assert_cannot_ping, assert_messages_within_limits
from tests.e2e.fake_discord import FakeDiscord
from tests.e2e.fake_records import InteractionLog, InteractionResponse
from tests.fakes.web_server import LoopbackSite, loopback_guard, minimal_pdf, web_server

__all__ = ["web_server"]

REPORT_TIMEOUT = 90.0


@pytest.fixture
async def url_bot(
    fake_discord: FakeDiscord, settings: Settings, embedder: Embedder, web_server: LoopbackSite
) -> AsyncIterator[RunningBot]:
    configured = bot_settings_for(fake_discord, settings, user_cooldown_seconds=0)
    async with running_bot(fake_discord, configured, embedder=embedder, url_guard=loopback_guard(web_server)) as running:
        yield running


async def _report(fake: FakeDiscord, log: InteractionLog) -> InteractionResponse:
    return await fake.wait_for_response(log, lambda r: any(f.filename.endswith(".json") for f in r.files),
                                        timeout=REPORT_TIMEOUT)


def _embed(response: InteractionResponse, title_start: str) -> dict:
    return next(embed for embed in response.embeds if (embed.get("title") or "").startswith(title_start))


def _field(embed: dict, name: str) -> str:
    return next(field["value"] for field in embed.get("fields") or [] if field["name"] == name)


async def test_a_two_url_batch_gives_one_report_with_a_cross_source_synthesis(
    url_bot: RunningBot, web_server: LoopbackSite
) -> None:
    fake = url_bot.fake
    urls = [web_server.url("/article.html"), web_server.url("/review.txt")]
    log = await fake.run_command("autointel", {"target": "\n".join(urls), "depth": "standard"})
    final = await _report(fake, log)

    report = IntelReport.model_validate_json(final.file(".json").data)
    assert [source.url for source in report.sources] == urls
    summary = _embed(final, "Intelligence report")
    assert summary["title"] == "Intelligence report: 2 sources"
    assert "Riverton tram extension" in _field(summary, "Sources")
    synthesis = _embed(final, "Cross-source synthesis")
    assert any(field["name"] == "Contradictions" and "fell 18 percent" in field["value"] for field in synthesis["fields"])
    assert all("⏳" in (edit.content or "") for edit in log.edits if edit is not final)
    assert_messages_within_limits(fake.requests)
    for request in fake.requests:
        if request.is_message:
            assert_cannot_ping(request)


async def test_a_batch_with_one_failing_url_still_posts_the_report_and_lists_the_failure(
    url_bot: RunningBot, web_server: LoopbackSite
) -> None:
    fake = url_bot.fake
    good, missing = web_server.url("/article.html"), web_server.url("/no-such-page")
    log = await fake.run_command("autointel", {"target": f"{good} {missing}", "depth": "quick"})
    final = await _report(fake, log)

    report = IntelReport.model_validate_json(final.file(".json").data)
    assert [source.url for source in report.sources] == [good]
    assert report.failed_sources == [f"{missing}: the server answered 404 Not Found"]
    failed = _field(_embed(final, "Intelligence report"), "Failed sources")
    assert "no-such-page: the server answered 404 Not Found" in failed


async def test_an_attached_pdf_is_analysed(url_bot: RunningBot) -> None:
    fake = url_bot.fake
    lines = [
        "Annual report of the Riverton harbour authority.",
        "Cargo volumes at the harbour grew 6 percent in 2023 while passenger ferries carried",
        "more people than ever before. The authority will deepen the main channel next year",
        "so that larger container ships can reach the eastern quay without waiting for the tide.",
    ]
    attachment = fake.add_attachment("harbour.pdf", minimal_pdf(lines, title="Harbour report"),
                                     content_type="application/pdf")
    log = await fake.run_command("autointel", {"file": attachment, "depth": "quick"})
    final = await _report(fake, log)

    report = IntelReport.model_validate_json(final.file(".json").data)
    assert report.sources[0].kind == "file" and report.sources[0].label == "Harbour report"
    assert "Cargo volumes" in final.file(".md").text


async def test_progress_is_edited_in_at_most_about_once_a_second(url_bot: RunningBot, web_server: LoopbackSite) -> None:
    """Two sources the server sends after 1.5 s and 3 s: progress must show and be throttled,
    whatever the machine's speed (the time comes from the server, not from the CPU)."""
    fake = url_bot.fake
    urls = [web_server.url("/delayed/1500/article.html"), web_server.url("/delayed/3000/review.txt")]
    log = await fake.run_command("autointel", {"target": "\n".join(urls), "depth": "quick"})
    final = await _report(fake, log)

    progress_edits = [edit for edit in log.edits if edit is not final]
    assert len(progress_edits) >= 2, "progress was not shown while the report was being made"
    assert all("⏳" in (edit.content or "") for edit in progress_edits)
    assert any("fetched 1/2" in (edit.content or "") for edit in progress_edits)
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(progress_edits)]
    assert all(gap >= 0.75 for gap in gaps), f"edits came faster than about once a second: {gaps}"
    assert log.edits[-1] is final
