"""Faults with the real bot: storage fills up during a store; the process and what was stored survive.

The data directory cannot be made read-only for these tests (they may run as root, which ignores
file modes), so "the disk is full" is made real with SQLite's own limit: ``PRAGMA max_page_count``
set to the database's current size makes every write that needs a new page fail with
``SQLITE_FULL`` ("database or disk is full"), exactly as a full disk does.
"""

from __future__ import annotations

import re

from core.embedder import Embedder
from core.service import STORE_FAILED_NOTICE
from core.settings import Settings
from tests.e2e.bot_runner import bot_settings_for, running_bot
from tests.e2e.fake_discord import FakeDiscord
from tests.e2e.fake_records import InteractionLog, InteractionResponse
from tests.e2e.texts import HARBOUR_AND_SCHOOLS, ORCHARD_TEXT

REPORT_TIMEOUT = 120.0
NO_PAGE_LIMIT = 1_073_741_823


def _has_report(response: InteractionResponse) -> bool:
    return any(item.filename.endswith(".json") for item in response.files)


async def _report(fake: FakeDiscord, text: str) -> tuple[InteractionLog, InteractionResponse]:
    log = await fake.run_command("autointel", {"target": text, "depth": "quick"})
    return log, await fake.wait_for_response(log, _has_report, timeout=REPORT_TIMEOUT)


def _notes(response: InteractionResponse) -> str:
    return " ".join(field["value"] for embed in response.embeds for field in embed.get("fields", [])
                    if field["name"] == "Note").replace("\\", "")


async def test_full_storage_during_a_store_still_gives_the_report_with_a_note_and_loses_nothing(
    fake_discord: FakeDiscord, settings: Settings, embedder: Embedder
) -> None:
    configured = bot_settings_for(fake_discord, settings, user_cooldown_seconds=0)
    async with running_bot(fake_discord, configured, embedder=embedder) as running:
        _, stored = await _report(fake_discord, HARBOUR_AND_SCHOOLS)
        backend = running.bot.runtime.storage.backend  # SQLite: one connection, so the limit applies to it
        async with backend.reading() as database:
            pages = int(await database.fetchval("PRAGMA page_count"))
            await database.fetchval(f"PRAGMA max_page_count = {pages}")  # the disk is now full

        _, unsaved = await _report(fake_discord, ORCHARD_TEXT)

        async with backend.reading() as database:
            await database.fetchval(f"PRAGMA max_page_count = {NO_PAGE_LIMIT}")  # space freed again
        _, again = await _report(fake_discord, HARBOUR_AND_SCHOOLS)
        alive = running.task.done() is False

    assert STORE_FAILED_NOTICE in _notes(unsaved)
    assert "Traceback" not in (unsaved.content or "") and unsaved.file(".json").data
    assert alive
    assert re.search(r"Report #1\b", stored.content or "")
    assert "Served from cache" in again.text() and "exact match" in again.text()  # stored before: kept
