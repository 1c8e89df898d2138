"""``/autointel`` end to end: the real bot, the real engine and model, a fake Discord on loopback."""

from __future__ import annotations

import time

import discord
import pytest

from core.models import IntelReport
from tests.e2e.bot_runner import RunningBot
from tests.e2e.discord_limits import assert_cannot_ping, assert_messages_within_limits, message_requests
from tests.e2e.fake_discord import FakeDiscord
from tests.e2e.fake_records import InteractionLog, InteractionResponse
from tests.e2e.texts import HARBOUR_AND_SCHOOLS, LONG_REPORT_TEXT, MENTIONS_TEXT, ORCHARD_NOTES_MD

REPORT_TIMEOUT = 90.0


def _has_report_files(response: InteractionResponse) -> bool:
    return any(item.filename.endswith(".json") for item in response.files)


async def _final_report(fake: FakeDiscord, log: InteractionLog) -> InteractionResponse:
    return await fake.wait_for_response(log, _has_report_files, timeout=REPORT_TIMEOUT)


def _embed(response: InteractionResponse, title_start: str) -> dict:
    matches = [embed for embed in response.embeds if (embed.get("title") or "").startswith(title_start)]
    assert matches, f"no embed titled {title_start!r} in {[e.get('title') for e in response.embeds]}"
    return matches[0]


def _escaped(text: str) -> str:
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text))


async def test_autointel_defers_within_three_seconds(intel_bot: RunningBot) -> None:
    fake = intel_bot.fake
    log = await fake.run_command("autointel", {"target": HARBOUR_AND_SCHOOLS, "depth": "quick"})

    assert log.deferred
    assert not log.ephemeral
    delay = log.response_delay()
    assert delay is not None and delay < 3.0
    await _final_report(fake, log)


async def test_report_shows_summary_and_key_insights_in_embeds(intel_bot: RunningBot) -> None:
    fake = intel_bot.fake
    log = await fake.run_command("autointel", {"target": HARBOUR_AND_SCHOOLS, "depth": "standard"})
    final = await _final_report(fake, log)
    report = IntelReport.model_validate_json(final.file(".json").data)

    summary = _embed(final, "Intelligence report")
    assert report.summary[:80] in summary["description"].replace("\\", "")
    insights = _embed(final, "Key insights")
    first_insight = report.key_insights[0]
    assert insights["fields"][0]["name"] == f"1. importance {first_insight.importance:.2f}"
    assert insights["fields"][0]["value"].startswith(_escaped(first_insight.insight)[:60])
    assert _embed(final, "Patterns") and _embed(final, "Themes")
    shown_theme_labels = {field["name"] for field in _embed(final, "Themes").get("fields", [])}
    assert {_escaped(theme.label) for theme in report.themes[:1]} <= shown_theme_labels


async def test_report_attaches_markdown_and_json_of_the_full_report(intel_bot: RunningBot) -> None:
    fake = intel_bot.fake
    log = await fake.run_command("autointel", {"target": HARBOUR_AND_SCHOOLS, "depth": "deep"})
    final = await _final_report(fake, log)

    report = IntelReport.model_validate_json(final.file(".json").data)
    markdown = final.file(".md").text
    assert report.depth == "deep"
    assert report.engine.name == "local"
    assert markdown.startswith("# Intelligence report")
    assert report.summary in markdown
    assert all(insight.insight in markdown for insight in report.key_insights)


async def test_every_message_respects_discord_limits_and_pings_nobody(intel_bot: RunningBot) -> None:
    fake = intel_bot.fake
    log = await fake.run_command("autointel", {"target": LONG_REPORT_TEXT, "depth": "deep"})
    final = await _final_report(fake, log)

    assert len(final.embeds) >= 4
    checked = assert_messages_within_limits(fake.requests)
    assert checked >= 2
    for request in message_requests(fake.requests):
        assert_cannot_ping(request)
    assert not fake.unhandled, [request.route for request in fake.unhandled]


async def test_mentions_in_the_source_cannot_ping(intel_bot: RunningBot) -> None:
    fake = intel_bot.fake
    log = await fake.run_command("autointel", {"target": MENTIONS_TEXT, "depth": "deep"})
    final = await _final_report(fake, log)

    for request in message_requests(fake.requests):
        assert_cannot_ping(request)
    shown = "\n".join(response.text() for response in log.messages)
    assert "@everyone" not in shown and "@here" not in shown
    assert "<@123456789012345678>" not in shown and "<@&987654321098765432>" not in shown
    report = IntelReport.model_validate_json(final.file(".json").data)
    assert "@everyone" in report.model_dump_json()  # the files keep the source as it was


async def test_more_urls_than_allowed_are_refused_before_deferring(intel_bot: RunningBot) -> None:
    fake = intel_bot.fake
    urls = " ".join(f"https://example.com/news/{number}" for number in range(6))
    log = await fake.run_command("autointel", {"target": urls})

    assert log.callback is not None and log.callback.callback_type == 4
    assert log.ephemeral and not log.deferred
    assert log.callback.content == "Too many URLs (6); give at most 5 per request."


async def test_a_url_the_guard_refuses_gets_its_reason(intel_bot: RunningBot) -> None:
    fake = intel_bot.fake
    log = await fake.run_command("autointel", {"target": "http://169.254.169.254/latest/meta-data/"})
    answer = await fake.wait_for_response(log, lambda response: "⏳" not in (response.content or "⏳"), timeout=30)

    assert log.deferred
    assert (answer.content or "").startswith("Could not use http://169.254.169.254/latest/meta-data/")
    assert "link-local" in (answer.content or "")
    assert not answer.files


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, "There is nothing to analyse"),
        ({"target": "   "}, "There is nothing to analyse"),
        ({"target": "Far too short to analyse."}, "The text is too short to analyse (5 words)"),
    ],
    ids=["no-input", "blank-target", "too-short"],
)
async def test_bad_input_gets_its_message_ephemerally(intel_bot: RunningBot, options: dict, expected: str) -> None:
    log = await intel_bot.fake.run_command("autointel", options)

    assert log.ephemeral
    assert log.callback is not None and expected in (log.callback.content or "")
    assert not log.deferred


async def test_attached_markdown_file_is_analysed(intel_bot: RunningBot) -> None:
    fake = intel_bot.fake
    attachment = fake.add_attachment("orchard-notes.md", ORCHARD_NOTES_MD.encode(), content_type="text/markdown")
    log = await fake.run_command("autointel", {"file": attachment, "depth": "quick"})
    final = await _final_report(fake, log)

    report = IntelReport.model_validate_json(final.file(".json").data)
    assert [source.label for source in report.sources] == ["orchard-notes.md"]
    assert "orchard-notes.md" in _embed(final, "Intelligence report")["title"]


async def test_binary_attachment_is_refused_clearly(intel_bot: RunningBot) -> None:
    fake = intel_bot.fake
    binary = bytes(range(256)) * 64
    attachment = fake.add_attachment("notes.txt", binary, content_type="application/octet-stream")
    log = await fake.run_command("autointel", {"file": attachment})
    answer = await fake.wait_for_response(log, lambda response: "⏳" not in (response.content or "⏳"), timeout=30)

    assert "notes.txt looks like a binary file, not text." in (answer.content or "")
    assert not answer.files and not answer.embeds
    assert_cannot_ping(answer.request)


async def test_unsupported_file_type_is_refused_before_deferring(intel_bot: RunningBot) -> None:
    fake = intel_bot.fake
    attachment = fake.add_attachment("slides.pptx", b"PK\x03\x04 not text", content_type="application/zip")
    log = await fake.run_command("autointel", {"file": attachment})

    assert log.ephemeral and not log.deferred
    assert log.callback is not None
    assert "slides.pptx: only .txt, .md, .markdown, .html, .htm, .pdf files can be analysed." in (
        log.callback.content or ""
    )


async def test_autointel_works_in_direct_messages(intel_bot: RunningBot) -> None:
    fake = intel_bot.fake
    payload = fake.slash_command_payload("autointel", {"target": HARBOUR_AND_SCHOOLS, "depth": "quick"}, dm=True)
    log = await fake.send_interaction(payload)
    final = await _final_report(fake, log)

    assert IntelReport.model_validate_json(final.file(".json").data).summary


async def test_event_loop_never_stalls_over_100ms_during_reports(intel_bot: RunningBot) -> None:
    fake = intel_bot.fake
    started = time.monotonic()
    first = await fake.run_command("autointel", {"target": LONG_REPORT_TEXT, "depth": "deep"})
    second = await fake.run_command(
        "autointel", {"target": HARBOUR_AND_SCHOOLS, "depth": "standard"}, user=fake.world.admin
    )
    await _final_report(fake, first)
    await _final_report(fake, second)
    elapsed = time.monotonic() - started

    lag = intel_bot.loop_lag.snapshot()
    # The monitor sampled throughout (a stalled loop would also starve it of samples).
    assert lag.samples >= 0.5 * elapsed / intel_bot.loop_lag.interval, (lag.samples, elapsed)
    assert lag.stall_count == 0, f"loop stalls over 100 ms: {lag.stalls}"
    assert lag.max_lag_seconds < 0.1
