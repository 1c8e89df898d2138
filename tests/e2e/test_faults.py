"""Faults with the real bot: storage fills up or turns read-only during a store, an index file is
damaged; the process and what was stored survive.

"The disk is full" is made real with SQLite's own limit: ``PRAGMA max_page_count`` set to the
database's current size makes every write that needs a new page fail with ``SQLITE_FULL``
("database or disk is full"), exactly as a full disk does.

"The data directory is read-only" needs a process that file modes bind (root ignores them), so that
test runs the bot as its own process without root's permission bypass (:mod:`tests.e2e.permission_bound_bot`)
and takes the write permission away from its data directory while it runs.
"""

from __future__ import annotations

import re
import stat
from pathlib import Path

from core.embedder import Embedder
from core.service import STORE_FAILED_NOTICE
from core.settings import Settings
from tests.e2e.bot_runner import bot_settings_for, running_bot
from tests.e2e.fake_discord import FakeDiscord
from tests.e2e.fake_guild import FakeGuild
from tests.e2e.fake_records import InteractionLog, InteractionResponse
from tests.e2e.permission_bound_bot import bot_process
from tests.e2e.texts import FERRY_TEXT, HARBOUR_AND_SCHOOLS, ORCHARD_TEXT

REPORT_TIMEOUT = 120.0
NO_PAGE_LIMIT = 1_073_741_823


def _has_report(response: InteractionResponse) -> bool:
    return any(item.filename.endswith(".json") for item in response.files)


async def _report(
    fake: FakeDiscord, text: str, guild: FakeGuild | None = None
) -> tuple[InteractionLog, InteractionResponse]:
    log = await fake.run_command("autointel", {"target": text, "depth": "quick"}, guild=guild)
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


def _set_writable(tree: Path, *, writable: bool) -> None:
    for path in [tree, *tree.rglob("*")]:
        mode = path.stat().st_mode
        path.chmod(mode | stat.S_IWUSR if writable else mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


async def test_a_read_only_data_directory_during_stores_still_gives_reports_and_loses_nothing(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    async with FakeDiscord() as fake, bot_process(fake, data_dir=data_dir, USER_COOLDOWN_SECONDS="0") as bot:
        other = fake.world.other_guild
        assert other is not None
        _, before = await _report(fake, ORCHARD_TEXT)
        _set_writable(data_dir, writable=False)
        _, here = await _report(fake, FERRY_TEXT)
        _, first_elsewhere = await _report(fake, HARBOUR_AND_SCHOOLS, guild=other)  # a new index file
        alive = bot.running
        exit_code = await bot.stop()  # closes while read-only: the index files cannot be written
    read_only_log = bot.log()
    _set_writable(data_dir, writable=True)

    async with FakeDiscord() as fake, bot_process(fake, data_dir=data_dir, USER_COOLDOWN_SECONDS="0") as bot:
        again = [(await _report(fake, text, guild))[1]
                 for text, guild in ((ORCHARD_TEXT, None), (FERRY_TEXT, None), (HARBOUR_AND_SCHOOLS, other))]
        await bot.stop()

    for response in (before, here, first_elsewhere):
        assert response.file(".json").data and "Traceback" not in response.text()
    assert alive and exit_code == 0, read_only_log[-3000:]
    # The fault hit the bot's writes: an index file could not be written (logged, not shown) ...
    assert "could not save the cache index" in read_only_log and "Permission denied" in read_only_log
    # ... while the rows went through the database file the bot already had open: stored, so no
    # "could not be saved" note (it would be false), and the next start rebuilds the index from them.
    assert STORE_FAILED_NOTICE not in _notes(here) + _notes(first_elsewhere)
    assert [("Served from cache" in response.text()) for response in again] == [True, True, True]
