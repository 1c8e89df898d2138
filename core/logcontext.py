"""Request context for log lines: which guild and command a line belongs to.

Front ends call :func:`bind_request` at the start of a command; :class:`RequestContextFilter`
adds ``guild_id`` and ``command`` to every record logged while it runs (contextvars follow the
task, and the worker gate copies the context onto its threads).
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["RequestContextFilter", "bind_request", "bind_request_in_task"]

_guild_id: contextvars.ContextVar[int | None] = contextvars.ContextVar("guild_id", default=None)
_command: contextvars.ContextVar[str | None] = contextvars.ContextVar("command", default=None)


@contextmanager
def bind_request(*, guild_id: int | None, command: str) -> Iterator[None]:
    guild_token = _guild_id.set(guild_id)
    command_token = _command.set(command)
    try:
        yield
    finally:
        _guild_id.reset(guild_token)
        _command.reset(command_token)


def bind_request_in_task(*, guild_id: int | None, command: str) -> None:
    """Bind for the rest of the current task, without a ``with`` block.

    For a front end whose framework runs each command in a task of its own (discord.py starts one
    per interaction) and gives a public hook only at its start: the values die with the task's
    context, so nothing leaks to other commands.
    """
    _guild_id.set(guild_id)
    _command.set(command)


class RequestContextFilter(logging.Filter):
    """Adds ``record.guild_id`` and ``record.command`` (``-`` outside a command)."""

    def filter(self, record: logging.LogRecord) -> bool:
        guild_id = _guild_id.get()
        record.guild_id = "-" if guild_id is None else guild_id
        record.command = _command.get() or "-"
        return True
