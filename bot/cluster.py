"""``python -m bot cluster``: run the bot as N child processes, each for its share of the shards.

:func:`plan_cluster` turns the settings and ``--processes`` / ``--shard-count`` into one
:class:`ChildSpec` per process (``python -m bot`` with ``SHARD_COUNT`` and ``SHARD_IDS`` set, a
data folder and a metrics port of its own); :class:`ClusterSupervisor` runs them on the one event
loop with asyncio subprocesses (no threads):

* a child that dies is started again after a back-off (1 s doubling to 60 s; back to 1 s once it
  has stayed up for a minute);
* a child that exits with code 2 (a setting is wrong) is not restarted: the same settings would fail
  the same way, so the whole cluster stops with code 2;
* SIGINT/SIGTERM stop every child with SIGTERM (their own clean shutdown), and SIGKILL whoever is
  still alive after ``stop_timeout`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field

from core.errors import ConfigError
from core.settings import Settings
from core.shards import split_shards

__all__ = ["Backoff", "ChildExit", "ChildSpec", "ClusterSupervisor", "plan_cluster", "run_cluster"]

_log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_CONFIG = 2
_SHUTDOWN_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Backoff(BaseModel):
    """How long to wait before restarting a child that died: ``initial`` doubling up to ``maximum``."""

    model_config = ConfigDict(frozen=True)

    initial: float = Field(default=1.0, gt=0)
    factor: float = Field(default=2.0, ge=1)
    maximum: float = Field(default=60.0, gt=0)
    # A child that stayed up this long counts as healthy again: its next restart waits ``initial``.
    reset_after: float = Field(default=60.0, gt=0)

    def delay(self, failures: int) -> float:
        """The wait before restart number ``failures`` (1 = the first restart in a row)."""
        return min(self.maximum, self.initial * self.factor ** max(0, failures - 1))


class ChildSpec(BaseModel):
    """One child process: its name (for logs), command line and extra environment."""

    model_config = ConfigDict(frozen=True)

    name: str
    argv: tuple[str, ...]
    env: dict[str, str] = Field(default_factory=dict)


class ChildExit(BaseModel):
    """A child process that ended on its own (not stopped by the supervisor)."""

    name: str
    pid: int
    returncode: int
    ran_seconds: float
    restart_in: float | None  # None: not restarted


def plan_cluster(
    settings: Settings, *, processes: int, shard_count: int | None = None,
    base_env: Mapping[str, str] | None = None,
) -> list[ChildSpec]:
    """One :class:`ChildSpec` per process, the shards dealt round-robin (``split_shards``).

    ``shard_count`` defaults to ``SHARD_COUNT``, else one shard per process.  Several processes need
    ``DATABASE_URL`` (they share one PostgreSQL; a SQLite file belongs to one process).  Each child
    gets ``DATA_DIR/process-<n>`` and, with ``METRICS_PORT`` set, port ``METRICS_PORT + n``.
    """
    count = shard_count or settings.shard_count or processes
    if processes < 1:
        raise ConfigError("--processes", "must be at least 1")
    if count < processes:
        raise ConfigError("--processes", f"{processes} processes need at least as many shards, got {count}")
    if processes > 1 and settings.database_url is None:
        raise ConfigError("DATABASE_URL", "several bot processes must share PostgreSQL; set DATABASE_URL "
                                          "(SQLite is for one process)")
    environment = dict(os.environ if base_env is None else base_env)
    children = []
    for number, shard_ids in enumerate(split_shards(count, processes)):
        env = {**environment, "SHARD_COUNT": str(count), "SHARD_IDS": ",".join(map(str, shard_ids)),
               "DATA_DIR": str(settings.data_dir / f"process-{number}")}
        if settings.metrics_port is not None:
            env["METRICS_PORT"] = str(settings.metrics_port + number)
        children.append(ChildSpec(name=f"process-{number} (shards {','.join(map(str, shard_ids))} of {count})",
                                  argv=(sys.executable, "-m", "bot"), env=env))
    return children


class ClusterSupervisor:
    """Runs, restarts and stops child processes.  ``await run()`` until :meth:`stop` (or a config error)."""

    def __init__(self, children: Sequence[ChildSpec], *, backoff: Backoff | None = None,
                 stop_timeout: float = 30.0) -> None:
        self.children = tuple(children)
        self.backoff = backoff or Backoff()
        self.stop_timeout = stop_timeout
        self.exits: list[ChildExit] = []  # every child that ended on its own, in order
        self.pids: dict[str, int] = {}  # the live process of each child
        self._stopping = asyncio.Event()
        self._exit_code = EXIT_OK
        self._changed = asyncio.Condition()

    def stop(self) -> None:
        """Ask every child to stop; :meth:`run` returns once they have.  Idempotent."""
        self._stopping.set()

    async def run(self) -> int:
        """Start every child and supervise them until stopped; the cluster's exit code."""
        _log.info("cluster: starting %d processes", len(self.children))
        async with asyncio.TaskGroup() as group:
            for spec in self.children:
                group.create_task(self._supervise(spec), name=f"supervise {spec.name}")
        _log.info("cluster: every process has stopped")
        return self._exit_code

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        """Wait until ``predicate()`` holds; re-checked after each start and exit (for tests and tools)."""
        async with self._changed:
            await self._changed.wait_for(predicate)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _supervise(self, spec: ChildSpec) -> None:
        failures = 0
        while not self._stopping.is_set():
            started = time.monotonic()
            process = await asyncio.create_subprocess_exec(*spec.argv, env=spec.env)
            self.pids[spec.name] = process.pid
            _log.info("cluster: started %s (pid %d)", spec.name, process.pid)
            await self._notify()
            if not await self._until_exit_or_stop(process):
                await self._stop_child(spec, process)
                return
            ran = time.monotonic() - started
            failures = 1 if ran >= self.backoff.reset_after else failures + 1
            if not await self._after_exit(spec, process, ran=ran, failures=failures):
                return

    async def _until_exit_or_stop(self, process: asyncio.subprocess.Process) -> bool:
        """``True`` when the child exited on its own, ``False`` when a stop was requested first."""
        exited = asyncio.ensure_future(process.wait())
        stopping = asyncio.ensure_future(self._stopping.wait())
        await asyncio.wait({exited, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if exited.done():
            return True
        exited.cancel()
        return False

    async def _after_exit(self, spec: ChildSpec, process: asyncio.subprocess.Process, *, ran: float,
                          failures: int) -> bool:
        """Record an exit and wait out its back-off; ``False`` when the child must not be restarted."""
        returncode = process.returncode if process.returncode is not None else -1
        self.pids.pop(spec.name, None)
        config_error = returncode == EXIT_CONFIG
        delay = None if config_error else self.backoff.delay(failures)
        self.exits.append(ChildExit(name=spec.name, pid=process.pid, returncode=returncode,
                                    ran_seconds=ran, restart_in=delay))
        await self._notify()
        if delay is None:
            _log.error("cluster: %s exited with code 2 (a setting is wrong); stopping the cluster", spec.name)
            self._exit_code = EXIT_CONFIG
            self.stop()
            return False
        _log.warning("cluster: %s (pid %d) exited with code %d after %.1f s; restarting in %.1f s",
                     spec.name, process.pid, returncode, ran, delay)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), delay)
        return not self._stopping.is_set()

    async def _stop_child(self, spec: ChildSpec, process: asyncio.subprocess.Process) -> None:
        """SIGTERM, then SIGKILL after ``stop_timeout`` seconds."""
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        try:
            await asyncio.wait_for(process.wait(), self.stop_timeout)
        except TimeoutError:
            _log.warning("cluster: %s did not stop within %.0f s; killing it", spec.name, self.stop_timeout)
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
        self.pids.pop(spec.name, None)
        _log.info("cluster: %s stopped (code %s)", spec.name, process.returncode)
        await self._notify()


async def run_cluster(settings: Settings, *, processes: int, shard_count: int | None = None) -> int:
    """``python -m bot cluster``: plan the children, supervise them until SIGINT/SIGTERM."""
    try:
        children = plan_cluster(settings, processes=processes, shard_count=shard_count)
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr, flush=True)
        return EXIT_CONFIG
    supervisor = ClusterSupervisor(children)
    loop = asyncio.get_running_loop()

    def request_stop(signame: str) -> None:
        _log.info("cluster: received %s, stopping every process", signame)
        supervisor.stop()

    for sig in _SHUTDOWN_SIGNALS:
        loop.add_signal_handler(sig, request_stop, sig.name)
    try:
        return await supervisor.run()
    finally:
        for sig in _SHUTDOWN_SIGNALS:
            loop.remove_signal_handler(sig)
