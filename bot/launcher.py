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
    from bot.client import IntelBot

    assert settings.discord_token is not None
    bot = IntelBot(settings=settings, runtime=runtime)
    try:
        async with bot:
            async with _close_on_signals(bot):
                await bot.start(settings.discord_token.get_secret_value())
    except discord.LoginFailure:
        return _fail(
            "configuration error: DISCORD_TOKEN: Discord rejected the token; copy it again from the "
            "Developer Portal (Bot > Reset Token)",
            EXIT_CONFIG,
        )
    except ConfigError as exc:
        return _fail(f"configuration error: {exc}", EXIT_CONFIG)
    except (aiohttp.ClientError, OSError, discord.GatewayNotFound) as exc:
        _log.debug("connection failure", exc_info=True)
        where = settings.discord_api_base_url or "discord.com"
        return _fail(f"error: could not reach Discord at {where}: {exc or type(exc).__name__}", EXIT_FAILURE)
    except IntelError as exc:
        return _fail(f"error: {exc}", EXIT_FAILURE)
    except Exception:
        _log.exception("the bot stopped on an unexpected error")
        return _fail("error: the bot stopped on an unexpected error; see the log above", EXIT_FAILURE)
    _log.info("shut down cleanly")
    return EXIT_OK


@contextlib.asynccontextmanager
async def _close_on_signals(bot: IntelBot) -> AsyncIterator[None]:
    """SIGINT/SIGTERM close the bot, which makes ``bot.start`` return; on exit, wait for that close."""
    loop = asyncio.get_running_loop()
    closing: set[asyncio.Task[None]] = set()

    def request_close(signame: str) -> None:
        _log.info("received %s, shutting down", signame)
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
