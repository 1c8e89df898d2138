"""What a Discord user waits for, measured end to end against the loopback fake Discord.

The real ``IntelBot`` (same class ``python -m bot`` runs) connects to ``tests.e2e.fake_discord``;
for each text it times, from INTERACTION_CREATE: the deferral, the first progress edit and the
final report message, and the loop-lag monitor's worst lag meanwhile.  Also one run of the same
request straight through ``IntelService`` (no Discord), to show the front end's overhead as a ratio.

    .venv/bin/python benchmarks/discord_bench.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from core.embedder import SentenceTransformerEmbedder
from core.runtime import IntelRuntime
from core.service import AutointelRequest
from core.settings import Settings, default_embedding_model_path
from tests.e2e.bot_runner import bot_settings_for, running_bot
from tests.e2e.fake_discord import FakeDiscord
from tests.e2e.texts import HARBOUR_AND_SCHOOLS, LONG_REPORT_TEXT

CASES = {"harbour (~230 words, standard)": (HARBOUR_AND_SCHOOLS, "standard"),
         "long (~2,150 words, deep)": (LONG_REPORT_TEXT, "deep")}


async def _through_discord(fake: FakeDiscord, text: str, depth: str, user_index: int) -> dict[str, float]:
    users = [fake.world.member, fake.world.admin, fake.world.owner]
    log = await fake.run_command("autointel", {"target": text, "depth": depth}, user=users[user_index % 3])
    final = await fake.wait_for_response(log, lambda r: bool(r.files), timeout=300)
    first_edit = log.edits[0].at if log.edits else final.at
    return {"defer": log.response_delay() or 0.0, "first_progress": first_edit - log.sent_at,
            "report": final.at - log.sent_at}


async def _direct(settings: Settings, embedder: SentenceTransformerEmbedder, text: str, depth: str) -> float:
    async with IntelRuntime(settings, embedder=embedder) as runtime:
        assert runtime.service is not None
        started = time.perf_counter()
        request = AutointelRequest(guild_id=1, user_id=1, target=text, depth=depth, fresh=True)  # type: ignore[arg-type]
        await runtime.service.autointel(request)
        return time.perf_counter() - started


async def main(repeat: int) -> None:
    embedder = SentenceTransformerEmbedder(default_embedding_model_path(), torch_threads=2)
    embedder.load()
    with tempfile.TemporaryDirectory() as tmp:
        base = Settings(_env_file=None, data_dir=Path(tmp) / "data", user_cooldown_seconds=0)  # type: ignore[call-arg]
        rows = []
        for case_number, (name, (text, depth)) in enumerate(CASES.items()):
            direct = statistics.median([await _direct(base, embedder, text, depth) for _ in range(repeat)])
            runs, max_lag, stalls = [], 0.0, 0
            for index in range(repeat):  # a fresh bot and database each time: no cache hits
                settings = base.model_copy(update={"data_dir": Path(tmp) / f"run-{case_number}-{index}"})
                async with FakeDiscord() as fake, running_bot(
                    fake, bot_settings_for(fake, settings), embedder=embedder
                ) as bot:
                    runs.append(await _through_discord(fake, text, depth, index))
                    lag = bot.loop_lag.snapshot()
                max_lag, stalls = max(max_lag, lag.max_lag_seconds), stalls + lag.stall_count
            median = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
            rows.append((name, median, direct, max_lag, stalls))
    print("| case | defer (ms) | first progress (ms) | report (s) | service alone (s) | ratio | max loop lag (ms) | stalls >100 ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, median, direct, max_lag, stalls in rows:
        print(f"| {name} | {median['defer'] * 1000:.0f} | {median['first_progress'] * 1000:.0f} | "
              f"{median['report']:.2f} | {direct:.2f} | {median['report'] / direct:.2f}x | {max_lag * 1000:.0f} | {stalls} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    asyncio.run(main(parser.parse_args().repeat))
