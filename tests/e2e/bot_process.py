"""``python -m bot`` as a real child process of the test, pointed at a fake Discord (and PostgreSQL).

Unlike :mod:`tests.e2e.bot_runner` (the bot inside the test's loop), each :class:`BotProcess` is its
own interpreter, loads its own model and can be killed with SIGKILL: what a deployment of several
shard processes really is.  Its stdout and stderr go to a log file, shown when a test fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp

from core.settings import Settings

__all__ = ["REPO_ROOT", "BotProcess", "clean_env", "exit_and_stderr", "free_port", "scrape_metric"]

REPO_ROOT = Path(__file__).resolve().parents[2]
STOP_TIMEOUT = 60.0


def clean_env(**settings: str) -> dict[str, str]:
    """The current environment without any bot setting, plus ``settings`` (no .env is read: run in a temp dir)."""
    setting_names = {name.upper() for name in Settings.model_fields}
    env = {key: value for key, value in os.environ.items() if key.upper() not in setting_names}
    env.update(PYTHONPATH=str(REPO_ROOT), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONUNBUFFERED="1")
    env.update(settings)
    return env


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def scrape_metric(port: int, name: str) -> float:
    """One unlabelled sample of the Prometheus endpoint on ``port``."""
    async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}/metrics") as response:
        text = await response.text()
    for line in text.splitlines():
        if line.startswith(f"{name} "):
            return float(line.split()[1])
    raise AssertionError(f"{name} is not among the metrics on port {port}")


async def exit_and_stderr(process: asyncio.subprocess.Process) -> tuple[int, list[str]]:
    """Wait for a piped process to exit: its exit code and stderr's non-empty lines."""
    async with asyncio.timeout(STOP_TIMEOUT * 2):
        _, stderr = await process.communicate()
    assert process.returncode is not None
    return process.returncode, [line for line in stderr.decode().splitlines() if line.strip()]


class BotProcess:
    """One ``python -m bot`` child: :meth:`start`, then :meth:`kill` (SIGKILL) or :meth:`stop` (SIGTERM)."""

    def __init__(self, name: str, *, env: dict[str, str], cwd: Path) -> None:
        self.name = name
        self.env = env
        self.cwd = cwd
        self.log_path = cwd / f"{name}.log"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.cwd.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", cwd=self.cwd, env=self.env, stdout=log, stderr=log,
            )

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as when a machine or the OOM killer takes the process."""
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()

    async def stop(self) -> int:
        """SIGTERM and wait for the exit code (the bot closes the gateway, runtime and database)."""
        assert self.process is not None
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.process.wait(), STOP_TIMEOUT)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
            raise AssertionError(f"{self.name} did not stop within {STOP_TIMEOUT:.0f} s of SIGTERM") from None

    async def wait_killed(self) -> int:
        assert self.process is not None
        return await asyncio.wait_for(self.process.wait(), STOP_TIMEOUT)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
