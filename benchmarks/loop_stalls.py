"""Who holds the event loop: a watchdog thread that samples the loop thread's stack while it is late.

A diagnostic for the benchmarks, not product code.  A task on the loop stamps a heartbeat every
``beat`` seconds; a daemon thread checks it every ``every`` seconds, and while the heartbeat is
older than ``threshold`` the loop is stalled: the thread takes the loop thread's current frame
(``sys._current_frames()``, CPython's stdlib) and counts it.  Each sample stands for ``every``
seconds of stall, so the counts add up to milliseconds of stall per function.

Each stall is also split by the loop thread's scheduler counters (``/proc/self/task/<tid>/schedstat``:
time on a CPU, time runnable but waiting for one): *running* is Python or C code on the loop
thread (a long synchronous call, whatever the machine's load), *waiting for a CPU* is the machine's
contention, and the rest is *blocked* (asleep: waiting for the GIL that a worker thread holds, or in
a system call).  Only the first kind is a call to move off the loop.

Two attributions are kept per sample: the innermost frame in this project's code (``bot/``,
``cogs/``, ``core/``; ``tests/`` and ``benchmarks/`` count as "harness": the fake Discord and the
simulated users run on the same loop) and the innermost frame overall (often a library call).  Caveat: a C call
that holds the GIL blocks the watchdog too, so its samples land when it returns; counts of
*stalls* attributed to a project frame stay right, the split of milliseconds inside them is
approximate.

    async with StallProfiler() as profiler: ...
    print(profiler.report())
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
import traceback
from collections import Counter, deque
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

__all__ = ["StallProfiler"]

_ROOT = Path(__file__).resolve().parents[1]
_PROJECT_DIRS = tuple(f"{_ROOT / name}/" for name in ("bot", "cogs", "core"))
_HARNESS_DIRS = tuple(f"{_ROOT / name}/" for name in ("tests", "benchmarks"))


@dataclass(frozen=True, slots=True)
class _Sched:
    """One reading of a thread's scheduler counters (seconds)."""

    at: float
    running: float
    waiting: float

    @classmethod
    def read(cls, native_id: int) -> _Sched:
        fields = Path(f"/proc/self/task/{native_id}/schedstat").read_text().split()
        return cls(at=time.perf_counter(), running=int(fields[0]) / 1e9, waiting=int(fields[1]) / 1e9)


@dataclass(slots=True)
class _StallTime:
    seconds: float = 0.0
    running: float = 0.0
    waiting: float = 0.0

    def add(self, start: _Sched, end: _Sched) -> None:
        self.seconds += end.at - start.at
        self.running += end.running - start.running
        self.waiting += end.waiting - start.waiting


class StallProfiler:
    """Samples the loop thread's stack whenever the loop is ``threshold`` seconds late."""

    def __init__(self, *, threshold: float = 0.05, every: float = 0.005, beat: float = 0.01) -> None:
        self.threshold = threshold
        self.every = every
        self.beat = beat
        self.project = Counter[str]()
        self.innermost = Counter[str]()
        self.chains = Counter[str]()
        self.stalls = Counter[str]()  # stalls (not samples) per project frame first seen in them
        self.stall_count = 0
        self.split = _StallTime()
        self.busy_stalls = Counter[str]()  # stalls with >= threshold of loop-thread CPU, by project frame
        self._heartbeat = time.perf_counter()
        self._loop_thread = threading.get_ident()
        self._loop_native = threading.get_native_id()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> StallProfiler:
        self._loop_thread = threading.get_ident()
        self._loop_native = threading.get_native_id()
        self._heartbeat = time.perf_counter()
        self._task = asyncio.get_running_loop().create_task(self._beat())
        self._thread = threading.Thread(target=self._watch, name="stall-profiler", daemon=True)
        self._thread.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._stop.set()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._thread is not None:
            self._thread.join(timeout=1)

    async def _beat(self) -> None:
        while True:
            self._heartbeat = time.perf_counter()
            await asyncio.sleep(self.beat)

    def _watch(self) -> None:
        readings: deque[_Sched] = deque(maxlen=64)
        start: _Sched | None = None
        seen: set[str] = set()
        while not self._stop.wait(self.every):
            readings.append(_Sched.read(self._loop_native))
            late = time.perf_counter() - self._heartbeat - self.beat
            if late < self.threshold:
                if start is not None:
                    self._end_stall(start, readings[-1], seen)
                    start, seen = None, set()
                continue
            if start is None:  # the stall began at the last heartbeat: the reading just before it
                began = self._heartbeat + self.beat
                start = next((r for r in reversed(readings) if r.at <= began), readings[0])
                self.stall_count += 1
            frame = sys._current_frames().get(self._loop_thread)
            if frame is not None:
                project = self._sample(frame)
                if project not in seen:
                    seen.add(project)
                    self.stalls[project] += 1

    def _end_stall(self, start: _Sched, end: _Sched, seen: set[str]) -> None:
        self.split.add(start, end)
        if end.running - start.running >= self.threshold:
            for project in seen:
                self.busy_stalls[project] += 1

    def _sample(self, frame: FrameType) -> str:
        stack = traceback.extract_stack(frame)
        self.innermost[f"{Path(stack[-1].filename).name}:{stack[-1].name}"] += 1
        mine = [entry for entry in stack
                if entry.filename.startswith(_PROJECT_DIRS + _HARNESS_DIRS) and entry.name != "<module>"]
        project = f"{Path(mine[-1].filename).name}:{mine[-1].name}" if mine else "(no project frame)"
        if mine and mine[-1].filename.startswith(_HARNESS_DIRS):
            project = f"harness {project}"  # the fake Discord and the simulated users share the loop
        self.project[project] += 1
        chain = " > ".join(f"{Path(entry.filename).name}:{entry.name}" for entry in stack[-6:])
        self.chains[f"{project} | {chain}"] += 1
        return project

    def report(self, *, top: int = 12) -> str:
        ms, split = self.every * 1000, self.split
        share = (lambda part: f"{part / split.seconds:.0%}") if split.seconds else (lambda part: "-")
        lines = [
            f"stalls over {self.threshold * 1000:.0f} ms: {self.stall_count}, {split.seconds:.1f} s in all; the loop "
            f"thread was running {split.running:.1f} s ({share(split.running)}), waiting for a CPU "
            f"{split.waiting:.1f} s ({share(split.waiting)}), blocked (GIL, system calls) "
            f"{split.seconds - split.running - split.waiting:.1f} s",
            f"stalls with >= {self.threshold * 1000:.0f} ms of loop-thread CPU (long synchronous calls): "
            f"{sum(1 for _ in self.busy_stalls.elements())} (stall, project frame) pairs",
            "", "| project frame | stalls seen in | of them >= threshold CPU | stall ms sampled |", "|---|---:|---:|---:|",
        ]
        lines += [f"| {name} | {self.stalls[name]} | {self.busy_stalls[name]} | {count * ms:.0f} |"
                  for name, count in self.project.most_common(top)]
        lines += ["", "| innermost frame | stall ms sampled |", "|---|---:|"]
        lines += [f"| {name} | {count * ms:.0f} |" for name, count in self.innermost.most_common(top)]
        lines += ["", "top stacks (project frame | last 6 frames):"]
        lines += [f"  {count * ms:6.0f} ms  {name}" for name, count in self.chains.most_common(top)]
        return "\n".join(lines)
