"""``/ask`` and the report library through the real runtime: local engine, real cache, fake LLM server."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from core.embedder import Embedder
from core.errors import InputError, InputTooLargeError
from core.runtime import IntelRuntime
from core.service import AskRequest, AutointelRequest, IntelService
from core.settings import Settings
from tests.e2e.texts import FERRY_TEXT, ORCHARD_TEXT
from tests.fakes.fake_llm import FakeLLM, FakeReply, fake_llm
from tests.report_factory import url_report

__all__ = ["fake_llm"]

GUILD, OTHER_GUILD = 501, 502


Factory = Callable[..., Any]




SOLAR = url_report(
    "Solar power growth", "https://example.org/solar",
    "Solar capacity in Spain doubled between 2020 and 2024. Cheaper panels drove most of the growth.",
    ["Panel prices fell by 40 percent over four years, which made rooftop solar profitable for households."],
)
COFFEE = url_report(
    "Coffee harvest", "https://example.org/coffee",
    "Brazil's coffee harvest shrank after a severe frost in July. Arabica futures rose sharply.",
    ["The frost destroyed roughly a fifth of the arabica trees in Minas Gerais."],
)


@pytest.fixture
async def open_runtime(tmp_path: Path, embedder: Embedder) -> AsyncIterator[Factory]:
    runtimes: list[IntelRuntime] = []

    async def start(**overrides: Any) -> IntelRuntime:
        values: dict[str, Any] = {"data_dir": tmp_path / "data", "user_cooldown_seconds": 0, **overrides}
        runtime = IntelRuntime(Settings(_env_file=None, **values), embedder=embedder)  # type: ignore[call-arg]
        await runtime.start()
        runtimes.append(runtime)
        return runtime

    yield start
    for runtime in runtimes:
        await runtime.close()


def parts(runtime: IntelRuntime) -> tuple[IntelService, Any]:
    assert runtime.service is not None and runtime.reports is not None
    return runtime.service, runtime.reports


def ask(question: str, guild_id: int = GUILD, **fields: Any) -> AskRequest:
    return AskRequest(guild_id=guild_id, user_id=1, question=question, **fields)


def analyse(text: str, guild_id: int = GUILD, **fields: Any) -> AutointelRequest:
    return AutointelRequest(guild_id=guild_id, user_id=1, target=text, depth="quick", **fields)


async def test_a_guild_without_reports_is_told_to_make_one_first(open_runtime: Factory) -> None:
    service, _ = parts(await open_runtime())

    result = await service.ask(ask("What happened to the apple harvest?"))

    assert not result.answer.found
    assert result.answer.text.startswith("This server has no reports yet")


async def test_new_reports_are_saved_and_ask_cites_the_one_that_answers(open_runtime: Factory) -> None:
    service, library = parts(await open_runtime())
    orchard = await service.autointel(analyse(ORCHARD_TEXT))
    ferry = await service.autointel(analyse(FERRY_TEXT))

    result = await service.ask(ask("How much will the apple harvest fall after the frost?"))

    assert orchard.report_id is not None and ferry.report_id is not None
    assert [item.report_id for item in await library.history(GUILD)] == [ferry.report_id, orchard.report_id]
    assert result.answer.found and result.answer.engine == "extractive"
    assert [citation.report_id for citation in result.answer.citations] == [orchard.report_id]
    assert "[1]" in result.answer.text


async def test_a_cache_hit_returns_the_id_the_report_was_saved_under(open_runtime: Factory) -> None:
    service, library = parts(await open_runtime())
    first = await service.autointel(analyse(ORCHARD_TEXT))

    again = await service.autointel(analyse(ORCHARD_TEXT))
    refreshed = await service.autointel(analyse(ORCHARD_TEXT, fresh=True))

    assert again.cache_hit is not None and again.report_id == first.report_id
    assert refreshed.cache_hit is None and refreshed.report_id not in (None, first.report_id)
    assert await library.count(GUILD) == 2


async def test_ask_never_answers_from_another_guilds_reports(open_runtime: Factory) -> None:
    service, library = parts(await open_runtime())
    await library.add(guild_id=OTHER_GUILD, user_id=1, report=COFFEE)
    await library.add(guild_id=GUILD, user_id=1, report=SOLAR)

    result = await service.ask(ask("What did the frost do to the arabica coffee trees?"))

    assert not result.answer.found
    assert result.answer.text == "The reports in this server do not contain an answer to that question."
    assert all(citation.title != "Coffee harvest" for citation in result.answer.citations)


async def test_a_repeated_question_is_served_from_the_cache(open_runtime: Factory) -> None:
    service, library = parts(await open_runtime())
    await library.add(guild_id=GUILD, user_id=1, report=SOLAR)

    first = await service.ask(ask("Why did solar panels become cheaper to install?"))
    second = await service.ask(ask("Why did solar panels become cheaper to install?"))
    fresh = await service.ask(ask("Why did solar panels become cheaper to install?", fresh=True))

    assert first.cache_hit is None and first.answer.found
    assert second.cache_hit is not None and second.answer == first.answer
    assert fresh.cache_hit is None


async def test_a_new_report_is_not_hidden_by_a_cached_no_answer(open_runtime: Factory) -> None:
    service, library = parts(await open_runtime())
    await library.add(guild_id=GUILD, user_id=1, report=SOLAR)
    question = "What did the frost do to the arabica coffee trees?"
    assert not (await service.ask(ask(question))).answer.found

    coffee_id = await library.add(guild_id=GUILD, user_id=1, report=COFFEE)
    after = await service.ask(ask(question))

    assert after.cache_hit is None
    assert after.answer.found and after.answer.citations[0].report_id == coffee_id


async def test_an_empty_or_overlong_question_is_refused(open_runtime: Factory) -> None:
    service, _ = parts(await open_runtime())

    with pytest.raises(InputError, match="Ask a question"):
        await service.ask(ask("   "))
    with pytest.raises(InputTooLargeError, match="the limit is 500 characters"):
        await service.ask(ask("why " * 200))


def llm_answer(answer: str, used: list[int], *, answerable: bool = True) -> FakeReply:
    return FakeReply.content(json.dumps({"answerable": answerable, "answer": answer, "passages_used": used}))


async def llm_runtime(open_runtime: Factory, fake_llm: FakeLLM) -> IntelRuntime:
    return await open_runtime(llm_base_url=fake_llm.base_url, llm_api_key="test-key", llm_model="fake/model")


async def test_with_an_llm_it_writes_the_answer_and_citations_stay_with_the_retrieved_reports(
    open_runtime: Factory, fake_llm: FakeLLM
) -> None:
    service, library = parts(await llm_runtime(open_runtime, fake_llm))
    solar_id = await library.add(guild_id=GUILD, user_id=1, report=SOLAR)
    await library.add(guild_id=OTHER_GUILD, user_id=1, report=COFFEE)
    fake_llm.script(llm_answer("Panels became about 40 percent cheaper [1]. @everyone", [1, 99]))

    result = await service.ask(ask("Why did solar panels become cheaper to install?"))

    assert result.answer.engine == "llm:fake/model"
    assert result.answer.text.startswith("Panels became about 40 percent cheaper [1].")
    assert "@everyone" not in result.answer.text
    assert [(c.report_id, c.source_urls) for c in result.answer.citations] == [(solar_id, ["https://example.org/solar"])]
    prompt = fake_llm.chat_requests[-1].user_text
    assert "Panel prices fell by 40 percent" in prompt and "arabica" not in prompt


async def test_the_llm_is_not_asked_when_nothing_is_relevant(open_runtime: Factory, fake_llm: FakeLLM) -> None:
    service, library = parts(await llm_runtime(open_runtime, fake_llm))
    await library.add(guild_id=GUILD, user_id=1, report=SOLAR)

    result = await service.ask(ask("Who won the 1998 football world cup final?"))

    assert not result.answer.found
    assert fake_llm.chat_requests == []


async def test_the_llm_may_say_the_passages_do_not_answer(open_runtime: Factory, fake_llm: FakeLLM) -> None:
    service, library = parts(await llm_runtime(open_runtime, fake_llm))
    await library.add(guild_id=GUILD, user_id=1, report=SOLAR)
    fake_llm.script(llm_answer("", [], answerable=False))

    result = await service.ask(ask("How many solar panels were installed in Spain in 2024?"))

    assert not result.answer.found
    assert "do not contain an answer" in result.answer.text


async def test_a_failing_llm_falls_back_to_the_quoted_passages_with_a_notice(
    open_runtime: Factory, fake_llm: FakeLLM
) -> None:
    service, library = parts(await llm_runtime(open_runtime, fake_llm))
    solar_id = await library.add(guild_id=GUILD, user_id=1, report=SOLAR)
    fake_llm.script(FakeReply.error(401, "bad key"), llm_answer("Cheaper panels [1].", [1]))

    degraded = await service.ask(ask("Why did solar panels become cheaper to install?"))
    retried = await service.ask(ask("Why did solar panels become cheaper to install?"))

    assert degraded.answer.found and degraded.answer.engine == "extractive"
    assert degraded.answer.citations[0].report_id == solar_id
    assert degraded.notices and "the LLM could not write the answer" in degraded.notices[0]
    assert retried.cache_hit is None and retried.answer.engine == "llm:fake/model"  # degraded was not cached
