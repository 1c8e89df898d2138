"""What a storage backend is: SQL execution, one ``transaction()`` API, migrations, announcements.

Both backends (:mod:`core.storage.sqlite`, :mod:`core.storage.postgres`) implement
:class:`Backend`.  The stores in :mod:`core.storage.stores` are written once against it: their SQL
uses PostgreSQL-style ``$1`` placeholders (SQLite runs them as its numbered ``?1``), and the only
dialect difference they need, a list of ids as one parameter, is :class:`Dialect`.

Every write goes through ``async with backend.transaction() as tx``: all its statements commit
together or none does.  Reads that need no transaction use :meth:`Backend.reading`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from importlib import resources
from typing import Any, Protocol

from core.storage.models import ChangeEvent

__all__ = [
    "Backend",
    "ChangeListener",
    "Dialect",
    "Executor",
    "Migration",
    "Row",
    "Transaction",
    "load_migrations",
    "rowcount",
]

_log = logging.getLogger(__name__)

ChangeListener = Callable[[ChangeEvent], None]


class Row(Protocol):
    """A result row: ``row["column"]`` or ``row[0]`` (aiosqlite's ``Row``, asyncpg's ``Record``)."""

    def __getitem__(self, key: str | int, /) -> Any: ...


@dataclass(frozen=True, slots=True)
class Dialect:
    """The SQL that differs between backends: "column is one of these ids" as a single parameter."""

    name: str
    id_list_template: str
    encode_ids: Callable[[Sequence[int]], object]

    def in_ids(self, column: str, param: int) -> str:
        """SQL true when ``column`` is one of the ids passed (encoded by :attr:`encode_ids`) as ``$param``."""
        return self.id_list_template.format(column=column, param=param)


class Executor(Protocol):
    """Runs SQL with ``$1``-style placeholders."""

    dialect: Dialect

    async def execute(self, sql: str, *args: object) -> int:
        """Run one statement; returns the number of rows it changed."""
        ...

    async def executemany(self, sql: str, args: Sequence[Sequence[object]]) -> None: ...

    async def fetch(self, sql: str, *args: object) -> list[Row]: ...

    async def fetchrow(self, sql: str, *args: object) -> Row | None: ...

    async def fetchval(self, sql: str, *args: object) -> Any: ...


class Transaction(Executor, Protocol):
    """An :class:`Executor` inside one transaction; :meth:`announce` is sent only if it commits."""

    def announce(self, event: ChangeEvent) -> None: ...


class Backend(Protocol):
    """One database.  ``open()`` connects and applies pending migrations; ``close()`` is idempotent."""

    dialect: Dialect
    origin: str
    single_process: bool

    @property
    def is_open(self) -> bool: ...

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    def transaction(self) -> AbstractAsyncContextManager[Transaction]: ...

    def reading(self) -> AbstractAsyncContextManager[Executor]: ...

    def subscribe(self, listener: ChangeListener) -> None:
        """Call ``listener`` for every change another process announces (never for this one's own)."""
        ...

    async def schema_version(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations(package: str) -> list[Migration]:
    """The ``NNNN_name.sql`` files of ``package``'s ``migrations`` folder, in version order."""
    folder = resources.files(package).joinpath("migrations")
    found = []
    for item in folder.iterdir():
        name = item.name
        if not name.endswith(".sql"):
            continue
        number, _, rest = name.partition("_")
        found.append(Migration(version=int(number), name=rest.removesuffix(".sql"), sql=item.read_text("utf-8")))
    found.sort(key=lambda migration: migration.version)
    versions = [migration.version for migration in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migrations of {package} are not numbered 1..n: {versions}")
    return found


def rowcount(status: str) -> int:
    """Rows changed, from a PostgreSQL command tag such as ``DELETE 3`` or ``INSERT 0 1``."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0
