"""The analysis queue: a bounded line in front of the heavy work, fair between tenants.

At most ``concurrency`` analyses run at once.  Requests beyond that wait in one line per tenant
(a guild, a DM user, the console), and a freed slot goes to the tenants in turn (round-robin), so
a guild with twenty requests waiting delays another guild's one request by at most one turn, not
twenty.  The line is bounded twice: ``max_waiting`` requests in all and ``max_waiting_per_tenant``
for one tenant; beyond either, :meth:`AnalysisQueue.enter` refuses at once with
:class:`~core.errors.BusyError` ("busy, try again in a minute") instead of piling up.

:meth:`AnalysisQueue.enter` is synchronous, so a front end can take a place before it answers the
user (a refusal can then still be private); :meth:`QueueTicket.wait` waits for the turn and tells
the user their place in line through the progress sink whenever it changes.  Everything runs on
the event loop; nothing here blocks.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict, deque

from pydantic import BaseModel, ConfigDict, Field

from core.errors import BusyError
from core.progress import Progress, ProgressSink, ignore_progress

__all__ = ["AnalysisQueue", "QueueStats", "QueueTicket"]

_log = logging.getLogger(__name__)


class QueueStats(BaseModel):
    """What ``/status`` shows about the line."""

    model_config = ConfigDict(frozen=True)

    running: int = Field(ge=0)
    waiting: int = Field(ge=0)
    tenants_waiting: int = Field(ge=0)
    concurrency: int = Field(ge=1)
    max_waiting: int = Field(ge=0)
    refused: int = Field(ge=0, description="Requests answered 'busy' since start")


class QueueTicket:
    """One request's place: waiting, then running, then released (idempotently).

    Use ``async with ticket:`` around the work after :meth:`wait`, or call :meth:`release`.
    """

    def __init__(self, queue: AnalysisQueue, tenant_id: int) -> None:
        self._queue = queue
        self.tenant_id = tenant_id
        self.place = 0  # 1 = next to run; 0 once running
        self.granted = False
        self.released = False
        self._changed = asyncio.Event()

    async def wait(self, *, progress: ProgressSink = ignore_progress) -> None:
        """Until this request may run; says its place in line each time it changes."""
        shown = 0
        try:
            while not self.granted:
                if self.place != shown:
                    shown = self.place
                    await progress(Progress("Waiting in line", detail=_place_text(shown)))
                    continue
                self._changed.clear()
                await self._changed.wait()
        except BaseException:
            self.release()  # a cancelled wait gives its place up
            raise

    def release(self) -> None:
        """Give up the place or the running slot.  Idempotent."""
        if not self.released:
            self.released = True
            self._queue._release(self)

    async def __aenter__(self) -> QueueTicket:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.release()

    def _grant(self) -> None:
        self.granted = True
        self.place = 0
        self._changed.set()

    def _move_to(self, place: int) -> None:
        if place != self.place:
            self.place = place
            self._changed.set()


def _place_text(place: int) -> str:
    if place == 1:
        return "you are next"
    return f"place {place} ({place - 1} ahead of you)"


class AnalysisQueue:
    """Round-robin across tenants, FIFO within one; bounded in all and per tenant."""

    def __init__(self, *, concurrency: int, max_waiting: int, max_waiting_per_tenant: int) -> None:
        if concurrency < 1 or max_waiting < 0 or max_waiting_per_tenant < 0:
            raise ValueError("concurrency must be at least 1 and the waiting limits at least 0")
        self.concurrency = concurrency
        self.max_waiting = max_waiting
        self.max_waiting_per_tenant = max_waiting_per_tenant
        self._running = 0
        self._waiting = 0
        self._refused = 0
        # Tenant -> its line; the dict's order is the round-robin order (served tenants move last).
        self._lines: OrderedDict[int, deque[QueueTicket]] = OrderedDict()

    def stats(self) -> QueueStats:
        return QueueStats(
            running=self._running, waiting=self._waiting, tenants_waiting=len(self._lines),
            concurrency=self.concurrency, max_waiting=self.max_waiting, refused=self._refused,
        )

    def enter(self, tenant_id: int) -> QueueTicket:
        """A place for one request: running at once if a slot is free, else in line; or refused."""
        ticket = QueueTicket(self, tenant_id)
        if self._running < self.concurrency and not self._lines:
            self._running += 1
            ticket._grant()
            return ticket
        waiting_here = len(self._lines.get(tenant_id, ()))
        if self._waiting >= self.max_waiting or waiting_here >= self.max_waiting_per_tenant:
            self._refused += 1
            _log.warning("analysis queue full (%d waiting, %d of them tenant %s's, %d running): busy",
                         self._waiting, waiting_here, tenant_id, self._running)
            raise BusyError()
        self._lines.setdefault(tenant_id, deque()).append(ticket)
        self._waiting += 1
        self._renumber()
        return ticket

    def _release(self, ticket: QueueTicket) -> None:
        if ticket.granted:
            self._running -= 1
            self._grant_next()
            return
        line = self._lines.get(ticket.tenant_id)
        if line is not None and ticket in line:
            line.remove(ticket)
            self._waiting -= 1
            if not line:
                del self._lines[ticket.tenant_id]
            self._renumber()

    def _grant_next(self) -> None:
        while self._running < self.concurrency and self._lines:
            tenant_id, line = self._lines.popitem(last=False)
            ticket = line.popleft()
            if line:
                self._lines[tenant_id] = line  # its next request waits for the other tenants' turns
            self._waiting -= 1
            self._running += 1
            ticket._grant()
        self._renumber()

    def _renumber(self) -> None:
        """Give every waiting ticket its place in the order the round-robin will serve them."""
        lines = [list(line) for line in self._lines.values()]
        place = 0
        for depth in range(max((len(line) for line in lines), default=0)):
            for line in lines:
                if depth < len(line):
                    place += 1
                    line[depth]._move_to(place)
