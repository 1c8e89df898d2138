"""Step one of start-up: check the settings, build the runtime and the bot, run until a signal.

``bot/__main__.py`` has already loaded settings and configured logging; :func:`run_bot` runs
``async with IntelBot(...) as bot: await bot.start(token)`` and turns every way it can end into an
exit code and, for a failure, one clear line on stderr:

* 0: stopped by SIGINT/SIGTERM (the bot and the runtime, DB and gate included, are closed);
* 2: a setting is missing or wrong (no ``DISCORD_TOKEN``, a token Discord rejects, a bad
  ``EMBEDDING_MODEL``): the user has to fix a setting, the same class of failure as a malformed one;
* 1: anything else (Discord unreachable, an unexpected error; details in the log).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import aiohttp
import discord

from core.errors import ConfigError, IntelError
from core.settings import Settings

if TYPE_CHECKING:
    from bot.client import IntelBot
    from core.runtime import IntelRuntime

__all__ = ["EXIT_CONFIG", "EXIT_FAILURE", "EXIT_OK", "run_bot"]

_log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_CONFIG = 2

_SHUTDOWN_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _fail(message: str, code: int) -> int:
    print(message, file=sys.stderr, flush=True)
    return code


async def run_bot(settings: Settings) -> int:
    """Run the Discord bot until it is stopped; return the process exit code."""
    if settings.discord_token is None:
        missing = ConfigError(
            "DISCORD_TOKEN",
            "not set; put your bot's token in the environment or in .env (see docs/discord.md)",
        )
        return _fail(f"configuration error: {missing}", EXIT_CONFIG)
    # Imported only now: the engine pulls in torch and FAISS (seconds), and a missing token should
    # be reported at once and alone.
    from core.runtime import IntelRuntime

    runtime = IntelRuntime(settings)
    try:
        return await _run_until_stopped(settings, runtime)
    finally:
        await runtime.close()


async def _run_until_stopped(settings: Settings, runtime: IntelRuntime) -> int:
    from bot.client import build_bot

    assert settings.discord_token is not None
    bot = build_bot(settings=settings, runtime=runtime)
    shutdown = _Shutdown()
    try:
        async with bot:
            async with _close_on_signals(bot, shutdown):
                await bot.start(settings.discord_token.get_secret_value())
    except Exception as error:
        if shutdown.requested:
            # A signal during start-up closes the runtime under setup_hook; that is a clean stop.
            _log.info("stopped during start-up", exc_info=_log.isEnabledFor(logging.DEBUG))
            return EXIT_OK
        return _exit_code_for_failure(error, settings)
    _log.info("shut down cleanly")
    return EXIT_OK


def _exit_code_for_failure(error: Exception, settings: Settings) -> int:
    """One clear line on stderr for why the bot stopped, and the exit code that goes with it."""
    if isinstance(error, discord.LoginFailure):
        return _fail(
            "configuration error: DISCORD_TOKEN: Discord rejected the token; copy it again from the "
            "Developer Portal (Bot > Reset Token)",
            EXIT_CONFIG,
        )
    if isinstance(error, ConfigError):
        return _fail(f"configuration error: {error}", EXIT_CONFIG)
    if isinstance(error, aiohttp.ClientError | OSError | discord.GatewayNotFound):
        _log.debug("connection failure", exc_info=error)
        where = settings.discord_api_base_url or "discord.com"
        return _fail(f"error: could not reach Discord at {where}: {error or type(error).__name__}", EXIT_FAILURE)
    if isinstance(error, IntelError):
        return _fail(f"error: {error}", EXIT_FAILURE)
    _log.error("the bot stopped on an unexpected error", exc_info=error)
    return _fail("error: the bot stopped on an unexpected error; see the log above", EXIT_FAILURE)


class _Shutdown:
    """Whether a shutdown signal has arrived."""

    requested = False


@contextlib.asynccontextmanager
async def _close_on_signals(bot: IntelBot, shutdown: _Shutdown) -> AsyncIterator[None]:
    """SIGINT/SIGTERM close the bot, which makes ``bot.start`` return; on exit, wait for that close."""
    loop = asyncio.get_running_loop()
    closing: set[asyncio.Task[None]] = set()

    def request_close(signame: str) -> None:
        _log.info("received %s, shutting down", signame)
        shutdown.requested = True
        task = loop.create_task(bot.close())
        closing.add(task)
        task.add_done_callback(closing.discard)

    for sig in _SHUTDOWN_SIGNALS:
        loop.add_signal_handler(sig, request_close, sig.name)
    try:
        yield
    finally:
        for sig in _SHUTDOWN_SIGNALS:
            loop.remove_signal_handler(sig)
        # bot.start returns as soon as the close begins; the runtime must be closed before we go.
        await asyncio.gather(*closing, return_exceptions=True)
