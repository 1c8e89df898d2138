"""The shared backend: PostgreSQL through an asyncpg pool, for one or many bot processes."""

from __future__ import annotations

from core.storage.postgres.backend import PostgresBackend

__all__ = ["PostgresBackend"]
