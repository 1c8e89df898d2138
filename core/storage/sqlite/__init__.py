"""The embedded backend: one SQLite file under ``DATA_DIR`` (aiosqlite, WAL) for one process."""

from __future__ import annotations

from core.storage.sqlite.backend import SqliteBackend

__all__ = ["SqliteBackend"]
