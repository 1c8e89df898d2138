"""Analysis engines.  Each turns source documents into an :class:`~core.models.IntelReport`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from core.models import IntelReport, SourceDocument
from core.progress import ProgressSink
from core.settings import Depth

__all__ = ["AnalysisEngine"]


class AnalysisEngine(Protocol):
    """What the service needs of an engine (local or LLM)."""

    @property
    def name(self) -> str:
        """Short identity used in cache namespaces, e.g. ``local`` or ``llm:<model>``."""
        ...

    async def analyse(
        self, sources: Sequence[SourceDocument], *, depth: Depth, progress: ProgressSink
    ) -> IntelReport: ...
