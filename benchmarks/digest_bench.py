"""Digest benchmark: the local digest engine on 1,000 and 10,000 chat messages.

Measures, per size, in its own child process (so its peak RSS is its own): the wall time of one
digest (embedding every message, clustering, rules), the process's peak RSS, and the longest
event-loop stall while the digest ran (a :class:`core.looplag.LoopLagMonitor` samples the loop
every 20 ms; the digest runs through the worker gate as it does in the bot).  The model is loaded
before timing, as the bot does at start-up.

Run: ``python -m benchmarks.digest_bench`` (``--sizes 1000,10000``).  Targets: 1,000 messages in
under 5 s, loop stalls under 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

from core.digest.local import LocalDigester, usable_messages
from core.digest.models import ChatMessage
from core.embedder import build_embedder
from core.gate import WorkerGate
from core.looplag import LoopLagMonitor
from core.settings import Settings

_TOPICS = [
    ["release candidate build", "ARM runners", "compiler version", "release pipeline", "release notes"],
    ["team lunch", "Thai restaurant", "vegetarian dishes", "lunch budget", "table booking"],
    ["backend candidate", "system design interview", "platform team", "job offer", "hiring plan"],
    ["database migration", "PostgreSQL upgrade", "index rebuild", "replication lag", "backup window"],
    ["customer outage", "status page", "incident review", "on-call rota", "pager alerts"],
]
_FORMS = [
    "I think the {a} is blocked by the {b} again.",
    "Can someone check whether the {a} still depends on the {b}?",
    "We decided to move the {a} after the {b} is sorted.",
    "The {a} looked fine this morning, the {b} did not.",
    "Here is the doc on the {a}: https://wiki.example.com/{slug}",
    "ok",
    "Agreed, the {b} comes first, then the {a}.",
]


def synthetic_chat(count: int) -> list[ChatMessage]:
    """``count`` messages from 25 people over five interleaved conversations, one every 20 s."""
    start = datetime(2026, 3, 2, 8, tzinfo=UTC)
    messages = []
    for number in range(count):
        topic = _TOPICS[(number // 9) % len(_TOPICS)]
        a, b = topic[number % 5], topic[(number * 3 + 1) % 5]
        text = _FORMS[number % len(_FORMS)].format(a=a, b=b, slug=a.replace(" ", "-")) + f" ({number})"
        author = number * 7 % 25
        messages.append(ChatMessage(
            message_id=number + 1, author_id=author + 1, author=f"member{author}",
            created_at=start + timedelta(seconds=20 * number), content=text, is_bot=number % 50 == 0,
            jump_url=f"https://discord.com/channels/1/2/{number + 1}",
        ))
    return messages


async def _measure(size: int) -> dict[str, float]:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    embedder = build_embedder(settings)
    embedder.embed(["load the model"])
    messages, skipped = usable_messages(synthetic_chat(size))
    async with WorkerGate(max_workers=settings.worker_threads) as gate:
        digester = LocalDigester(embedder=embedder, gate=gate)
        monitor = LoopLagMonitor()
        monitor.start()
        started = time.perf_counter()
        digest = await digester.digest(messages, skipped=skipped)
        seconds = time.perf_counter() - started
        await monitor.stop()
    return {
        "messages": size, "seconds": seconds, "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "max_stall_ms": monitor.snapshot().max_lag_seconds * 1000, "topics": len(digest.topics),
        "decisions": len(digest.decisions), "questions": len(digest.open_questions), "links": len(digest.links),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(asyncio.run(_measure(args.child))))
        return 0
    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}, "
          f"{platform.system()} {platform.release()}")
    print("| messages | time (s) | peak RSS (MiB) | longest loop stall (ms) | topics / decisions / questions / links |")
    print("| ---: | ---: | ---: | ---: | --- |")
    for size in (int(part) for part in args.sizes.split(",")):
        child = subprocess.run([sys.executable, "-m", "benchmarks.digest_bench", "--child", str(size)],
                               capture_output=True, text=True, check=True)
        result = json.loads(child.stdout.strip().splitlines()[-1])
        print(f"| {size:,} | {result['seconds']:.2f} | {result['peak_rss_mib']:.0f} | {result['max_stall_ms']:.0f} | "
              f"{result['topics']} / {result['decisions']} / {result['questions']} / {result['links']} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
