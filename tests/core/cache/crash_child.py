"""Child process for the crash test: stores entries forever, printing each acknowledged store.

Run as ``python -m tests.core.cache.crash_child DATA_DIR FIRST_NUMBER [reports]``.  The parent kills
it with SIGKILL at a random moment.  With ``reports`` it runs the whole runtime instead and asks
:meth:`core.service.IntelService.autointel` for reports (each stored in the cache and the report
library), printing each one the service acknowledged.  It uses :class:`HashEmbedder` (a deterministic stand-in) because
loading MiniLM in every one of the many children would dominate the test's run time; what the
crash test checks (rows committed, index files written atomically and reconciled) does not depend
on what the vectors mean.  This file is a process entry point of its own, hence ``asyncio.run``.
"""

from __future__ import annotations

import asyncio
import hashlib
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from core.cache import SemanticCache
from core.gate import WorkerGate
from core.guild_settings import GuildSettingsStore
from core.settings import Settings
from core.storage import Storage
from tests.core.cache.conftest import Answer

NS = "crash:v1"
GUILDS = (1, 2, 3)


class HashEmbedder:
    """Unit vectors seeded by a hash of the text: same text, same vector; nothing to load."""

    name = "hash-embedder"
    dimension = 384

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        rows = []
        for text in texts:
            seed = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "little")
            vector = np.random.default_rng(seed).standard_normal(self.dimension).astype(np.float32)
            rows.append(vector / np.linalg.norm(vector))
        return np.stack(rows) if rows else np.zeros((0, self.dimension), dtype=np.float32)


def entry_text(number: int) -> str:
    return f"crash entry number {number}"


async def open_cache(data_dir: Path, gate: WorkerGate) -> tuple[Storage, SemanticCache]:
    settings = Settings(_env_file=None, data_dir=data_dir)  # type: ignore[call-arg]
    storage = Storage.from_settings(settings)
    await storage.open()
    guild_settings = GuildSettingsStore(storage.guild_settings, settings)
    cache = SemanticCache(
        metadata=storage.cache, feedback=storage.feedback, gate=gate, embedder=HashEmbedder(), guild_settings=guild_settings,
        directory=data_dir / "cache", flush_interval_seconds=0.0, max_loaded_guilds=2,
    )
    await cache.setup()
    return storage, cache


async def store_forever(data_dir: Path, first_number: int) -> None:
    async with WorkerGate(max_workers=2) as gate:
        _, cache = await open_cache(data_dir, gate)
        number = first_number
        stored: list[tuple[int, int]] = []
        while True:
            guild_id = GUILDS[number % len(GUILDS)]
            if number % 7 == 6 and stored:  # now and then a forget, so index files must also lose ids
                forget_guild, forget_id = stored.pop(0)
                print(f"forgetting {forget_guild} {forget_id}", flush=True)
                await cache.forget(forget_guild, forget_id)
                print(f"forgot {forget_guild} {forget_id}", flush=True)
            entry_id = await cache.store(guild_id, NS, entry_text(number), Answer(text=str(number)))
            print(f"stored {guild_id} {number} {entry_id}", flush=True)
            stored.append((guild_id, entry_id))
            number += 1


REPORT_TENANTS = (11, -184_467_440_737_095_516)  # a guild and a DM user


def report_text(number: int) -> str:
    return (f"Crash report number {number}. The harbour board met on Monday and agreed to dredge the "
            f"eastern channel before the autumn storms. Fishermen said the silt had cost them {number} "
            "days at sea this year, and the board promised a second survey of the western quay soon.")


def runtime_settings(data_dir: Path) -> Settings:
    return Settings(_env_file=None, data_dir=data_dir, user_cooldown_seconds=0)  # type: ignore[call-arg]


async def report_forever(data_dir: Path, first_number: int) -> None:
    from core.runtime import IntelRuntime
    from core.service import AutointelRequest

    async with IntelRuntime(runtime_settings(data_dir), embedder=HashEmbedder()) as runtime:
        assert runtime.service is not None
        number = first_number
        while True:
            tenant = REPORT_TENANTS[number % len(REPORT_TENANTS)]
            request = AutointelRequest(guild_id=tenant, user_id=5, target=report_text(number), depth="quick")
            result = await runtime.service.autointel(request)
            if result.report_id is not None and not result.notices:
                print(f"reported {tenant} {number} {result.report_id}", flush=True)
            number += 1


if __name__ == "__main__":
    if sys.argv[3:] == ["reports"]:
        asyncio.run(report_forever(Path(sys.argv[1]), int(sys.argv[2])))
    else:
        asyncio.run(store_forever(Path(sys.argv[1]), int(sys.argv[2])))
