"""The bot as a whole against the fake Discord: command sync, the error handler, permissions seen by
commands, and the interaction kinds later commands will use (buttons, autocomplete)."""

from __future__ import annotations

import discord
from discord import app_commands

from cogs.errors import UNEXPECTED_ERROR_MESSAGE
from core.embedder import Embedder
from core.settings import Settings
from tests.e2e.bot_runner import RunningBot, bot_settings_for, running_bot
from tests.e2e.discord_limits import assert_cannot_ping, message_requests
from tests.e2e.fake_discord import FakeDiscord

_OPTION_STRING, _OPTION_ATTACHMENT = 3, 11


async def _add_commands(running: RunningBot, *commands: app_commands.Command) -> None:
    for command in commands:
        running.bot.tree.add_command(command)
    await running.bot.tree.sync()


async def test_autointel_is_synced_globally_with_its_options(intel_bot: RunningBot) -> None:
    commands = intel_bot.fake.commands
    assert list(commands) == [None]
    autointel = next(command for command in commands[None] if command["name"] == "autointel")
    options = {option["name"]: option for option in autointel["options"]}
    assert options["target"]["type"] == _OPTION_STRING
    assert [choice["value"] for choice in options["depth"]["choices"]] == ["quick", "standard", "deep"]
    assert options["file"]["type"] == _OPTION_ATTACHMENT


async def test_dev_guild_id_syncs_commands_to_that_guild_only(
    fake_discord: FakeDiscord, settings: Settings, embedder: Embedder
) -> None:
    guild_id = fake_discord.world.guild.id
    dev_settings = bot_settings_for(fake_discord, settings, dev_guild_id=guild_id)
    async with running_bot(fake_discord, dev_settings, embedder=embedder):
        assert list(fake_discord.commands) == [guild_id]
        assert "autointel" in {command["name"] for command in fake_discord.commands[guild_id]}
        log = await fake_discord.run_command("autointel", {"target": "Far too short to analyse."})
        assert log.callback is not None and "too short to analyse" in (log.callback.content or "")


async def test_a_broken_extension_is_logged_and_the_rest_still_load(
    fake_discord: FakeDiscord, bot_settings: Settings, embedder: Embedder
) -> None:
    extensions = ("cogs.errors", "cogs.does_not_exist", "cogs.autointel")
    async with running_bot(fake_discord, bot_settings, embedder=embedder, extensions=extensions) as running:
        assert list(running.bot.failed_extensions) == ["cogs.does_not_exist"]
        assert {"Autointel", "ErrorHandler"} <= set(running.bot.cogs)


async def test_unexpected_error_gets_a_generic_ephemeral_reply_without_details(intel_bot: RunningBot) -> None:
    @app_commands.command(name="explode", description="raises")
    async def explode(interaction: discord.Interaction) -> None:
        raise RuntimeError("internal detail: /srv/secret path")

    await _add_commands(intel_bot, explode)
    log = await intel_bot.fake.run_command("explode")

    assert log.ephemeral
    assert log.callback is not None and log.callback.content == UNEXPECTED_ERROR_MESSAGE
    assert all("secret" not in response.text() for response in log.responses)


async def test_member_without_manage_server_is_refused_and_admin_is_not(intel_bot: RunningBot) -> None:
    @app_commands.command(name="admin-only", description="needs Manage Server")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def admin_only(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("done", ephemeral=True)

    await _add_commands(intel_bot, admin_only)
    fake = intel_bot.fake
    refused = await fake.run_command("admin-only", user=fake.world.member)
    allowed = await fake.run_command("admin-only", user=fake.world.admin)

    assert refused.ephemeral and refused.callback is not None
    assert refused.callback.content == "You need the Manage Server permission to use this command."
    assert allowed.callback is not None and allowed.callback.content == "done"


async def test_commands_see_channel_permissions_of_the_guild(intel_bot: RunningBot) -> None:
    @app_commands.command(name="whereami", description="reports what the user may do here")
    async def whereami(interaction: discord.Interaction) -> None:
        permissions = interaction.permissions
        channel = interaction.channel
        name = getattr(channel, "name", "?")
        await interaction.response.send_message(
            f"{name} view={permissions.view_channel} manage={permissions.manage_guild}", ephemeral=True
        )

    await _add_commands(intel_bot, whereami)
    fake, guild = intel_bot.fake, intel_bot.fake.world.guild
    member_general = await fake.run_command("whereami", user=fake.world.member)
    member_hidden = await fake.run_command("whereami", user=fake.world.member, channel=guild.channel("admin-only"))
    admin_hidden = await fake.run_command("whereami", user=fake.world.admin, channel=guild.channel("admin-only"))

    assert [log.callback.content for log in (member_general, member_hidden, admin_hidden) if log.callback] == [
        "general view=True manage=False",
        "admin-only view=False manage=False",
        "admin-only view=True manage=True",
    ]
    bot_guild = intel_bot.bot.get_guild(guild.id)
    assert bot_guild is not None
    assert {"general", "reports", "off-topic", "admin-only"} <= {channel.name for channel in bot_guild.text_channels}
    assert {"Text Channels", "Staff"} == {category.name for category in bot_guild.categories}


async def test_button_click_reaches_the_view_and_edits_the_message(intel_bot: RunningBot) -> None:
    class Pager(discord.ui.View):
        @discord.ui.button(label="Next", custom_id="test:next")
        async def next_page(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
            await interaction.response.edit_message(content="page 2")

    @app_commands.command(name="pages", description="a paginated answer")
    async def pages(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("page 1", view=Pager())

    await _add_commands(intel_bot, pages)
    fake = intel_bot.fake
    command = await fake.run_command("pages")
    message_id = int(fake.original_message(command)["id"])
    click = await fake.click_button("test:next", message_id=message_id)

    assert click.callback is not None and click.callback.callback_type == 7
    assert click.callback.content == "page 2"
    assert fake.messages[message_id]["content"] == "page 2"


async def test_autocomplete_returns_the_choices_the_command_offers(intel_bot: RunningBot) -> None:
    async def suggest(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=name, value=name) for name in ("quick", "deep") if name.startswith(current)]

    @app_commands.command(name="pick", description="autocompleted")
    @app_commands.autocomplete(mode=suggest)
    async def pick(interaction: discord.Interaction, mode: str) -> None:
        await interaction.response.send_message(mode)

    await _add_commands(intel_bot, pick)
    choices = await intel_bot.fake.autocomplete("pick", {"mode": "qu"}, focused="mode")

    assert choices == [{"name": "quick", "value": "quick"}]


async def test_every_reply_in_these_flows_sets_allowed_mentions_none(intel_bot: RunningBot) -> None:
    log = await intel_bot.fake.run_command("autointel", {"target": "@everyone https://example.com"})

    assert log.callback is not None
    for request in message_requests(intel_bot.fake.requests):
        assert_cannot_ping(request)


async def test_bot_resumes_after_the_gateway_drops_and_keeps_answering(intel_bot: RunningBot) -> None:
    fake = intel_bot.fake
    await fake.disconnect(code=4000)
    await fake.wait_for(lambda: fake.resume_count == 1, timeout=30, what="a RESUME")

    log = await fake.run_command("autointel", {"target": "Far too short, after the resume."})
    assert fake.identify_count == 1
    assert log.callback is not None and "too short to analyse" in (log.callback.content or "")
