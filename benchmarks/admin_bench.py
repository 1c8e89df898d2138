"""What the tree-level checks and the metrics cost a command, measured against the loopback fake Discord.

The real ``IntelBot`` connects to ``tests.e2e.fake_discord`` with ``METRICS_PORT`` set.  For each
command it times the round trip (INTERACTION_CREATE to the bot's first response) and, in the same
runs, the time spent in the tree's ``interaction_check`` (guild settings from the cached getter,
permission, channel and cooldown checks), so the checks' share is a ratio measured side by side.
Then it times a scrape of ``/metrics``.

    .venv/bin/python benchmarks/admin_bench.py [--repeat 50]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import httpx

from core.embedder import SentenceTransformerEmbedder
from core.settings import Settings, default_embedding_model_path
from tests.e2e.bot_runner import bot_settings_for, running_bot
from tests.e2e.fake_discord import FakeDiscord


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _timed_check(check: Callable[..., Awaitable[bool]], spent: list[float]) -> Callable[..., Awaitable[bool]]:
    async def timed(interaction: Any) -> bool:
        started = time.perf_counter()
        try:
            return await check(interaction)
        finally:
            spent.append(time.perf_counter() - started)

    return timed


async def _round_trips(fake: FakeDiscord, name: str, options: dict, *, user: Any, repeat: int) -> list[float]:
    delays = []
    for _ in range(repeat):
        log = await fake.run_command(name, options, user=user)
        delays.append(log.response_delay() or 0.0)
    return delays


def _ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:7.2f} ms (p90 {sorted(values)[int(len(values) * 0.9) - 1] * 1000:6.2f})"


async def main(repeat: int) -> None:
    embedder = SentenceTransformerEmbedder(default_embedding_model_path(), torch_threads=2)
    embedder.load()
    port = _free_port()
    with tempfile.TemporaryDirectory() as directory:
        settings = Settings(_env_file=None, data_dir=Path(directory))  # type: ignore[call-arg]
        async with FakeDiscord() as fake, running_bot(
            fake, bot_settings_for(fake, settings, metrics_port=port), embedder=embedder
        ) as running:
            world = fake.world
            cases = [
                ("/help (member)", "help", {}, world.member),
                ("/settings show (admin)", "settings", {"show": {}}, world.admin),
                ("/settings show refused (member)", "settings", {"show": {}}, world.member),
                ("/cache stats (admin, deferred)", "cache", {"stats": {}}, world.admin),
            ]
            print(f"{'command':34} {'round trip, median':28} {'in checks, median':20} share")
            for label, name, options, user in cases:
                spent: list[float] = []
                tree = running.bot.tree
                tree.interaction_check = _timed_check(type(tree).interaction_check.__get__(tree), spent)  # type: ignore[method-assign]
                delays = await _round_trips(fake, name, options, user=user, repeat=repeat)
                share = statistics.median(spent) / statistics.median(delays)
                print(f"{label:34} {_ms(delays):28} {statistics.median(spent) * 1e6:8.1f} µs {share:10.2%}")
            scrapes = []
            async with httpx.AsyncClient() as client:
                for _ in range(repeat):
                    started = time.perf_counter()
                    (await client.get(f"http://127.0.0.1:{port}/metrics")).raise_for_status()
                    scrapes.append(time.perf_counter() - started)
            print(f"{'GET /metrics':34} {_ms(scrapes):28}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50)
    asyncio.run(main(parser.parse_args().repeat))
