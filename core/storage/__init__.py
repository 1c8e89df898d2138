"""The storage seam: every durable store behind a small protocol, over SQLite or PostgreSQL.

:class:`Storage` holds one :class:`~core.storage.base.Backend` and the five stores over it.  The
runtime builds it with :meth:`Storage.from_settings` (``DATABASE_URL`` set: PostgreSQL; unset:
SQLite under ``DATA_DIR``), ``await storage.open()`` connects and applies pending migrations.
See ``docs/storage.md``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from core.storage.base import Backend, ChangeListener
from core.storage.models import ChangeEvent, feedback_key, normalise_feedback_text
from core.storage.protocols import CacheRows, FeedbackRows, GuildSettingsRows, ReportRows, SpendRows
from core.storage.server_rows import (
    PrivacyRows,
    ScheduleRows,
    SqlPrivacyRows,
    SqlScheduleRows,
    SqlWatchRows,
    WatchRows,
)
from core.storage.stores import (
    SqlCacheRows,
    SqlFeedbackRows,
    SqlGuildSettingsRows,
    SqlReportRows,
    SqlSpendRows,
)

__all__ = [
    "Backend",
    "CacheRows",
    "ChangeEvent",
    "ChangeListener",
    "FeedbackRows",
    "GuildSettingsRows",
    "ReportRows",
    "SpendRows",
    "Storage",
    "feedback_key",
    "normalise_feedback_text",
]

if TYPE_CHECKING:
    from core.settings import Settings

_log = logging.getLogger(__name__)


class Storage:
    """The bot's stores over one backend.  ``async with Storage(backend) as storage``."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.cache: CacheRows = SqlCacheRows(backend)
        self.reports: ReportRows = SqlReportRows(backend)
        self.guild_settings: GuildSettingsRows = SqlGuildSettingsRows(backend)
        self.spend: SpendRows = SqlSpendRows(backend)
        self.feedback: FeedbackRows = SqlFeedbackRows(backend)
        self.privacy: PrivacyRows = SqlPrivacyRows(backend)
        self.schedules: ScheduleRows = SqlScheduleRows(backend)
        self.watches: WatchRows = SqlWatchRows(backend)

    @classmethod
    def from_settings(cls, settings: Settings) -> Storage:
        """PostgreSQL when ``settings.database_url`` is set, else SQLite at ``settings.database_path``.  No I/O."""
        if settings.database_url is not None:
            from core.storage.postgres import PostgresBackend

            return cls(PostgresBackend(settings.database_url.get_secret_value(), pool_size=settings.database_pool_size))
        from core.storage.sqlite import SqliteBackend

        return cls(SqliteBackend(settings.database_path))

    @property
    def kind(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.backend.dialect.name

    async def __aenter__(self) -> Storage:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def open(self) -> None:
        """Connect and migrate.  With SQLite (one process owns the file) leftover budget reservations
        of a process that died are dropped; PostgreSQL keeps them (see docs/storage.md)."""
        await self.backend.open()
        if self.backend.single_process:
            dropped = await self.spend.clear_reservations()
            if dropped:
                _log.info("dropped %d LLM budget reservations left by the previous run", dropped)

    def subscribe(self, listener: ChangeListener) -> None:
        """Hear about changes other processes made (PostgreSQL only; SQLite has no other process)."""
        self.backend.subscribe(listener)

    async def close(self) -> None:
        await self.backend.close()
