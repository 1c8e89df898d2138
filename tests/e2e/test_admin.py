"""``/settings`` and ``/cache`` end to end: admins change the bot for their server, members cannot."""

from __future__ import annotations

import re
from typing import Any

import pytest

from core.embedder import Embedder
from core.models import IntelReport
from core.settings import Settings
from tests.e2e.bot_runner import RunningBot, bot_settings_for, running_bot
from tests.e2e.fake_discord import FakeDiscord
from tests.e2e.fake_guild import FakeUser
from tests.e2e.fake_records import InteractionLog, InteractionResponse
from tests.e2e.texts import HARBOUR_AND_SCHOOLS

REPORT_TIMEOUT = 90.0
MANAGE_SERVER_REFUSAL = "You need the Manage Server permission to use this command."


def _has_report_files(response: InteractionResponse) -> bool:
    return any(item.filename.endswith(".json") for item in response.files)


async def _report(fake: FakeDiscord, log: InteractionLog) -> IntelReport:
    final = await fake.wait_for_response(log, _has_report_files, timeout=REPORT_TIMEOUT)
    return IntelReport.model_validate_json(final.file(".json").data)


async def _settings_set(fake: FakeDiscord, key: str, value: str, *, user: FakeUser | None = None) -> str:
    log = await fake.run_command("settings", {"set": {"key": key, "value": value}}, user=user or fake.world.admin)
    assert log.ephemeral and log.callback is not None
    return log.callback.content or ""


async def _answer(fake: FakeDiscord, log: InteractionLog) -> InteractionResponse:
    """The message that answers a deferred command (its first edit), or the immediate reply."""
    if log.deferred:
        return await fake.wait_for_response(log, lambda response: response.kind == "edit_original")
    assert log.callback is not None
    return log.callback


def _fields(response: InteractionResponse) -> dict[str, str]:
    return {field["name"]: field["value"] for embed in response.embeds for field in embed.get("fields", [])}


def _buttons(fake: FakeDiscord, message_id: int) -> dict[str, dict[str, Any]]:
    rows = fake.messages[message_id].get("components") or []
    return {button["label"]: button for row in rows for button in row["components"]}


# --- /settings ----------------------------------------------------------------------------------


async def test_admin_sets_default_depth_and_the_next_autointel_uses_it(intel_bot: RunningBot) -> None:
    fake = intel_bot.fake

    reply = await _settings_set(fake, "default_depth", "quick")
    log = await fake.run_command("autointel", {"target": HARBOUR_AND_SCHOOLS})

    assert reply == "**default_depth** is now quick (was standard)."
    assert (await _report(fake, log)).depth == "quick"


@pytest.mark.parametrize(
    "options",
    [
        {"show": {}},
        {"set": {"key": "default_depth", "value": "deep"}},
        {"reset": {}},
    ],
    ids=["show", "set", "reset"],
)
async def test_member_without_manage_server_is_refused_settings(intel_bot: RunningBot, options: dict) -> None:
    fake = intel_bot.fake

    log = await fake.run_command("settings", options, user=fake.world.member)

    assert log.ephemeral and log.callback is not None
    assert log.callback.content == MANAGE_SERVER_REFUSAL
    effective = await intel_bot.bot.runtime.guild_settings.effective(fake.world.guild.id)
    assert effective.default_depth == "standard"


@pytest.mark.parametrize("subcommand", ["stats", "clear", "forget"])
async def test_member_without_manage_server_is_refused_cache(intel_bot: RunningBot, subcommand: str) -> None:
    fake = intel_bot.fake
    options = {"entry_id": 1} if subcommand == "forget" else {}

    log = await fake.run_command("cache", {subcommand: options}, user=fake.world.member)

    assert log.ephemeral and log.callback is not None
    assert log.callback.content == MANAGE_SERVER_REFUSAL
    assert not log.deferred


async def test_admin_commands_are_hidden_from_members_and_guild_only(intel_bot: RunningBot) -> None:
    synced = {command["name"]: command for command in intel_bot.fake.commands[None]}

    for name in ("settings", "cache"):
        assert str(synced[name]["default_member_permissions"]) == "32"  # Manage Server
        assert synced[name]["contexts"] == [0]  # guild only


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("default_depth", "fast", "default_depth must be one of: quick, standard, deep."),
        ("cache_strictness", "paranoid", "cache_strictness must be one of: lenient, balanced, strict."),
        ("cache_ttl_days", "soon", "cache_ttl_days must be a number, not 'soon'."),
        ("cache_similarity_threshold", "1.5", "Invalid value for cache_similarity_threshold: Input should be less than or equal to 1."),
        ("llm_model", "someone/expensive-model", "llm_model must be one of: openai/gpt-4o-mini."),
        ("disabled_commands", "settings", "/settings cannot be disabled: it is how admins change settings."),
        ("disabled_commands", "/launch", "There is no /launch command."),
        ("allowed_channel_ids", "general", "'general' is not a channel: mention it (#name) or give its id."),
        ("allowed_channel_ids", "<#42>", "There is no text channel <#42> in this server."),
        ("url_denylist", "example.com bad_domain!", "'bad_domain!' is not a domain name such as example.com."),
        ("colour", "blue", "There is no setting called 'colour'; pick one from the list."),
    ],
)
async def test_bad_value_gets_a_clear_ephemeral_message(intel_bot: RunningBot, key: str, value: str, expected: str) -> None:
    reply = await _settings_set(intel_bot.fake, key, value)

    assert reply.startswith(expected)
    overrides = await intel_bot.bot.runtime.guild_settings.get(intel_bot.fake.world.guild.id)
    assert overrides.model_dump(exclude_defaults=True) == {}


async def test_lists_accept_mentions_names_and_domains(intel_bot: RunningBot) -> None:
    fake, guild = intel_bot.fake, intel_bot.fake.world.guild
    reports, off_topic = guild.channel("reports"), guild.channel("off-topic")

    channels = await _settings_set(fake, "allowed_channel_ids", f"<#{reports.id}>, {off_topic.id}")
    domains = await _settings_set(fake, "url_denylist", "https://Ads.Example.com/path tracker.net")
    commands = await _settings_set(fake, "disabled_commands", "/status /help")

    assert channels == f"**allowed_channel_ids** is now <#{reports.id}>, <#{off_topic.id}> (was everywhere)."
    assert domains == "**url_denylist** is now ads.example.com, tracker.net (was none)."
    assert commands == "**disabled_commands** is now /status, /help (was none)."


async def test_allowlisted_llm_model_is_accepted_and_offered(
    fake_discord: FakeDiscord, settings: Settings, embedder: Embedder
) -> None:
    bot_settings = bot_settings_for(fake_discord, settings, llm_allowed_models=["acme/small", "acme/large"])
    async with running_bot(fake_discord, bot_settings, embedder=embedder):
        choices = await fake_discord.autocomplete(
            "settings", {"set": {"key": "llm_model", "value": ""}}, focused="value", user=fake_discord.world.admin
        )
        reply = await _settings_set(fake_discord, "llm_model", "acme/large")

    assert [choice["value"] for choice in choices] == ["openai/gpt-4o-mini", "acme/small", "acme/large"]
    assert reply == "**llm_model** is now acme/large (was openai/gpt-4o-mini)."


async def test_autocomplete_offers_keys_and_the_values_of_a_key(intel_bot: RunningBot) -> None:
    fake = intel_bot.fake
    admin = fake.world.admin

    keys = await fake.autocomplete("settings", {"set": {"key": "cache", "value": ""}}, focused="key", user=admin)
    depths = await fake.autocomplete(
        "settings", {"set": {"key": "default_depth", "value": ""}}, focused="value", user=admin
    )
    commands = await fake.autocomplete(
        "settings", {"set": {"key": "disabled_commands", "value": "/status "}}, focused="value", user=admin
    )
    reset_keys = await fake.autocomplete("settings", {"reset": {"key": "url"}}, focused="key", user=admin)

    assert [choice["value"] for choice in keys] == [
        "cache_strictness", "cache_similarity_threshold", "cache_llm_verify", "cache_ttl_days"]
    assert [choice["value"] for choice in depths] == ["quick", "standard", "deep"]
    offered = [choice["value"] for choice in commands]
    assert "/status autointel" in offered and "/status cache clear" in offered
    assert not any("settings" in value for value in offered)
    assert [choice["value"] for choice in reset_keys] == ["url_allowlist", "url_denylist"]


async def test_show_marks_overrides_and_reset_restores_the_default(intel_bot: RunningBot) -> None:
    fake = intel_bot.fake
    await _settings_set(fake, "user_cooldown_seconds", "0")
    await _settings_set(fake, "cache_strictness", "strict")

    shown = _fields(await _answer(fake, await fake.run_command("settings", {"show": {}}, user=fake.world.admin)))
    reset = await fake.run_command("settings", {"reset": {"key": "cache_strictness"}}, user=fake.world.admin)
    after = _fields(await _answer(fake, await fake.run_command("settings", {"show": {}}, user=fake.world.admin)))

    assert shown["user_cooldown_seconds ✏️"].startswith("0 seconds")
    assert shown["cache_strictness ✏️"].startswith("strict")
    assert shown["default_depth"].startswith("standard")
    assert reset.callback is not None and reset.callback.content == "**cache_strictness** is back to the default: balanced."
    assert after["cache_strictness"].startswith("balanced")
    assert "user_cooldown_seconds ✏️" in after


# --- /cache -------------------------------------------------------------------------------------


async def _cached_twice(fake: FakeDiscord) -> str:
    """One report, then the same text by another user: the second is served from the cache.

    Returns what the second report's "Served from cache" field shows the user.
    """
    first = await fake.run_command("autointel", {"target": HARBOUR_AND_SCHOOLS, "depth": "quick"})
    await _report(fake, first)
    second = await fake.run_command("autointel", {"target": HARBOUR_AND_SCHOOLS, "depth": "quick"}, user=fake.world.owner)
    await _report(fake, second)
    final = await fake.wait_for_response(second, _has_report_files, timeout=REPORT_TIMEOUT)
    return _fields(final)["Served from cache"]


async def test_cache_stats_shows_a_hit_after_a_repeated_autointel(intel_bot: RunningBot) -> None:
    fake = intel_bot.fake
    await _cached_twice(fake)

    log = await fake.run_command("cache", {"stats": {}}, user=fake.world.admin)
    fields = _fields(await _answer(fake, log))

    assert log.ephemeral
    assert fields["Entries"].startswith("1 ")
    assert fields["Hits"] == "1 (1 exact, 0 semantic); 1 misses"
    assert fields["Last 24 hours"] == "1 hits of 2 lookups (50%)"
    assert fields["Last 7 days"] == "1 hits of 2 lookups (50%)"
    assert fields["Size on disk"].endswith(("KiB", "bytes"))


async def test_cache_clear_needs_the_invokers_confirmation(intel_bot: RunningBot) -> None:
    fake, admin = intel_bot.fake, intel_bot.fake.world.admin
    cache, guild_id = intel_bot.bot.runtime.cache, fake.world.guild.id
    assert cache is not None
    await _cached_twice(fake)

    ask = await fake.run_command("cache", {"clear": {}}, user=admin)
    message_id = int(fake.original_message(ask)["id"])
    buttons = _buttons(fake, message_id)
    entries_before_press = (await cache.stats(guild_id)).entries
    stranger = await fake.click_button(buttons["Clear the cache"]["custom_id"], message_id=message_id, user=fake.world.owner)
    entries_after_stranger = (await cache.stats(guild_id)).entries
    confirm = await fake.click_button(buttons["Clear the cache"]["custom_id"], message_id=message_id, user=admin)

    assert ask.ephemeral and "Delete **every** cached report" in (ask.callback.content if ask.callback else "")
    assert entries_before_press == 1 and entries_after_stranger == 1
    assert stranger.ephemeral and stranger.callback is not None
    assert stranger.callback.content == "Only the admin who ran /cache clear can press these buttons."
    assert confirm.callback is not None and confirm.callback.content == "Cache cleared: 1 entries deleted."
    assert all(button["disabled"] for button in _buttons(fake, message_id).values())
    assert (await cache.stats(guild_id)).entries == 0


async def test_cache_clear_cancel_keeps_the_entries(intel_bot: RunningBot) -> None:
    fake, admin = intel_bot.fake, intel_bot.fake.world.admin
    await _cached_twice(fake)

    ask = await fake.run_command("cache", {"clear": {}}, user=admin)
    message_id = int(fake.original_message(ask)["id"])
    cancel = await fake.click_button(_buttons(fake, message_id)["Cancel"]["custom_id"], message_id=message_id, user=admin)
    stats = _fields(await _answer(fake, await fake.run_command("cache", {"stats": {}}, user=admin)))

    assert cancel.callback is not None and cancel.callback.content == "Cancelled: the cache was not touched."
    assert stats["Entries"].startswith("1 ")


async def test_cache_clear_times_out_with_its_buttons_disabled(intel_bot: RunningBot) -> None:
    fake = intel_bot.fake
    intel_bot.bot.get_cog("Admin").confirm_timeout_seconds = 0.3  # type: ignore[union-attr]

    ask = await fake.run_command("cache", {"clear": {}}, user=fake.world.admin)
    message_id = int(fake.original_message(ask)["id"])
    timed_out = await fake.wait_for_response(ask, lambda response: "Timed out" in (response.content or ""))

    assert timed_out.content == "Timed out: the cache was not touched."
    assert all(button["disabled"] for button in _buttons(fake, message_id).values())


async def test_cache_forget_removes_one_entry_by_its_id(intel_bot: RunningBot) -> None:
    fake, admin = intel_bot.fake, intel_bot.fake.world.admin
    cache, guild_id = intel_bot.bot.runtime.cache, fake.world.guild.id
    assert cache is not None
    served = await _cached_twice(fake)
    match = re.search(r"exact match, similarity 1\.00, \d+ s old, cache entry #(\d+)$", served)
    assert match, served
    entry_id = int(match.group(1))  # what the user reads on the cached report

    forgotten = await _answer(fake, await fake.run_command("cache", {"forget": {"entry_id": entry_id}}, user=admin))
    again = await _answer(fake, await fake.run_command("cache", {"forget": {"entry_id": entry_id}}, user=admin))

    assert forgotten.content == f"Cache entry #{entry_id} deleted."
    assert again.content == f"This server's cache has no entry #{entry_id}."
    assert (await cache.stats(guild_id)).entries == 0
