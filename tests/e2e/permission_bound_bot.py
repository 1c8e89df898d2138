"""The real bot as its own process (``python -m bot``), bound by file permissions, on a fake Discord.

The tests may run as root, and root ignores file modes through three capabilities
(``CAP_DAC_OVERRIDE``, ``CAP_DAC_READ_SEARCH``, ``CAP_FOWNER``).  As root, :func:`bot_process`
starts the bot through ``setpriv`` with those three removed from its bounding set, so a file or
directory without write permission refuses the bot exactly as it refuses any unprivileged user.
(Running it as ``nobody`` does not work here: the interpreter lives under ``/root``.)  Not as
root, the bot simply runs as the current user.  Its log goes to a file: a pipe nobody reads could
fill up and stall the bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.bot_process import clean_env
from tests.e2e.fake_discord import FakeDiscord

__all__ = ["PermissionBoundBot", "bot_process"]

REPO_ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 120.0


_IGNORE_PERMISSIONS = ("dac_override", "dac_read_search", "fowner")


def _bound_by_permissions() -> list[str]:
    """The command prefix that makes the bot subject to file modes (empty when not root)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        raise AssertionError("running as root needs setpriv (util-linux) to drop the permission-bypass capabilities")
    return [setpriv, "--bounding-set", ",".join(f"-{name}" for name in _IGNORE_PERMISSIONS)]


@dataclass
class PermissionBoundBot:
    process: asyncio.subprocess.Process
    log_file: Path

    def log(self) -> str:
        return self.log_file.read_text(errors="replace")

    @property
    def running(self) -> bool:
        return self.process.returncode is None

    async def stop(self) -> int:
        """SIGTERM, as an operator stops it; returns the exit code."""
        if self.running:
            self.process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(READY_TIMEOUT):
            return await self.process.wait()


@contextlib.asynccontextmanager
async def bot_process(fake: FakeDiscord, *, data_dir: Path, **settings: str) -> AsyncIterator[PermissionBoundBot]:
    """``python -m bot`` connected to ``fake`` and ready; stopped (SIGTERM, then kill) on exit."""
    log_file = data_dir.parent / f"bot-{fake.identify_count}.log"
    env = clean_env(
        DISCORD_TOKEN=fake.token, DISCORD_API_BASE_URL=fake.base_url, DISCORD_GATEWAY_URL=fake.gateway_url,
        DATA_DIR=str(data_dir), **settings,
    )
    with log_file.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            *_bound_by_permissions(), sys.executable, "-m", "bot", cwd=data_dir.parent, env=env,
            stdout=log, stderr=asyncio.subprocess.STDOUT,
        )
    running = PermissionBoundBot(process=process, log_file=log_file)
    try:
        await _until_ready(fake, running)
        yield running
    finally:
        if running.running:
            process.kill()
            await process.wait()


async def _until_ready(fake: FakeDiscord, running: PermissionBoundBot) -> None:
    ready = asyncio.ensure_future(fake.wait_until_ready(timeout=READY_TIMEOUT))
    exited = asyncio.ensure_future(running.process.wait())
    done, _ = await asyncio.wait({ready, exited}, return_when=asyncio.FIRST_COMPLETED)
    if exited in done:
        ready.cancel()
        raise AssertionError(f"the bot exited before it was ready:\n{running.log()[-3000:]}")
    exited.cancel()
    ready.result()
