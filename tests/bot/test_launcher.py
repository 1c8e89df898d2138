"""``python -m bot`` as a user runs it: a subprocess, a temp working directory (no .env), exit codes."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import pytest

from tests.e2e.bot_process import clean_env, exit_and_stderr
from tests.e2e.fake_discord import FakeDiscord

EXIT_TIMEOUT = 120.0


async def _start_bot(cwd: Path, **settings: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=cwd, env=clean_env(**settings),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )


async def test_missing_token_exits_2_with_one_clear_line(tmp_path: Path) -> None:
    code, lines = await exit_and_stderr(await _start_bot(tmp_path, DATA_DIR=str(tmp_path / "data")))

    assert code == 2
    assert len(lines) == 1
    assert lines[0].startswith("configuration error: DISCORD_TOKEN: not set;")
    assert ".env" in lines[0]


async def test_malformed_setting_exits_2_naming_it(tmp_path: Path) -> None:
    code, lines = await exit_and_stderr(await _start_bot(tmp_path, DISCORD_TOKEN="x", WORKER_THREADS="abc"))

    assert code == 2
    assert len(lines) == 1
    assert lines[0].startswith("configuration error: WORKER_THREADS:")


async def test_rejected_token_exits_2_saying_so(tmp_path: Path) -> None:
    async with FakeDiscord(token="the-right-token") as fake:
        process = await _start_bot(
            tmp_path, DISCORD_TOKEN="a-wrong-token", DISCORD_API_BASE_URL=fake.base_url,
            DISCORD_GATEWAY_URL=fake.gateway_url, DATA_DIR=str(tmp_path / "data"),
        )
        code, lines = await exit_and_stderr(process)

        assert [request.route for request in fake.requests] == ["GET /users/@me"]
    assert code == 2
    assert lines[-1].startswith("configuration error: DISCORD_TOKEN: Discord rejected the token")
    assert not any("Traceback" in line for line in lines)


async def test_unreachable_discord_exits_1_saying_where(tmp_path: Path) -> None:
    async with FakeDiscord() as fake:
        closed_port_url = fake.base_url  # the port is free again once the fake is closed
    process = await _start_bot(tmp_path, DISCORD_TOKEN="x", DISCORD_API_BASE_URL=closed_port_url,
                               DATA_DIR=str(tmp_path / "data"))
    code, lines = await exit_and_stderr(process)

    assert code == 1
    assert lines[-1].startswith(f"error: could not reach Discord at {closed_port_url}")


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_signal_during_a_run_shuts_down_cleanly(tmp_path: Path, stop_signal: signal.Signals) -> None:
    data_dir = tmp_path / "data"
    async with FakeDiscord() as fake:
        process = await _start_bot(
            tmp_path, DISCORD_TOKEN=fake.token, DISCORD_API_BASE_URL=fake.base_url,
            DISCORD_GATEWAY_URL=fake.gateway_url, DATA_DIR=str(data_dir), LOG_LEVEL="INFO",
        )
        try:
            await fake.wait_until_ready(timeout=EXIT_TIMEOUT)
        except AssertionError:
            process.kill()
            raise
        process.send_signal(stop_signal)
        code, lines = await exit_and_stderr(process)

    assert code == 0, lines
    assert any("engine closed" in line for line in lines)
    assert lines[-1].endswith("shut down cleanly")
    assert (data_dir / "intel.db").exists()
    assert not (data_dir / "intel.db-wal").exists(), "the database was not closed (WAL file left behind)"


async def test_signal_during_start_up_exits_cleanly(tmp_path: Path) -> None:
    """SIGTERM while setup_hook is still loading the model: exit 0, runtime closed, no traceback."""
    data_dir = tmp_path / "data"
    async with FakeDiscord() as fake:
        process = await _start_bot(
            tmp_path, DISCORD_TOKEN=fake.token, DISCORD_API_BASE_URL=fake.base_url,
            DISCORD_GATEWAY_URL=fake.gateway_url, DATA_DIR=str(data_dir), LOG_LEVEL="INFO",
        )
        async with asyncio.timeout(EXIT_TIMEOUT):
            while not any(request.route == "GET /users/@me" for request in fake.requests):  # noqa: ASYNC110 (the fake records requests; polling it is simplest)
                await asyncio.sleep(0.01)
        process.send_signal(signal.SIGTERM)
        code, lines = await exit_and_stderr(process)
        assert fake.identify_count == 0, "the signal was meant to arrive before the gateway connect"

    assert code == 0, lines
    assert not any("Traceback" in line for line in lines)
    assert not (data_dir / "intel.db-wal").exists(), "the database was not closed (WAL file left behind)"
