"""DATABASE_URL picks the backend; a bad one stops start-up with a message naming the setting."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from core.embedder import Embedder
from core.errors import ConfigError
from core.runtime import IntelRuntime
from core.settings import Settings, load_settings
from core.storage import Storage
from core.storage.postgres import PostgresBackend
from core.storage.sqlite import SqliteBackend


def test_unset_database_url_keeps_sqlite_under_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path, database_url="")  # type: ignore[call-arg]

    storage = Storage.from_settings(settings)

    assert isinstance(storage.backend, SqliteBackend) and storage.kind == "sqlite"
    assert storage.backend.path == tmp_path / "intel.db"


def test_a_postgresql_url_selects_postgresql_and_is_not_shown(tmp_path: Path) -> None:
    url = "postgresql://intel:secret@db.internal:5432/intel"
    settings = Settings(_env_file=None, data_dir=tmp_path, database_url=url)  # type: ignore[call-arg]

    storage = Storage.from_settings(settings)

    assert isinstance(storage.backend, PostgresBackend) and storage.kind == "postgresql"
    assert "secret" not in repr(settings) and "secret" not in str(settings.database_url)


def test_a_database_url_that_is_not_postgresql_names_the_setting() -> None:
    with pytest.raises(ConfigError, match=r"DATABASE_URL: .*PostgreSQL URL"):
        load_settings(_env_file=None, database_url="mysql://localhost/intel")


async def test_runtime_on_postgresql_keeps_settings_across_a_restart(
    postgres_dsn: str, tmp_path: Path, embedder: Embedder
) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", database_url=postgres_dsn)  # type: ignore[call-arg]
    async with IntelRuntime(settings, embedder=embedder) as runtime:
        assert runtime.storage.kind == "postgresql"
        await runtime.guild_settings.update(77, default_depth="deep")

    async with IntelRuntime(settings, embedder=embedder) as restarted:
        depth = (await restarted.guild_settings.effective(77)).default_depth

    assert depth == "deep"
    assert not (tmp_path / "data" / "intel.db").exists(), "nothing was written to SQLite"


async def test_two_runtimes_on_one_postgresql_see_each_others_settings(
    postgres_dsn: str, tmp_path: Path, embedder: Embedder
) -> None:
    def settings_in(folder: str) -> Settings:
        return Settings(_env_file=None, data_dir=tmp_path / folder, database_url=postgres_dsn)  # type: ignore[call-arg]

    async with IntelRuntime(settings_in("one"), embedder=embedder) as first, \
            IntelRuntime(settings_in("two"), embedder=embedder) as second:
        assert (await second.guild_settings.effective(5)).user_cooldown_seconds == 10.0
        await first.guild_settings.update(5, user_cooldown_seconds=3)
        for _ in range(50):
            if (await second.guild_settings.effective(5)).user_cooldown_seconds == 3:
                break
            await asyncio.sleep(0.02)
        seen = (await second.guild_settings.effective(5)).user_cooldown_seconds

    assert seen == 3, "the second runtime still served its cached settings after a second"
