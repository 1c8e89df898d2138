"""``/intel history`` and ``/intel search`` end to end: list, page, search and open this server's reports."""

from __future__ import annotations

from core.models import EngineInfo, IntelReport, KeyInsight, SourceInfo
from core.reports import ReportLibrary
from tests.e2e.bot_runner import RunningBot
from tests.e2e.components import message_buttons, message_id
from tests.e2e.discord_limits import assert_cannot_ping, assert_messages_within_limits
from tests.e2e.fake_discord import FakeDiscord
from tests.e2e.fake_records import InteractionLog, InteractionResponse

TOPICS = [
    ("Tram ridership", "Ridership on the Riverton tram rose 18 percent after the second line opened."),
    ("Coffee harvest", "A severe frost destroyed a fifth of the arabica trees in Minas Gerais."),
    ("Solar growth", "Panel prices fell by 40 percent, which made rooftop solar profitable for households."),
    ("Teacher shortage", "Seventeen primary schools started the year with at least one vacant teaching post."),
    ("Harbour noise", "Residents near the quay complain that night-time loading noise has doubled."),
    ("Orchard frost", "A late frost in April cost the Vale orchards a third of their apple blossom."),
]


def _report(title: str, sentence: str) -> IntelReport:
    return IntelReport(
        depth="quick",
        sources=[SourceInfo(kind="url", label=title, url=f"https://example.org/{title.split()[0].lower()}",
                            title=title, sha256="0" * 64, characters=len(sentence), words=len(sentence.split()))],
        summary=f"{sentence} @everyone should read this.",
        key_insights=[KeyInsight(insight=sentence, evidence=sentence, importance=0.8)],
        engine=EngineInfo(name="local", model="all-MiniLM-L6-v2"),
    )


def _library(intel_bot: RunningBot) -> ReportLibrary:
    assert intel_bot.bot.runtime.reports is not None
    return intel_bot.bot.runtime.reports


async def _add_topics(intel_bot: RunningBot, guild_id: int) -> list[int]:
    return [await _library(intel_bot).add(guild_id=guild_id, user_id=1, report=_report(*topic)) for topic in TOPICS]


async def _answer(fake: FakeDiscord, log: InteractionLog) -> InteractionResponse:
    return await fake.wait_for_response(log, lambda r: bool(r.embeds) or "no report" in (r.content or "").lower(),
                                        timeout=30)


async def test_history_lists_newest_first_and_pages_for_the_invoker(intel_bot: RunningBot) -> None:
    fake = intel_bot.fake
    ids = await _add_topics(intel_bot, fake.world.guild.id)
    log = await fake.run_command("intel", {"history": {}})
    first = await _answer(fake, log)

    names = [field["name"] for field in first.embeds[0]["fields"]]
    assert names[0] == f"#{ids[-1]} · Orchard frost" and len(names) == 5
    assert first.embeds[0]["footer"]["text"] == "Page 1/2 · 6 reports · open one with the buttons"
    await fake.click_button(message_buttons(fake, log)["Next"]["custom_id"], message_id=message_id(fake, log))
    assert [field["name"] for field in fake.original_message(log)["embeds"][0]["fields"]] == [f"#{ids[0]} · Tram ridership"]
    assert f"Open #{ids[0]}" in message_buttons(fake, log)
    assert_messages_within_limits([first.request])


async def test_history_open_button_posts_the_stored_report_with_its_files(intel_bot: RunningBot) -> None:
    fake = intel_bot.fake
    ids = await _add_topics(intel_bot, fake.world.guild.id)
    log = await fake.run_command("intel", {"history": {}})
    await _answer(fake, log)

    opened = await fake.click_button(message_buttons(fake, log)[f"Open #{ids[-1]}"]["custom_id"],
                                     message_id=message_id(fake, log))
    report = await fake.wait_for_response(opened, lambda r: bool(r.files), timeout=30)

    assert report.content == f"Report #{ids[-1]} on **Orchard frost** ready."
    assert IntelReport.model_validate_json(report.file(".json").data).summary.startswith("A late frost in April")
    assert report.embeds[0]["title"] == "Intelligence report: Orchard frost"
    assert "@everyone" not in report.text()
    assert_cannot_ping(report.request)


async def test_history_open_button_refuses_other_users(intel_bot: RunningBot) -> None:
    fake = intel_bot.fake
    ids = await _add_topics(intel_bot, fake.world.guild.id)
    log = await fake.run_command("intel", {"history": {}})
    await _answer(fake, log)

    click = await fake.click_button(message_buttons(fake, log)[f"Open #{ids[-1]}"]["custom_id"],
                                    message_id=message_id(fake, log), user=fake.world.admin)

    assert click.ephemeral and not click.deferred


async def test_history_of_a_server_lists_only_its_own_reports(intel_bot: RunningBot) -> None:
    fake = intel_bot.fake
    other = fake.world.other_guild
    assert other is not None
    await _add_topics(intel_bot, fake.world.guild.id)
    log = await fake.run_command("intel", {"history": {}}, guild=other)

    answer = await fake.wait_for_response(log, lambda r: bool(r.content) and "⏳" not in (r.content or ""), timeout=30)

    assert answer.content == "This server has no reports yet: run /autointel to make one."
    assert not answer.embeds


async def test_search_finds_the_report_about_the_query(intel_bot: RunningBot) -> None:
    fake = intel_bot.fake
    ids = await _add_topics(intel_bot, fake.world.guild.id)
    await _library(intel_bot).add(guild_id=fake.world.other_guild.id if fake.world.other_guild else 0, user_id=1,
                                  report=_report("Secret coffee notes", "Frost hit the arabica coffee crop hard."))
    log = await fake.run_command("intel", {"search": {"query": "frost damage to coffee plants"}})
    answer = await _answer(fake, log)

    fields = answer.embeds[0]["fields"]
    assert fields[0]["name"].startswith(f"#{ids[1]} · Coffee harvest (similarity ")
    assert "arabica trees" in fields[0]["value"]
    assert "Secret coffee notes" not in answer.text()
    assert f"Open #{ids[1]}" in message_buttons(fake, log)


async def test_search_with_no_match_says_so(intel_bot: RunningBot) -> None:
    fake = intel_bot.fake
    await _add_topics(intel_bot, fake.world.guild.id)
    log = await fake.run_command("intel", {"search": {"query": "quantum chromodynamics lattice simulations"}})
    answer = await _answer(fake, log)

    assert answer.content == "No report in this server matches “quantum chromodynamics lattice simulations”."
