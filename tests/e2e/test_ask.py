"""``/ask`` end to end: answers from this server's reports, cites them, never sees another server's."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from core.embedder import Embedder
from core.service import NO_ANSWER_TEXT_DM
from core.settings import Settings
from tests.e2e.bot_runner import RunningBot, bot_settings_for, running_bot
from tests.e2e.components import message_buttons, message_id
from tests.e2e.discord_limits import assert_cannot_ping, assert_messages_within_limits
from tests.e2e.fake_discord import FakeDiscord
from tests.e2e.fake_guild import FakeGuild
from tests.e2e.fake_records import InteractionLog, InteractionResponse
from tests.e2e.texts import FERRY_TEXT, ORCHARD_TEXT

REPORT_TIMEOUT = 90.0

ORCHARD_QUESTION = "How much will the apple harvest fall after the frost?"


@pytest.fixture
async def ask_bot(
    fake_discord: FakeDiscord, settings: Settings, embedder: Embedder
) -> AsyncIterator[RunningBot]:
    configured = bot_settings_for(fake_discord, settings, user_cooldown_seconds=0)
    async with running_bot(fake_discord, configured, embedder=embedder) as running:
        yield running


async def _make_report(fake: FakeDiscord, text: str, guild: FakeGuild | None = None) -> int:
    """Run /autointel and return the report number the bot shows."""
    log = await fake.run_command("autointel", {"target": text, "depth": "quick"}, guild=guild)
    final = await fake.wait_for_response(log, lambda r: any(f.filename.endswith(".json") for f in r.files),
                                         timeout=REPORT_TIMEOUT)
    number = re.search(r"Report #(\d+)", final.content or "")
    assert number, final.content
    return int(number.group(1))


async def _ask(fake: FakeDiscord, question: str, guild: FakeGuild | None = None) -> tuple[InteractionLog, InteractionResponse]:
    log = await fake.run_command("ask", {"question": question}, guild=guild)
    answer = await fake.wait_for_response(log, lambda r: bool(r.embeds), timeout=30)
    return log, answer


async def test_ask_cites_the_report_it_answers_from(ask_bot: RunningBot) -> None:
    fake = ask_bot.fake
    orchard_id = await _make_report(fake, ORCHARD_TEXT)
    await _make_report(fake, FERRY_TEXT)

    log, answer = await _ask(fake, ORCHARD_QUESTION)

    assert log.deferred and not log.ephemeral
    embed = answer.embeds[0]
    assert embed["title"] == "Answer"
    assert "30 percent" in embed["description"] and "[1]" in embed["description"]
    assert embed["fields"][0]["name"].endswith(f"· #{orchard_id}")
    assert embed["footer"]["text"] == "Answer quoted from this server's reports"
    assert "ferry" not in answer.text().lower()
    assert f"Open #{orchard_id}" in message_buttons(fake, log)
    assert_cannot_ping(answer.request)
    assert_messages_within_limits([answer.request])


async def test_ask_never_answers_from_another_servers_reports(ask_bot: RunningBot) -> None:
    fake = ask_bot.fake
    other = fake.world.other_guild
    assert other is not None
    await _make_report(fake, ORCHARD_TEXT, guild=other)
    await _make_report(fake, FERRY_TEXT)

    _, here = await _ask(fake, ORCHARD_QUESTION)
    _, there = await _ask(fake, ORCHARD_QUESTION, guild=other)

    assert here.embeds[0]["title"] == "No answer in this server's reports"
    assert "do not contain an answer" in here.embeds[0]["description"]
    assert "orchard" not in here.text().lower() and "30 percent" not in here.text()
    assert there.embeds[0]["title"] == "Answer" and "30 percent" in there.embeds[0]["description"]


async def test_ask_says_plainly_when_no_report_answers(ask_bot: RunningBot) -> None:
    fake = ask_bot.fake
    await _make_report(fake, FERRY_TEXT)

    log, answer = await _ask(fake, "Who won the 1998 football world cup final?")

    embed = answer.embeds[0]
    assert embed["title"] == "No answer in this server's reports"
    assert embed["description"] == "The reports in this server do not contain an answer to that question."
    assert not embed.get("fields") and message_buttons(fake, log) == {}


async def test_ask_before_any_report_says_to_make_one(ask_bot: RunningBot) -> None:
    _, answer = await _ask(ask_bot.fake, ORCHARD_QUESTION)

    assert answer.embeds[0]["description"].startswith("This server has no reports yet")


async def test_the_open_button_under_an_answer_posts_the_cited_report(ask_bot: RunningBot) -> None:
    fake = ask_bot.fake
    orchard_id = await _make_report(fake, ORCHARD_TEXT)
    log, _ = await _ask(fake, ORCHARD_QUESTION)

    opened = await fake.click_button(message_buttons(fake, log)[f"Open #{orchard_id}"]["custom_id"],
                                     message_id=message_id(fake, log))
    report = await fake.wait_for_response(opened, lambda r: bool(r.files), timeout=30)

    assert report.content == f"Report #{orchard_id} on **pasted text** ready."
    assert sorted(item.filename.rsplit(".", 1)[1] for item in report.files) == ["json", "md"]


async def test_ask_in_a_direct_message_draws_only_on_that_users_own_reports(ask_bot: RunningBot) -> None:
    fake = ask_bot.fake
    await _make_report(fake, ORCHARD_TEXT)  # in the server: not the DM user's
    made = await fake.run_command("autointel", {"target": FERRY_TEXT, "depth": "quick"}, dm=True,
                                  user=fake.world.member)
    await fake.wait_for_response(made, lambda r: any(f.filename.endswith(".json") for f in r.files),
                                 timeout=REPORT_TIMEOUT)

    own = await fake.run_command("ask", {"question": "How often will the harbour ferry run?"}, dm=True,
                                 user=fake.world.member)
    own_answer = await fake.wait_for_response(own, lambda r: bool(r.embeds), timeout=30)
    server_topic = await fake.run_command("ask", {"question": ORCHARD_QUESTION}, dm=True, user=fake.world.member)
    server_answer = await fake.wait_for_response(server_topic, lambda r: bool(r.embeds), timeout=30)
    stranger = await fake.run_command("ask", {"question": "How often will the harbour ferry run?"}, dm=True,
                                      user=fake.world.admin)
    stranger_answer = await fake.wait_for_response(stranger, lambda r: bool(r.embeds), timeout=30)

    assert own.deferred and "#2" in own_answer.text()  # their own DM report (#1 is the server's)
    assert "#1" not in own_answer.text() and "#1" not in server_answer.text()
    assert "30 percent" not in server_answer.text()  # the server's orchard report is not theirs
    assert "#2" not in stranger_answer.text()  # another DM user's report is not theirs
    assert "You have no reports here yet" in stranger_answer.text()
    # In a DM the reports are the user's own: no answer speaks of "this server".
    assert own_answer.embeds[0]["footer"]["text"] == "Answer quoted from your reports"
    assert server_answer.embeds[0]["title"] == "No answer in your reports"
    assert server_answer.embeds[0]["description"] == NO_ANSWER_TEXT_DM
    assert not any("server" in answer.text().lower() for answer in (own_answer, server_answer, stranger_answer))
