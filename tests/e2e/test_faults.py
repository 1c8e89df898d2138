"""Faults with the real bot: storage fills up during a store, an index file is damaged; the process and
what was stored survive.

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
from tests.e2e.texts import FERRY_TEXT, HARBOUR_AND_SCHOOLS, ORCHARD_TEXT

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


async def test_a_corrupt_index_file_is_rebuilt_from_rows_and_nothing_is_lost(
    fake_discord: FakeDiscord, settings: Settings, embedder: Embedder
) -> None:
    import faiss

    configured = bot_settings_for(fake_discord, settings, user_cooldown_seconds=0)
    async with running_bot(fake_discord, configured, embedder=embedder):
        await _report(fake_discord, ORCHARD_TEXT)  # short enough for the semantic layer: indexed
    index_file = configured.data_dir / "cache" / f"{fake_discord.world.guild.id}.faiss"
    assert index_file.exists()
    index_file.write_bytes(b"this is not a FAISS index")

    async with running_bot(fake_discord, configured, embedder=embedder) as running:
        _, other = await _report(fake_discord, FERRY_TEXT)  # a semantic lookup loads the damaged index
        _, again = await _report(fake_discord, ORCHARD_TEXT)
        alive = running.task.done() is False

    assert other.file(".json").data and "Served from cache" not in other.text()
    assert "Served from cache" in again.text()  # the entry stored before the damage is still there
    assert alive
    assert faiss.read_index(str(index_file)).ntotal == 2  # rebuilt from the rows, then saved again
