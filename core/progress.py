"""Progress reporting from the engine to whichever front end is listening."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

__all__ = ["Progress", "ProgressSink", "ignore_progress"]


@dataclass(frozen=True, slots=True)
class Progress:
    """One progress step: a stage name, an optional count, and a short human-readable line."""

    stage: str
    detail: str = ""
    done: int = 0
    total: int = 0

    def describe(self) -> str:
        count = f" ({self.done}/{self.total})" if self.total else ""
        detail = f": {self.detail}" if self.detail else ""
        return f"{self.stage}{count}{detail}"


ProgressSink = Callable[[Progress], Awaitable[None]]


async def ignore_progress(progress: Progress) -> None:
    """A sink that drops every update."""
