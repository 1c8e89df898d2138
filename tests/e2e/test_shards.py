"""Two real bot processes, ``SHARD_COUNT=2``, one PostgreSQL, the loopback fake Discord serving two shards.

Each process is ``python -m bot`` with ``SHARD_IDS=0`` or ``1`` (as in ``compose.yaml``), so it is
killed and restarted like a deployed one.  The world has a guild on each shard; an interaction is
sent to its guild's shard unless a test deliberately sends it to the other process (as happens to a
guild for a moment while shards are rebalanced), to show what the two processes share.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import faiss
import pytest

from core.models import IntelReport
from core.shards import shard_of
from tests.e2e.bot_process import BotProcess, clean_env, free_port, scrape_metric
from tests.e2e.fake_discord import FakeDiscord
from tests.e2e.fake_guild import FakeGuild, Snowflakes, build_test_world
from tests.e2e.fake_records import InteractionLog, InteractionResponse
from tests.e2e.texts import FERRY_TEXT, ORCHARD_TEXT
from tests.fakes.fake_llm import FakeLLM, grounded_answer

SHARDS = 2
REPORT_TIMEOUT = 180.0
READY_TIMEOUT = 300.0  # two interpreters loading models on 2 shared, busy cores
_BLOCK = 1 << 22  # guilds whose ids differ above bit 22 may sit on different shards


def _world_on_two_shards() -> FakeDiscord:
    """The usual world, with ids chosen so its two guilds fall on different shards of two."""
    start = ((1_200_000_000_000_000_000 // _BLOCK) + 1) * _BLOCK - 10  # guild: block n-1, second guild: block n
    fake = FakeDiscord(world=build_test_world(Snowflakes(start=start)))
    guild, other = fake.world.guild, fake.world.other_guild
    assert other is not None and shard_of(guild.id, SHARDS) != shard_of(other.id, SHARDS)
    return fake


@dataclass
class Cluster:
    """The two shard processes (by shard id), the fake and the database they share."""

    fake: FakeDiscord
    database_url: str
    root: Path
    extra_env: dict[str, str]
    processes: dict[int, BotProcess] = field(default_factory=dict)
    metrics_ports: dict[int, int] = field(default_factory=dict)
    restarts: int = 0

    def env_for(self, shard_id: int, *, data_dir: Path) -> dict[str, str]:
        return clean_env(
            DISCORD_TOKEN=self.fake.token, DISCORD_API_BASE_URL=self.fake.base_url,
            DISCORD_GATEWAY_URL=self.fake.gateway_url, DATABASE_URL=self.database_url,
            SHARD_COUNT=str(SHARDS), SHARD_IDS=str(shard_id), DATA_DIR=str(data_dir),
            METRICS_PORT=str(self.metrics_ports[shard_id]), USER_COOLDOWN_SECONDS="0", LOG_LEVEL="INFO",
            **self.extra_env,
        )

    async def start(self, shard_id: int) -> BotProcess:
        """Start (or restart, with a fresh data folder) the process of ``shard_id``."""
        self.metrics_ports.setdefault(shard_id, free_port())
        data_dir = self.root / f"shard-{shard_id}-run-{self.restarts}" / "data"
        self.restarts += 1
        process = BotProcess(f"shard-{shard_id}", env=self.env_for(shard_id, data_dir=data_dir), cwd=self.root)
        await process.start()
        self.processes[shard_id] = process
        return process

    def shard_of(self, guild: FakeGuild) -> int:
        return shard_of(guild.id, SHARDS)

    def logs(self) -> str:
        return "\n".join(f"--- {process.name}\n{process.log()[-4000:]}" for process in self.processes.values())


@contextlib.asynccontextmanager
async def running_cluster(
    fake: FakeDiscord, database_url: str, root: Path, **extra_env: str
) -> AsyncIterator[Cluster]:
    cluster = Cluster(fake=fake, database_url=database_url, root=root, extra_env=extra_env)
    try:
        for shard_id in range(SHARDS):
            await cluster.start(shard_id)
        await fake.wait_for_shards(SHARDS, timeout=READY_TIMEOUT)
        yield cluster
    except BaseException:
        print(cluster.logs())  # shown by pytest for a failing test
        raise
    finally:
        for process in cluster.processes.values():
            await process.stop()


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with _world_on_two_shards() as started:
        yield started


def _has_report(response: InteractionResponse) -> bool:
    return any(item.filename.endswith(".json") for item in response.files)


async def _autointel(fake: FakeDiscord, text: str, guild: FakeGuild, *, shard_id: int | None = None) -> InteractionResponse:
    log = await fake.run_command("autointel", {"target": text, "depth": "quick"}, guild=guild, shard_id=shard_id,
                                 timeout=60)
    return await fake.wait_for_response(log, _has_report, timeout=REPORT_TIMEOUT)


async def _settings_shown(fake: FakeDiscord, guild: FakeGuild, *, shard_id: int) -> dict[str, str]:
    log = await fake.run_command("settings", {"show": {}}, user=fake.world.owner, guild=guild, shard_id=shard_id,
                                 timeout=30)
    answer = await _answer(fake, log)
    return {item["name"].replace(" ✏️", ""): item["value"] for embed in answer.embeds for item in embed.get("fields", [])}


async def _answer(fake: FakeDiscord, log: InteractionLog) -> InteractionResponse:
    if log.deferred:
        return await fake.wait_for_response(log, lambda response: response.kind == "edit_original", timeout=30)
    assert log.callback is not None
    return log.callback


async def test_each_process_gets_only_its_shards_guilds_and_answers_them(fake: FakeDiscord, postgres_dsn: str,
                                                                         tmp_path: Path) -> None:
    guild, other = fake.world.guild, fake.world.other_guild
    assert other is not None
    async with running_cluster(fake, postgres_dsn, tmp_path) as cluster:
        guilds_in_memory = {shard_id: await scrape_metric(port, "intel_guilds")
                            for shard_id, port in cluster.metrics_ports.items()}
        answers = [await _autointel(fake, FERRY_TEXT, each) for each in (guild, other)]

    sent = {shard_id: guild_ids for shard_id, count, guild_ids in fake.identified if count == SHARDS}
    assert sent == {cluster.shard_of(guild): (guild.id,), cluster.shard_of(other): (other.id,)}
    assert guilds_in_memory == {0: 1.0, 1: 1.0}
    assert all(answer.file(".json").data for answer in answers)
    assert len(fake.identified) == SHARDS  # one IDENTIFY per shard, no process identified for both


async def test_cache_survives_sigkill_other_guild_never_sees_it_and_settings_reach_the_other_process(
    fake: FakeDiscord, postgres_dsn: str, tmp_path: Path
) -> None:
    guild, other = fake.world.guild, fake.world.other_guild
    assert other is not None
    async with running_cluster(fake, postgres_dsn, tmp_path) as cluster:
        home, away = cluster.shard_of(guild), cluster.shard_of(other)
        # A settings change through one process is seen by the other, which had read (and cached) them.
        before = await _settings_shown(fake, guild, shard_id=away)
        await fake.run_command("settings", {"set": {"key": "default_depth", "value": "deep"}},
                               user=fake.world.admin, guild=guild, shard_id=home)
        changed_at = asyncio.get_running_loop().time()
        after = await _settings_shown(fake, guild, shard_id=away)
        seen_after = asyncio.get_running_loop().time() - changed_at

        first = await _autointel(fake, ORCHARD_TEXT, guild)
        cluster.processes[home].kill()
        killed_code = await cluster.processes[home].wait_killed()
        restarted = await cluster.start(home)  # a fresh data folder: no index file, only the rows
        await fake.wait_for_shards(SHARDS, timeout=READY_TIMEOUT)

        again = await _autointel(fake, ORCHARD_TEXT, guild)
        unrelated = await _autointel(fake, FERRY_TEXT, guild)  # a semantic lookup: loads the index from rows
        elsewhere = await _autointel(fake, ORCHARD_TEXT, other)
        stopped_code = await restarted.stop()

    assert before["default_depth"].startswith("standard")
    assert after["default_depth"].startswith("deep") and seen_after < 5.0
    assert killed_code == -9
    assert "Served from cache" not in first.text()
    assert "Served from cache" in again.text() and "exact match" in again.text()
    assert IntelReport.model_validate_json(again.file(".json").data) == IntelReport.model_validate_json(
        first.file(".json").data)
    assert "Served from cache" not in unrelated.text()
    assert "Served from cache" not in elsewhere.text()
    assert stopped_code == 0
    index_file = Path(restarted.env["DATA_DIR"]) / "cache" / f"{guild.id}.faiss"
    assert faiss.read_index(str(index_file)).ntotal == 2  # both entries, rebuilt from PostgreSQL rows


async def test_daily_budget_holds_for_20_concurrent_llm_requests_over_both_processes(
    fake: FakeDiscord, postgres_dsn: str, tmp_path: Path
) -> None:
    guild = fake.world.guild
    budget = 10.0
    async with FakeLLM() as llm:
        # $1 a thousand tokens: a call's upper estimate is about $5 (4,000 answer tokens), its real
        # cost $1.50 (1,000 in, 500 out); slow answers so that the requests overlap.
        llm.default = lambda body: dataclasses.replace(grounded_answer(body), delay_seconds=1.0)
        async with running_cluster(
            fake, postgres_dsn, tmp_path, LLM_BASE_URL=llm.base_url, LLM_MODEL="fake/model",
            LLM_DAILY_BUDGET_USD=str(budget), LLM_PRICE_INPUT_PER_MTOK="1000", LLM_PRICE_OUTPUT_PER_MTOK="1000",
            ANALYSIS_QUEUE_PER_TENANT="20", ANALYSIS_QUEUE_SIZE="50",
        ):
            texts = [f"{ORCHARD_TEXT} Request number {number} asks about row {number * 7}." for number in range(20)]
            answers = await asyncio.gather(*(
                _autointel(fake, text, guild, shard_id=number % SHARDS) for number, text in enumerate(texts)
            ))
        calls = len(llm.chat_requests)

    reports = [IntelReport.model_validate_json(answer.file(".json").data) for answer in answers]
    by_llm = [report for report in reports if report.engine.name != "local"]
    refused = [report for report in reports if report.engine.fallback_reason
               and "budget" in report.engine.fallback_reason]
    connection = await asyncpg.connect(postgres_dsn)
    try:
        spent = await connection.fetchval("SELECT COALESCE(SUM(spent_usd), 0) FROM llm_budget WHERE guild_id = $1",
                                          guild.id)
    finally:
        await connection.close()
    assert len(reports) == 20
    assert float(spent) <= budget
    assert float(spent) == pytest.approx(1.5 * calls)
    assert 1 <= len(by_llm) == calls < 20
    assert len(refused) == 20 - calls


async def test_cluster_command_runs_both_shards_and_stops_cleanly_on_sigterm(
    fake: FakeDiscord, postgres_dsn: str, tmp_path: Path
) -> None:
    env = clean_env(
        DISCORD_TOKEN=fake.token, DISCORD_API_BASE_URL=fake.base_url, DISCORD_GATEWAY_URL=fake.gateway_url,
        DATABASE_URL=postgres_dsn, DATA_DIR=str(tmp_path / "data"), USER_COOLDOWN_SECONDS="0",
    )
    log_path = tmp_path / "cluster.log"
    with log_path.open("wb") as log:
        cluster = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "cluster", "--processes", "2", cwd=tmp_path, env=env, stdout=log, stderr=log,
        )
    try:
        await fake.wait_for_shards(SHARDS, timeout=READY_TIMEOUT)
        answers = [await _autointel(fake, FERRY_TEXT, each) for each in fake.world.guilds]
    except BaseException:
        cluster.kill()
        print(log_path.read_text(errors="replace")[-4000:])
        raise
    cluster.send_signal(signal.SIGTERM)
    code = await asyncio.wait_for(cluster.wait(), 90)

    assert code == 0, log_path.read_text(errors="replace")[-4000:]
    assert sorted(shard_id for shard_id, count, _ in fake.identified if count == SHARDS) == [0, 1]
    assert all(answer.file(".json").data for answer in answers)
    assert sorted(path.name for path in (tmp_path / "data").iterdir()) == ["process-0", "process-1"]
    output = log_path.read_text(errors="replace")
    assert "every process has stopped" in output and "Traceback" not in output
