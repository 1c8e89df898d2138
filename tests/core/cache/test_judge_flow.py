"""The cache asks the judge about a borderline candidate only when the guild turned it on."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from core.cache import Candidate, SemanticCache, StoreItem
from core.cache.decision import Decision
from tests.core.cache.conftest import Answer, CacheHarness

GUILD = 6_006
NAMESPACE = "ask:extractive:1"
STORED = "Which laptop should a student buy?"
QUERY = "Best laptop for students"


class AlwaysBorderline:
    """A decider that finds every nearest candidate borderline (the decision is not under test here)."""

    def decide(self, query: str, candidates: Sequence[Candidate], *, threshold: float, strictness: str = "balanced",
               excluded: Collection[str] = ()) -> Decision:
        return Decision(borderline=candidates[0], probability=0.6) if candidates else Decision()


class RecordingJudge:
    def __init__(self, verdict: bool) -> None:
        self.verdict = verdict
        self.asked: list[tuple[int, str, str]] = []

    async def same_request(self, guild_id: int, query: str, stored: str) -> bool:
        self.asked.append((guild_id, query, stored))
        return self.verdict


async def _cache_with(harness: CacheHarness, judge: RecordingJudge, *, llm_verify: bool) -> SemanticCache:
    cache = await harness.open(decider=AlwaysBorderline(), judge=judge)
    await harness.guild_settings.update(GUILD, cache_llm_verify=llm_verify)  # type: ignore[union-attr]
    await cache.store_many(GUILD, NAMESPACE, [StoreItem(query_text=STORED, value=Answer(text=STORED))])
    return cache


async def test_a_guild_with_llm_verification_serves_what_the_judge_accepts(harness: CacheHarness) -> None:
    judge = RecordingJudge(verdict=True)
    cache = await _cache_with(harness, judge, llm_verify=True)

    hit = await cache.lookup(GUILD, NAMESPACE, QUERY, model=Answer)

    assert hit is not None and hit.value.text == STORED and hit.how == "semantic"
    assert judge.asked == [(GUILD, QUERY, STORED)]


async def test_a_judge_that_says_no_is_a_miss(harness: CacheHarness) -> None:
    judge = RecordingJudge(verdict=False)
    cache = await _cache_with(harness, judge, llm_verify=True)

    assert await cache.lookup(GUILD, NAMESPACE, QUERY, model=Answer) is None
    assert len(judge.asked) == 1


async def test_without_llm_verification_the_judge_is_never_asked(harness: CacheHarness) -> None:
    judge = RecordingJudge(verdict=True)
    cache = await _cache_with(harness, judge, llm_verify=False)

    assert await cache.lookup(GUILD, NAMESPACE, QUERY, model=Answer) is None
    assert judge.asked == []
