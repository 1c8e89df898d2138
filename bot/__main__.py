"""Entry point: ``python -m bot`` runs the Discord bot, ``python -m bot console`` the console,
``python -m bot cluster --processes N`` N bot processes splitting the shards.

This is the only place that starts an event loop (``asyncio.run``).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from core.errors import ConfigError
from core.settings import Settings, load_settings

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Self-hosted Discord intelligence bot.")
    sub = parser.add_subparsers(dest="mode")
    console = sub.add_parser("console", help="offline console front end (no Discord, no token)")
    console.add_argument("--run", metavar="COMMAND", action="append",
                         help='run a command and exit, e.g. --run "/autointel notes.md depth:quick"')
    console.add_argument("--json", action="store_true", help="print the report as JSON instead of rendering it")
    cluster = sub.add_parser("cluster", help="run N bot processes, each for its share of the shards (PostgreSQL)")
    cluster.add_argument("--processes", type=int, required=True, metavar="N", help="how many bot processes")
    cluster.add_argument("--shard-count", type=int, metavar="S",
                         help="total shards, dealt round-robin to the processes (default: SHARD_COUNT, else N)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings: Settings = load_settings()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    from bot.logs import configure_logging

    configure_logging(settings)
    if args.mode == "console":
        from bot.console import run_console

        # Ctrl-C ends the console however it was started, as SIGINT and SIGTERM end the bot
        # (bot.launcher): a parent that ignores SIGINT (a non-interactive shell's background job,
        # `make` under it) would otherwise pass the ignoring on, and asyncio.run only takes over
        # SIGINT from Python's default handler.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            return asyncio.run(run_console(settings, commands=args.run, as_json=args.json))
        except KeyboardInterrupt:  # Ctrl-C: the runtime was closed as the task unwound
            print(file=sys.stderr)
            return 130
    if args.mode == "cluster":
        from bot.cluster import run_cluster

        return asyncio.run(run_cluster(settings, processes=args.processes, shard_count=args.shard_count))
    from bot.launcher import run_bot

    return asyncio.run(run_bot(settings))


if __name__ == "__main__":
    sys.exit(main())
