"""Batch fetching: wall time of five URLs at concurrency 1, 3 and 5, and the guard's own cost.

Run: ``.venv/bin/python benchmarks/fetch_bench.py`` (options: ``--latency 0.2``, ``--repeat 5``).

A loopback aiohttp server answers every page after ``--latency`` seconds (a stand-in for a real
site's response time) with the test article (HTML, extracted with trafilatura on the worker gate).
The reader is the production one with the test-only loopback allowance.  Rows are measured side by
side in one run; the median of ``--repeat`` runs is shown, with the speed-up over concurrency 1.
The last row times :meth:`UrlGuard.check` (parse, port, names, resolve via a static resolver,
address rules) per URL over the hostile-URL table, refusals included.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.errors import IntelError
from core.fetch.guard import UrlGuard
from core.fetch.reader import SourceReader
from core.fetch.transport import tls_context
from core.gate import WorkerGate
from core.settings import Settings
from tests.fakes.web_server import ARTICLE_HTML, StaticResolver

URLS = 5


async def start_server(latency: float) -> tuple[web.AppRunner, int]:
    async def page(request: web.Request) -> web.Response:
        await asyncio.sleep(latency)
        # A different article per path, so the batch does not collapse same-text duplicates.
        body = ARTICLE_HTML.replace("Riverton", f"Riverton{request.match_info['number']}")
        return web.Response(text=body, content_type="text/html")

    app = web.Application()
    app.add_routes([web.get("/article/{number}", page)])
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    await web.SockSite(runner, listener).start()
    return runner, listener.getsockname()[1]


async def time_batches(reader: SourceReader, port: int, *, repeat: int) -> dict[int, float]:
    urls = [f"http://news.test:{port}/article/{number}" for number in range(URLS)]
    medians: dict[int, float] = {}
    for concurrency in (1, 3, 5):
        runs = []
        for _ in range(repeat):
            started = time.perf_counter()
            batch = await reader.read_batch(urls, concurrency=concurrency)
            runs.append(time.perf_counter() - started)
            assert len(batch.documents) == URLS, batch.failed_sources
        medians[concurrency] = statistics.median(runs)
    return medians


async def time_guard(repeat: int) -> float:
    from tests.core.fetch.test_guard import HOSTILE_URLS, default_guard

    guard = default_guard()
    started = time.perf_counter()
    for _ in range(repeat):
        for url, _reason in HOSTILE_URLS:
            try:
                await guard.check(url)
            except IntelError:
                pass
    return (time.perf_counter() - started) / (repeat * len(HOSTILE_URLS))


async def main(latency: float, repeat: int) -> None:
    runner, port = await start_server(latency)
    guard = UrlGuard(
        allowed_ports=[port], resolver=StaticResolver({"news.test": ["127.0.0.1"]}),
        test_allowed_networks=["127.0.0.1/32"],
    )
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(_env_file=None, data_dir=Path(data_dir))  # type: ignore[call-arg]
        async with WorkerGate(max_workers=2) as gate:
            reader = SourceReader.from_settings(settings, gate=gate, guard=guard, tls_context=await gate.run(tls_context))
            await reader.read_batch([f"http://news.test:{port}/article/warmup"])  # imports trafilatura
            medians = await time_batches(reader, port, repeat=repeat)
    await runner.cleanup()
    per_check = await time_guard(repeat=200)
    print(f"{URLS} URLs, server latency {latency * 1000:.0f} ms, median of {repeat} runs, 2-worker gate")
    print(f"{'concurrency':>12} | {'wall time (s)':>13} | {'speed-up vs 1':>13}")
    print(f"{'-' * 12}-+-{'-' * 13}-+-{'-' * 13}")
    for concurrency, seconds in medians.items():
        print(f"{concurrency:>12} | {seconds:>13.3f} | {medians[1] / seconds:>12.2f}x")
    print(f"\nUrlGuard.check: {per_check * 1e6:.0f} µs per URL (hostile table, static resolver)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--repeat", type=int, default=5)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.latency, arguments.repeat))
