"""What the LLM layer costs around the engines: each path of /autointel, timed side by side.

Run: ``.venv/bin/python benchmarks/llm_bench.py`` (options: ``--repeat N``, default 5, the median
is reported; ``--sample samples/renewables_article.md``).

A fake OpenAI-compatible server on 127.0.0.1 (``tests/fakes/fake_llm.py``) answers at once, so the
figures are the bot's own overhead, not a model's latency.  Every path runs through the real
``IntelRuntime`` and ``IntelService`` (cache bypassed with ``fresh=True``, cooldown 0) at depth
``quick``:

* ``local only``: no LLM configured (the baseline);
* ``LLM answers``: one HTTP call, validation, grounding (quote checks, counts, theme embeddings);
* ``breaker open -> local``: the breaker refuses, the local engine runs;
* ``401 -> local``: one refused HTTP call, then the local engine;
* ``over budget -> local``: the ledger refuses (one SQLite read), then the local engine.

The ratios to ``local only`` show what a fallback adds to the wait: the target is under 1.1x.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from core.embedder import SentenceTransformerEmbedder
from core.llm import BreakerPolicy, CircuitBreaker
from core.runtime import IntelRuntime
from core.service import AutointelRequest, IntelService
from core.settings import Settings, default_embedding_model_path
from tests.fakes.fake_llm import FakeLLM, FakeReply


def _request(text: str) -> AutointelRequest:
    return AutointelRequest(guild_id=1, user_id=1, target=text, depth="quick", fresh=True)


async def _median_seconds(run: Callable[[], Awaitable[object]], *, repeat: int) -> float:
    await run()  # warm-up
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        await run()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


async def _runtime(data_dir: Path, embedder: SentenceTransformerEmbedder, **llm: object) -> IntelRuntime:
    settings = Settings(_env_file=None, data_dir=data_dir, user_cooldown_seconds=0, **llm)  # type: ignore[call-arg]
    runtime = IntelRuntime(settings, embedder=embedder)
    await runtime.start()
    return runtime


async def _measure(text: str, *, repeat: int, embedder: SentenceTransformerEmbedder) -> dict[str, float]:
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        async with FakeLLM() as server:
            local = await _runtime(Path(tmp) / "local", embedder)
            llm = await _runtime(Path(tmp) / "llm", embedder, llm_base_url=server.base_url, llm_model="fake/model")
            try:
                assert local.service is not None and llm.service is not None and llm.llm is not None
                local_service: IntelService = local.service
                llm_service: IntelService = llm.service
                results["local only"] = await _median_seconds(
                    lambda: local_service.autointel(_request(text)), repeat=repeat)
                results["LLM answers"] = await _median_seconds(
                    lambda: llm_service.autointel(_request(text)), repeat=repeat)

                async def after_401() -> object:
                    server.script(FakeReply.error(401, "bad key"))
                    return await llm_service.autointel(_request(text))

                results["401 -> local"] = await _median_seconds(after_401, repeat=repeat)
                await llm.guild_settings.update(1, daily_budget_usd=0.0)
                results["over budget -> local"] = await _median_seconds(
                    lambda: llm_service.autointel(_request(text)), repeat=repeat)
                await llm.guild_settings.reset(1)
                llm.llm.breaker = CircuitBreaker(server.base_url, policy=BreakerPolicy(failure_threshold=1,
                                                                                      cooldown_seconds=3600))
                server.script(FakeReply.error(500))
                await llm_service.autointel(_request(text))  # one failure trips it
                assert llm.llm.breaker.state == "open"
                results["breaker open -> local"] = await _median_seconds(
                    lambda: llm_service.autointel(_request(text)), repeat=repeat)
            finally:
                await llm.close()
                await local.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sample", default="samples/renewables_article.md")
    args = parser.parse_args()
    text = Path(args.sample).read_text(encoding="utf-8")
    embedder = SentenceTransformerEmbedder(default_embedding_model_path(), torch_threads=2)
    embedder.load()
    results = asyncio.run(_measure(text, repeat=args.repeat, embedder=embedder))
    baseline = results["local only"]
    print(f"{len(text.split()):,} words, depth quick, median of {args.repeat}")
    print(f"{'path':<24}{'seconds':>10}{'x local':>10}")
    for name, seconds in results.items():
        print(f"{name:<24}{seconds:>10.3f}{seconds / baseline:>10.2f}")


if __name__ == "__main__":
    main()
