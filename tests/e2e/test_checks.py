"""Tree-level checks end to end: each refusal is a short ephemeral message; every log line of a command
carries its guild and command."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from bot.logs import JsonFormatter
from core.logcontext import RequestContextFilter
from tests.e2e.bot_runner import RunningBot
from tests.e2e.fake_discord import FakeDiscord
from tests.e2e.fake_records import InteractionLog, InteractionResponse
from tests.e2e.texts import HARBOUR_AND_SCHOOLS

REPORT_TIMEOUT = 90.0


def _has_report_files(response: InteractionResponse) -> bool:
    return any(item.filename.endswith(".json") for item in response.files)


async def _report_sent(fake: FakeDiscord, log: InteractionLog) -> None:
    await fake.wait_for_response(log, _has_report_files, timeout=REPORT_TIMEOUT)


async def _admin_sets(fake: FakeDiscord, key: str, value: str) -> None:
    log = await fake.run_command("settings", {"set": {"key": key, "value": value}}, user=fake.world.admin)
    assert log.callback is not None and (log.callback.content or "").startswith(f"**{key}** is now")


def _refusal(log: InteractionLog) -> str:
    """The immediate, ephemeral reply of a refused command (it was not deferred)."""
    assert log.callback is not None and log.callback.callback_type == 4
    assert log.ephemeral and not log.deferred
    return log.callback.content or ""


async def test_guild_only_command_in_a_dm_gets_an_ephemeral_message(intel_bot: RunningBot) -> None:
    fake = intel_bot.fake

    settings = await fake.run_command("settings", {"show": {}}, user=fake.world.admin, dm=True)
    cache = await fake.run_command("cache", {"stats": {}}, user=fake.world.owner, dm=True)

    assert _refusal(settings) == "This command only works in a server."
    assert _refusal(cache) == "This command only works in a server."


async def test_disabled_command_is_refused_until_an_admin_enables_it(intel_bot: RunningBot) -> None:
    fake = intel_bot.fake
    await _admin_sets(fake, "disabled_commands", "autointel")

    refused = await fake.run_command("autointel", {"target": HARBOUR_AND_SCHOOLS, "depth": "quick"})
    reset = await fake.run_command("settings", {"reset": {"key": "disabled_commands"}}, user=fake.world.admin)
    allowed = await fake.run_command("autointel", {"target": HARBOUR_AND_SCHOOLS, "depth": "quick"})

    assert _refusal(refused) == "/autointel is turned off in this server."
    assert reset.callback is not None and "back to the default" in (reset.callback.content or "")
    assert allowed.deferred and not allowed.ephemeral
    await _report_sent(fake, allowed)


async def test_a_disabled_subcommand_leaves_its_siblings_working(intel_bot: RunningBot) -> None:
    fake = intel_bot.fake
    await _admin_sets(fake, "disabled_commands", "/cache clear")

    clear = await fake.run_command("cache", {"clear": {}}, user=fake.world.admin)
    stats = await fake.run_command("cache", {"stats": {}}, user=fake.world.admin)

    assert _refusal(clear) == "/cache clear is turned off in this server."
    assert stats.deferred


async def test_restricted_channels_refuse_elsewhere_but_settings_still_work(intel_bot: RunningBot) -> None:
    fake, guild = intel_bot.fake, intel_bot.fake.world.guild
    reports = guild.channel("reports")
    await _admin_sets(fake, "allowed_channel_ids", f"<#{reports.id}>")

    elsewhere = await fake.run_command("autointel", {"target": HARBOUR_AND_SCHOOLS, "depth": "quick"})
    status_elsewhere = await fake.run_command("status")
    settings_elsewhere = await fake.run_command("settings", {"show": {}}, user=fake.world.admin)
    in_reports = await fake.run_command(
        "autointel", {"target": HARBOUR_AND_SCHOOLS, "depth": "quick"}, channel=reports
    )

    assert _refusal(elsewhere) == f"I only answer in <#{reports.id}> in this server."
    assert _refusal(status_elsewhere) == f"I only answer in <#{reports.id}> in this server."
    assert settings_elsewhere.callback is not None and settings_elsewhere.callback.embeds
    assert in_reports.deferred
    await _report_sent(fake, in_reports)


async def test_cooldown_refusal_is_ephemeral_and_immediate(intel_bot: RunningBot) -> None:
    fake = intel_bot.fake
    first = await fake.run_command("autointel", {"target": HARBOUR_AND_SCHOOLS, "depth": "quick"})
    await _report_sent(fake, first)

    again = await fake.run_command("autointel", {"target": HARBOUR_AND_SCHOOLS, "depth": "quick"})
    other_user = await fake.run_command(
        "autointel", {"target": HARBOUR_AND_SCHOOLS, "depth": "quick"}, user=fake.world.admin
    )

    message = _refusal(again)
    assert message.startswith("You are going too fast: try again in ") and message.endswith(" seconds.")
    assert 1 <= int(message.split("try again in ")[1].split()[0]) <= 10
    assert other_user.deferred
    await _report_sent(fake, other_user)


@contextmanager
def _json_log_lines() -> Iterator[io.StringIO]:
    """Root-logger lines as the bot writes them with LOG_JSON=true, captured in memory."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestContextFilter())
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(previous_level)


async def test_json_log_lines_of_a_command_carry_its_guild_and_name(intel_bot: RunningBot) -> None:
    fake, guild_id = intel_bot.fake, intel_bot.fake.world.guild.id

    with _json_log_lines() as stream:
        log = await fake.run_command("autointel", {"target": HARBOUR_AND_SCHOOLS, "depth": "quick"})
        await _report_sent(fake, log)
        refused = await fake.run_command("settings", {"show": {}}, user=fake.world.member)
        await fake.wait_for(lambda: "/settings show finished" in stream.getvalue(), what="the refusal's log line")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]

    assert refused.ephemeral
    by_message = {line["message"].split(":")[0]: line for line in lines}
    report_line = next(line for line in lines if line["message"].startswith("/autointel for user"))
    refusal_line = next(line for line in lines if line["message"].startswith("command /settings show refused"))
    assert (report_line["guild_id"], report_line["command"]) == (guild_id, "autointel")
    assert (refusal_line["guild_id"], refusal_line["command"]) == (guild_id, "settings show")
    assert by_message["/autointel finished"]["command"] == "autointel"
