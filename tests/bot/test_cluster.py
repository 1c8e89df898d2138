"""The cluster supervisor with real child processes: restart with back-off, clean stop, plan, exit codes."""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.cluster import Backoff, ChildSpec, ClusterSupervisor, plan_cluster
from core.errors import ConfigError
from core.settings import Settings
from tests.e2e.bot_process import clean_env, exit_and_stderr

FAST = Backoff(initial=0.2, factor=2.0, maximum=0.8, reset_after=30.0)

# Appends "<pid> <monotonic start>" to the log once it is set up, then does what the test asks.
_CHILD = """
import os, signal, sys, time
log, behaviour = sys.argv[1], sys.argv[2]

def stop(signum, frame):
    with open(log + ".stopped", "a") as out:
        out.write(f"{os.getpid()}\\n")
    sys.exit(0)

signal.signal(signal.SIGTERM, signal.SIG_IGN if behaviour == "stubborn" else stop)
with open(log, "a") as out:
    out.write(f"{os.getpid()} {time.monotonic()}\\n")
if behaviour in ("crash", "config"):
    sys.exit(1 if behaviour == "crash" else 2)
while True:
    time.sleep(0.05)
"""


def _child(tmp_path: Path, name: str, behaviour: str) -> ChildSpec:
    return ChildSpec(name=name, argv=(sys.executable, "-c", _CHILD, str(tmp_path / f"{name}.log"), behaviour),
                     env=dict(os.environ))


def _starts(tmp_path: Path, name: str) -> list[tuple[int, float]]:
    path = tmp_path / f"{name}.log"
    if not path.exists():
        return []
    return [(int(pid), float(at)) for pid, at in (line.split() for line in path.read_text().splitlines())]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def _run_in_background(supervisor: ClusterSupervisor) -> asyncio.Task[int]:
    task = asyncio.create_task(supervisor.run())
    await asyncio.sleep(0)
    return task


def test_backoff_doubles_and_is_capped() -> None:
    backoff = Backoff(initial=1.0, factor=2.0, maximum=60.0)

    assert [backoff.delay(failures) for failures in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]


async def test_a_child_that_dies_is_restarted_with_growing_capped_backoff(tmp_path: Path) -> None:
    supervisor = ClusterSupervisor([_child(tmp_path, "crasher", "crash")], backoff=FAST, stop_timeout=5)
    task = await _run_in_background(supervisor)

    await asyncio.wait_for(supervisor.wait_for(lambda: len(supervisor.exits) >= 5), 60)
    supervisor.stop()
    code = await asyncio.wait_for(task, 30)

    exits = supervisor.exits[:5]
    assert code == 0
    assert [item.returncode for item in exits] == [1] * 5
    assert [item.restart_in for item in exits] == [0.2, 0.4, 0.8, 0.8, 0.8]
    starts = [at for _, at in _starts(tmp_path, "crasher")]
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)][:4]
    assert all(gap >= wanted for gap, wanted in zip(gaps, [0.2, 0.4, 0.8, 0.8], strict=False)), gaps
    assert len({pid for pid, _ in _starts(tmp_path, "crasher")}) == len(starts)  # a new process each time


async def test_stop_sends_sigterm_to_every_child_and_waits_for_them(tmp_path: Path) -> None:
    children = [_child(tmp_path, "first", "serve"), _child(tmp_path, "second", "serve")]
    supervisor = ClusterSupervisor(children, backoff=FAST, stop_timeout=10)
    task = await _run_in_background(supervisor)
    await asyncio.wait_for(supervisor.wait_for(lambda: len(supervisor.pids) == 2), 30)
    pids = dict(supervisor.pids)
    await _wait_until(lambda: all(_starts(tmp_path, name) for name in ("first", "second")))

    supervisor.stop()
    code = await asyncio.wait_for(task, 30)

    assert code == 0
    assert supervisor.exits == []  # stopped, not died
    assert not any(_alive(pid) for pid in pids.values())
    for name in ("first", "second"):
        assert (tmp_path / f"{name}.log.stopped").read_text().split() == [str(pids[name])]


async def test_a_child_ignoring_sigterm_is_killed_after_the_timeout(tmp_path: Path) -> None:
    supervisor = ClusterSupervisor([_child(tmp_path, "stubborn", "stubborn")], backoff=FAST, stop_timeout=1.0)
    task = await _run_in_background(supervisor)
    await asyncio.wait_for(supervisor.wait_for(lambda: len(supervisor.pids) == 1), 30)
    pid = supervisor.pids["stubborn"]
    await _wait_until(lambda: bool(_starts(tmp_path, "stubborn")))

    started = asyncio.get_running_loop().time()
    supervisor.stop()
    code = await asyncio.wait_for(task, 30)

    assert code == 0
    assert asyncio.get_running_loop().time() - started >= 1.0
    assert not _alive(pid)


async def test_a_configuration_error_stops_the_whole_cluster_with_code_2(tmp_path: Path) -> None:
    children = [_child(tmp_path, "misconfigured", "config"), _child(tmp_path, "healthy", "serve")]
    supervisor = ClusterSupervisor(children, backoff=FAST, stop_timeout=10)

    code = await asyncio.wait_for(supervisor.run(), 60)

    assert code == 2
    assert [(item.name, item.returncode, item.restart_in) for item in supervisor.exits] == [("misconfigured", 2, None)]
    assert len(_starts(tmp_path, "misconfigured")) == 1  # never restarted
    healthy = _starts(tmp_path, "healthy")
    assert all(not _alive(pid) for pid, _ in healthy)


def test_plan_deals_the_shards_and_gives_each_child_its_own_folder_and_port(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path, database_url="postgresql://intel@db/intel",  # type: ignore[call-arg]
                        metrics_port=9100)

    children = plan_cluster(settings, processes=2, shard_count=5, base_env={"PATH": "/usr/bin"})

    assert [(child.env["SHARD_COUNT"], child.env["SHARD_IDS"]) for child in children] == [("5", "0,2,4"), ("5", "1,3")]
    assert [child.env["METRICS_PORT"] for child in children] == ["9100", "9101"]
    assert [child.env["DATA_DIR"] for child in children] == [str(tmp_path / "process-0"), str(tmp_path / "process-1")]
    assert all(child.argv[1:] == ("-m", "bot") and child.env["PATH"] == "/usr/bin" for child in children)


def test_plan_defaults_to_one_shard_per_process(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path, database_url="postgresql://intel@db/intel")  # type: ignore[call-arg]

    children = plan_cluster(settings, processes=3, base_env={})

    assert [child.env["SHARD_IDS"] for child in children] == ["0", "1", "2"]
    assert all(child.env["SHARD_COUNT"] == "3" and "METRICS_PORT" not in child.env for child in children)


@pytest.mark.parametrize(
    ("processes", "shard_count", "database_url", "message"),
    [
        (2, None, None, "DATABASE_URL: several bot processes must share PostgreSQL"),
        (3, 2, "postgresql://intel@db/intel", "--processes: 3 processes need at least as many shards, got 2"),
        (0, None, "postgresql://intel@db/intel", "--processes: must be at least 1"),
    ],
)
def test_plan_refuses_what_cannot_work(
    tmp_path: Path, processes: int, shard_count: int | None, database_url: str | None, message: str
) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path, database_url=database_url)  # type: ignore[call-arg]

    with pytest.raises(ConfigError, match=message):
        plan_cluster(settings, processes=processes, shard_count=shard_count, base_env={})


async def test_cluster_command_on_sqlite_exits_2_with_one_clear_line(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "cluster", "--processes", "2", cwd=tmp_path, env=clean_env(),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )

    code, lines = await exit_and_stderr(process)

    assert code == 2
    assert lines == ["configuration error: DATABASE_URL: several bot processes must share PostgreSQL; set "
                     "DATABASE_URL (SQLite is for one process)"]


async def test_cluster_command_stops_when_its_real_children_report_a_setting_error(tmp_path: Path) -> None:
    """Real ``python -m bot`` children without a token exit 2 at once; the cluster does not restart them."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "cluster", "--processes", "2", cwd=tmp_path,
        env=clean_env(DATABASE_URL="postgresql://intel@127.0.0.1:1/intel", DATA_DIR=str(tmp_path / "data")),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )

    code, lines = await exit_and_stderr(process)

    assert code == 2
    assert sum(line.startswith("configuration error: DISCORD_TOKEN: not set") for line in lines) >= 1
    assert not any("Traceback" in line for line in lines)


async def _wait_until(predicate: Callable[[], bool]) -> None:
    """Poll for what a child wrote to its log file (30 s at most)."""
    for _ in range(600):
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the child never wrote its log line")
