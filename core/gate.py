"""The one gate for blocking work.

Everything that would block the event loop (embedding, FAISS, extraction, parsing) goes through
:meth:`WorkerGate.run`, which hands a plain function to a small, bounded pool of worker threads and
awaits its result.  Multi-step blocking work is written as one private sync function and run whole.

Like ``aiosqlite.Connection``, the gate has a strict lifecycle: use it as an async context manager
(or call :meth:`close`), ``close()`` is idempotent, and work submitted after close raises
:class:`~core.errors.GateClosedError`.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

from core.errors import GateClosedError

__all__ = ["GateStats", "WorkerGate"]

_log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")


class GateStats:
    """Counters a status page can show; plain attributes, updated on the loop thread."""

    __slots__ = ("busy_seconds", "completed", "failed", "in_flight", "waiting")

    def __init__(self) -> None:
        self.completed = 0
        self.failed = 0
        self.in_flight = 0
        self.waiting = 0
        self.busy_seconds = 0.0


class WorkerGate:
    """A bounded pool of worker threads that the event loop awaits.

    ``max_workers`` threads run jobs; at most ``max_workers`` jobs are handed to the pool at once,
    so further callers wait on the loop (cheaply, cancellably) instead of piling into the
    executor's unbounded queue.
    """

    def __init__(self, *, max_workers: int = 2, name: str = "intel-worker") -> None:
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        self.max_workers = max_workers
        self._name = name
        self._executor: ThreadPoolExecutor | None = None
        self._slots: asyncio.Semaphore | None = None
        self._closed = False
        self.stats = GateStats()

    async def __aenter__(self) -> WorkerGate:
        self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def __del__(self) -> None:
        if self._executor is not None and not self._closed:
            warnings.warn(f"{self!r} was never closed", ResourceWarning, stacklevel=1)

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("open" if self._executor else "new")
        return f"<WorkerGate {self._name} workers={self.max_workers} {state}>"

    @property
    def closed(self) -> bool:
        return self._closed

    def start(self) -> None:
        """Create the pool.  Idempotent; called lazily by :meth:`run` too."""
        if self._closed:
            raise GateClosedError()
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                max_workers=self.max_workers, thread_name_prefix=self._name
            )
            self._slots = asyncio.Semaphore(self.max_workers)

    async def run(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn(*args, **kwargs)`` on a worker thread and return its result."""
        self.start()
        assert self._slots is not None and self._executor is not None
        self.stats.waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self.stats.waiting -= 1
        try:
            if self._closed:
                raise GateClosedError()
            return await self._execute(fn, *args, **kwargs)
        finally:
            self._slots.release()

    async def _execute(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        assert self._executor is not None
        loop = asyncio.get_running_loop()
        call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
        self.stats.in_flight += 1
        started = time.perf_counter()
        try:
            result = await loop.run_in_executor(self._executor, call)
        except BaseException:
            self.stats.failed += 1
            raise
        else:
            self.stats.completed += 1
            return result
        finally:
            self.stats.in_flight -= 1
            self.stats.busy_seconds += time.perf_counter() - started

    async def close(self) -> None:
        """Stop accepting work and wait for running jobs to finish.  Idempotent."""
        if self._closed:
            return
        self._closed = True
        executor, self._executor = self._executor, None
        if executor is not None:
            # shutdown(wait=True) blocks: wait for it on a helper thread, not on the loop.
            await asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)
        _log.debug("%r closed", self)
