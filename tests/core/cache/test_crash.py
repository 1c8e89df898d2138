"""A child process storing entries is killed with SIGKILL mid-stream, many times; nothing acknowledged is lost."""

from __future__ import annotations

import asyncio
import random
import signal
import sys
from pathlib import Path

from core.gate import WorkerGate
from core.models import sha256_text
from core.runtime import IntelRuntime
from core.service import AutointelRequest
from tests.core.cache.conftest import Answer
from tests.core.cache.crash_child import (
    GUILDS,
    NS,
    HashEmbedder,
    entry_text,
    open_cache,
    report_text,
    runtime_settings,
)

ROOT = Path(__file__).parents[3]
KILLS = 10


class Acknowledged:
    """What the children reported as done: stores, forgets, and a forget that may have been cut short."""

    def __init__(self) -> None:
        self.stores: dict[int, tuple[int, int]] = {}  # entry id -> (guild, number)
        self.maybe_forgotten: set[int] = set()
        self.reports: dict[int, tuple[int, int]] = {}  # report id -> (tenant, number)

    def read(self, line: str) -> None:
        verb, guild, *rest = line.split()
        if verb == "reported":
            self.reports[int(rest[1])] = (int(guild), int(rest[0]))
        elif verb == "stored":
            self.stores[int(rest[1])] = (int(guild), int(rest[0]))
        elif verb == "forgetting":
            self.maybe_forgotten.add(int(rest[0]))
        elif verb == "forgot":
            self.maybe_forgotten.discard(int(rest[0]))
            self.stores.pop(int(rest[0]), None)


async def run_child_until_killed(
    data_dir: Path, first_number: int, *, lines_before_kill: int, seen: Acknowledged, mode: tuple[str, ...] = ()
) -> int:
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.core.cache.crash_child", str(data_dir), str(first_number), *mode,
        cwd=ROOT, stdout=asyncio.subprocess.PIPE,
    )
    assert child.stdout is not None
    stores = 0
    while stores < lines_before_kill:
        line = (await child.stdout.readline()).decode()
        assert line, "the child stopped on its own"
        seen.read(line)
        stores += line.startswith(("stored", "reported"))
    child.send_signal(signal.SIGKILL)
    for line in (await child.stdout.read()).decode().splitlines():  # written before the kill landed
        seen.read(line)
    await child.wait()
    return first_number + stores + 50  # leave a gap: numbers the killed child may have started


async def test_sigkill_mid_stream_loses_no_acknowledged_store(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    seen = Acknowledged()
    chooser = random.Random(3)
    number = 0
    for _ in range(KILLS):
        number = await run_child_until_killed(data_dir, number, lines_before_kill=chooser.randint(3, 25), seen=seen)

    async with WorkerGate(max_workers=2) as gate:
        storage, cache = await open_cache(data_dir, gate)
        try:
            for entry_id, (guild_id, stored_number) in seen.stores.items():
                if entry_id in seen.maybe_forgotten:
                    continue
                hit = await cache.lookup(guild_id, NS, entry_text(stored_number), model=Answer)
                assert hit is not None and (hit.entry_id, hit.value.text) == (entry_id, str(stored_number))
            for guild_id in GUILDS:
                rows = {row.entry_id for row in await storage.cache.index_rows(guild_id)}
                assert await cache.indexed_entry_ids(guild_id) == rows
        finally:
            await cache.close()
            await storage.close()
    assert len(seen.stores) > KILLS * 3


async def test_sigkill_during_a_burst_of_reports_loses_no_acknowledged_report(tmp_path: Path) -> None:
    """The whole runtime in the child: every report the service acknowledged (cache entry and
    library row) is there after the restart, for the guild and the DM tenant alike."""
    data_dir = tmp_path / "data"
    seen = Acknowledged()
    chooser = random.Random(5)
    number = 0
    for _ in range(3):
        number = await run_child_until_killed(data_dir, number, lines_before_kill=chooser.randint(2, 6), seen=seen,
                                              mode=("reports",))

    assert len(seen.reports) >= 6
    async with IntelRuntime(runtime_settings(data_dir), embedder=HashEmbedder()) as runtime:
        assert runtime.service is not None
        for report_id, (tenant, stored_number) in seen.reports.items():
            saved = await runtime.service.get_report(tenant, report_id)
            assert saved.sources[0].sha256 == sha256_text(report_text(stored_number))
            again = await runtime.service.autointel(
                AutointelRequest(guild_id=tenant, user_id=6, target=report_text(stored_number), depth="quick")
            )
            assert again.cache_hit is not None and again.cache_hit.how == "exact"
            assert again.report_id == report_id
