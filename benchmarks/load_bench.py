"""Load: 50 users in 5 guilds sending ``/autointel`` and ``/ask`` to the real bot for a while.

The real ``IntelBot`` connects to the loopback fake Discord (``tests.e2e.fake_discord``) whose world
here holds five guilds of ten users each; URLs point at the loopback page server
(``tests.fakes.web_server``).  Each simulated user loops for ``--seconds``: think 1-4 s, then send
``/autointel`` (pasted texts, often a repeat of one already analysed, or one or two URLs) or, one
time in five, ``/ask``, and wait for the final answer.  Printed as a Markdown table:

* acknowledgement latency p50/p99 (INTERACTION_CREATE -> the bot's first response; target 3 s);
* reports delivered, "busy" replies, /ask answers, failures;
* event-loop lag p99 and maximum (a 50 ms sampler on the bot's loop; target p99 < 50 ms);
* RSS at start and end (``/proc/self/status``);
* gateway warnings logged by discord.py (heartbeat blocked, "can't keep up"; target 0).

The per-user cooldown is off so every user sends as soon as their think time allows; everything
else is the default settings (analysis queue: 4 at once, 50 waiting, 20 per guild).

    .venv/bin/python benchmarks/load_bench.py [--seconds 300] [--users 50] [--guilds 5] [--profile-stalls]

``--profile-stalls`` adds which functions held the loop during stalls, and how much of the stall
time the loop thread was running, waiting for a CPU or blocked (``benchmarks/loop_stalls.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchmarks.loop_stalls import StallProfiler
from core.embedder import build_embedder
from core.settings import Settings
from tests.e2e.bot_runner import bot_settings_for, running_bot
from tests.e2e.fake_discord import FakeDiscord
from tests.e2e.fake_guild import (
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeRole,
    FakeUser,
    Snowflakes,
    TestWorld,
    build_test_world,
)
from tests.e2e.fake_records import InteractionLog, InteractionResponse
from tests.e2e.texts import FERRY_TEXT, HARBOUR_AND_SCHOOLS, LONG_REPORT_TEXT, ORCHARD_TEXT
from tests.fakes.web_server import TRAM_TEXT_CONTRADICTING, loopback_guard, start_web_server

TEXTS = (HARBOUR_AND_SCHOOLS, ORCHARD_TEXT, FERRY_TEXT, TRAM_TEXT_CONTRADICTING, LONG_REPORT_TEXT)
PAGES = ("/article.html", "/review.txt", "/ferry.md", "/report.pdf")
QUESTIONS = ("How much will the apple harvest fall?", "When does the ferry run?",
             "What did the tram cost?", "What happens to the harbour schools?")
BUSY = "The bot is busy"
FINAL_TIMEOUT = 600.0


@dataclass
class LoadWorld(TestWorld):
    """The test world with more guilds than the default two."""

    extra_guilds: list[FakeGuild] = field(default_factory=list)

    @property
    def guilds(self) -> list[FakeGuild]:
        base = [self.guild] if self.other_guild is None else [self.guild, self.other_guild]
        return [*base, *self.extra_guilds]


def build_world(*, guilds: int, users_per_guild: int) -> tuple[LoadWorld, list[tuple[FakeGuild, FakeUser]]]:
    """Guilds of plain members (the default world's first two guilds, plus more); who sends where."""
    ids = Snowflakes(start=1_300_000_000_000_000_000)
    base = build_test_world(ids)
    made: list[FakeGuild] = []
    senders: list[tuple[FakeGuild, FakeUser]] = []
    for number in range(guilds):
        guild_id = ids.next()
        users = [FakeUser(ids.next(), f"user{number}-{index}") for index in range(users_per_guild)]
        everyone = FakeRole(guild_id, "@everyone", base.guild.roles[0].permissions, position=0)
        members = [FakeMember(user) for user in (*users, base.bot_user)]
        guild = FakeGuild(guild_id, f"Load Guild {number}", users[0].id, [everyone],
                          [FakeChannel(ids.next(), "general", position=0)], members)
        made.append(guild)
        senders += [(guild, user) for user in users]
    world = LoadWorld(base.application_id, base.bot_user, base.owner, base.admin, base.member,
                      made[0], made[1] if len(made) > 1 else None, extra_guilds=made[2:])
    return world, senders


class LagSampler:
    """Sleeps ``interval`` seconds at a time and keeps every late wake-up, for percentiles."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.lags: list[float] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(self.interval)
            self.lags.append(max(0.0, loop.time() - before - self.interval))


class GatewayWarnings(logging.Handler):
    """Counts discord.py's gateway warnings (a blocked heartbeat, a shard falling behind)."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@dataclass
class Tally:
    acks: list[float] = field(default_factory=list)
    reports: int = 0
    busy: int = 0
    answers: int = 0
    failures: list[str] = field(default_factory=list)
    report_seconds: list[float] = field(default_factory=list)


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _is_final(response: InteractionResponse) -> bool:
    """A report (files), an answer (embeds), or an error line in place of the progress line."""
    if response.kind == "callback":
        return False
    return bool(response.files or response.embeds) or not (response.content or "").startswith("**Analysing")


async def one_request(fake: FakeDiscord, guild: FakeGuild, user: FakeUser, rng: random.Random, *,
                      page_url: str, tally: Tally) -> None:
    if rng.random() < 0.2:
        name, options = "ask", {"question": rng.choice(QUESTIONS)}
    elif rng.random() < 0.3:
        urls = " ".join(f"{page_url}{path}" for path in rng.sample(PAGES, rng.randint(1, 2)))
        name, options = "autointel", {"target": urls, "depth": "quick"}
    else:
        name, options = "autointel", {"target": rng.choice(TEXTS), "depth": rng.choice(("quick", "standard"))}
    log: InteractionLog = await fake.run_command(name, options, user=user, guild=guild, timeout=60)
    tally.acks.append(log.response_delay() or 0.0)
    if log.ephemeral:  # refused before any work
        refusal = (log.callback.content if log.callback else "") or ""
        if BUSY in refusal:
            tally.busy += 1
        else:
            tally.failures.append(refusal[:80])
        return
    final = await fake.wait_for_response(log, _is_final, timeout=FINAL_TIMEOUT)
    if name == "ask":
        tally.answers += 1
    elif final.files:
        tally.reports += 1
        tally.report_seconds.append(final.at - log.sent_at)
    else:
        tally.failures.append((final.content or "")[:80])


async def user_loop(fake: FakeDiscord, guild: FakeGuild, user: FakeUser, *, seed: int, until: float,
                    page_url: str, tally: Tally) -> None:
    rng = random.Random(seed)
    loop = asyncio.get_running_loop()
    while loop.time() < until:
        await asyncio.sleep(rng.uniform(1.0, 4.0))
        if loop.time() >= until:
            return
        try:
            await one_request(fake, guild, user, rng, page_url=page_url, tally=tally)
        except (AssertionError, TimeoutError) as error:
            tally.failures.append(str(error)[:80])


async def main(*, seconds: float, users: int, guilds: int, profile_stalls: bool = False) -> None:
    embedder = build_embedder(Settings(_env_file=None))  # type: ignore[call-arg]  # the product's embedder
    embedder.embed(["load the model"])
    world, senders = build_world(guilds=guilds, users_per_guild=max(1, users // guilds))
    warnings = GatewayWarnings()
    logging.getLogger("discord.gateway").addHandler(warnings)
    logging.getLogger("discord.client").addHandler(warnings)
    runner, site = await start_web_server()
    tally, sampler = Tally(), LagSampler()
    profiler = StallProfiler() if profile_stalls else None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            # No per-user cooldown: every user sends as fast as their think time allows (most pressure).
            base = Settings(_env_file=None, data_dir=Path(tmp) / "data", user_cooldown_seconds=0)  # type: ignore[call-arg]
            async with FakeDiscord(world=world) as fake, running_bot(
                fake, bot_settings_for(fake, base), embedder=embedder, url_guard=loopback_guard(site)
            ) as running:
                rss_start, started = rss_mib(), time.perf_counter()
                sampler.start()
                until = asyncio.get_running_loop().time() + seconds
                async with profiler if profiler is not None else contextlib.nullcontext():
                    await asyncio.gather(*(
                        user_loop(fake, guild, user, seed=index, until=until, page_url=site.url(""), tally=tally)
                        for index, (guild, user) in enumerate(senders)
                    ))
                elapsed = time.perf_counter() - started
                await sampler.stop()
                rss_end, stalls = rss_mib(), running.loop_lag.snapshot()
    finally:
        await runner.cleanup()
    print_table(tally, sampler=sampler, stall_max=stalls.max_lag_seconds, rss=(rss_start, rss_end),
                elapsed=elapsed, warnings=warnings.messages, users=len(senders), guilds=guilds)
    if profiler is not None:
        print(f"\n{profiler.report()}")


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def print_table(tally: Tally, *, sampler: LagSampler, stall_max: float, rss: tuple[float, float], elapsed: float,
                warnings: list[str], users: int, guilds: int) -> None:
    lag_max = max([*sampler.lags, stall_max], default=0.0)
    rows = [
        ("users / guilds / seconds", f"{users} / {guilds} / {elapsed:.0f}"),
        ("requests acknowledged", f"{len(tally.acks)}"),
        ("ack latency p50 / p99 / max (ms)", f"{_percentile(tally.acks, 0.5) * 1000:.0f} / "
         f"{_percentile(tally.acks, 0.99) * 1000:.0f} / {max(tally.acks, default=0) * 1000:.0f}"),
        ("acks over 3 s", f"{sum(1 for ack in tally.acks if ack > 3.0)}"),
        ("reports delivered / busy replies / /ask answers", f"{tally.reports} / {tally.busy} / {tally.answers}"),
        ("report time p50 / p99 (s)", f"{_percentile(tally.report_seconds, 0.5):.1f} / "
         f"{_percentile(tally.report_seconds, 0.99):.1f}"),
        ("failures (no report, no busy reply)", f"{len(tally.failures)}"),
        ("event-loop lag p99 / max (ms)", f"{_percentile(sampler.lags, 0.99) * 1000:.0f} / {lag_max * 1000:.0f}"),
        ("RSS start / end (MiB)", f"{rss[0]:.0f} / {rss[1]:.0f}"),
        ("gateway warnings", f"{len(warnings)}"),
    ]
    print("| measure | value |")
    print("|---|---:|")
    for name, value in rows:
        print(f"| {name} | {value} |")
    for message in [*tally.failures[:5], *warnings[:5]]:
        print(f"- {message}")
    if tally.report_seconds:
        print(f"\nmean report time {statistics.mean(tally.report_seconds):.1f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--guilds", type=int, default=5)
    parser.add_argument("--profile-stalls", action="store_true",
                        help="also print which functions held the loop during stalls (benchmarks/loop_stalls.py)")
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    asyncio.run(main(seconds=arguments.seconds, users=arguments.users, guilds=arguments.guilds,
                     profile_stalls=arguments.profile_stalls))
