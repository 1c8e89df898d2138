"""The LLM judge of borderline cache candidates, against the fake OpenAI-compatible server."""

from __future__ import annotations

from core.guild_settings import GuildSettingsStore
from core.llm import LLMBackend
from core.llm.judge import JUDGE_SYSTEM_PROMPT, LLMHitJudge
from core.storage import Storage
from tests.core.llm.conftest import BackendFactory
from tests.fakes.fake_llm import FakeLLM, FakeReply

GUILD = 77


async def _judge(make_backend: BackendFactory, database: Storage, **overrides: object) -> tuple[LLMHitJudge, LLMBackend]:
    backend = await make_backend(max_attempts=1, **overrides)
    return LLMHitJudge(backend, guild_settings=GuildSettingsStore(database.guild_settings, backend.settings)), backend


async def test_a_clear_yes_is_a_hit_and_is_paid_for(make_backend: BackendFactory, database: Storage,
                                                    fake_llm: FakeLLM) -> None:
    judge, backend = await _judge(make_backend, database)
    fake_llm.script(FakeReply.content('{"same": true}', cost=0.002))

    same = await judge.same_request(GUILD, "why was coinbase fined by the SEC", "Why did the SEC fine Coinbase?")

    assert same is True
    request = fake_llm.chat_requests[-1]
    assert request.messages[0]["content"] == JUDGE_SYSTEM_PROMPT
    assert "Coinbase" in request.messages[1]["content"]
    spent = await backend.ledger.spent_today(GUILD)
    assert spent.calls == 1 and spent.cost_usd > 0


async def test_no_malformed_output_and_errors_are_all_misses(make_backend: BackendFactory, database: Storage,
                                                             fake_llm: FakeLLM) -> None:
    judge, _ = await _judge(make_backend, database)
    fake_llm.script(FakeReply.content('{"same": false}'), FakeReply.content("yes, they are the same"),
                    FakeReply.content('{"same": "true"}'), FakeReply.error(500))

    verdicts = [await judge.same_request(GUILD, "a", "b") for _ in range(4)]

    assert verdicts == [False, False, False, False]


async def test_an_exhausted_budget_is_a_miss_without_a_call(make_backend: BackendFactory, database: Storage,
                                                            fake_llm: FakeLLM) -> None:
    judge, _ = await _judge(make_backend, database, llm_daily_budget_usd=0.0)

    assert await judge.same_request(GUILD, "a", "b") is False
    assert fake_llm.chat_requests == []
