"""The LLM digest: grounded in the messages shown, and the local engine when the LLM fails."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.digest.llm import grounded_digest
from core.embedder import Embedder
from core.errors import LLMOutputError
from core.runtime import IntelRuntime
from core.settings import Settings
from tests.core.digest.chat_samples import chat
from tests.fakes.fake_llm import FakeLLM, FakeReply, fake_llm

__all__ = ["fake_llm"]

LLM_DIGEST = {
    "topics": [{"title": "ARM build", "summary": "The compiler bump fixed it", "drivers": ["bob"], "messages": [2, 4]},
               {"title": "Invented", "summary": "cites nothing real", "drivers": [], "messages": [99]}],
    "decisions": [{"text": "Ship on Friday", "messages": [6]}, {"text": "Made up", "messages": []}],
    "open_questions": [{"text": "When is the wifi maintenance?", "messages": [15, 400]}],
    "links": [{"url": "https://docs.example.com/release-notes", "line": "Release notes", "messages": [7]},
              {"url": "https://evil.example/", "line": "not in the message", "messages": [7]}],
}


def test_items_citing_messages_that_were_not_shown_are_dropped() -> None:
    digest = grounded_digest(json.dumps(LLM_DIGEST), chat(), model="fake/model")

    assert [topic.title for topic in digest.topics] == ["ARM build"]
    assert digest.topics[0].message_ids == [2, 4]
    assert [item.text for item in digest.decisions] == ["Ship on Friday"]
    assert digest.open_questions[0].message_ids == [15]
    assert [link.url for link in digest.links] == ["https://docs.example.com/release-notes"]
    assert set(digest.jump_urls) == {2, 4, 6, 7, 15}
    assert digest.engine == "llm:fake/model"


def test_an_answer_that_is_not_a_digest_is_an_llm_error() -> None:
    with pytest.raises(LLMOutputError):
        grounded_digest("the chat was about builds", chat(), model="fake/model")


@pytest.fixture
async def llm_runtime(tmp_path: Path, embedder: Embedder, fake_llm: FakeLLM) -> AsyncIterator[IntelRuntime]:
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", llm_base_url=fake_llm.base_url,  # type: ignore[call-arg]
                        llm_api_key="test-key", llm_model="fake/model", llm_timeout_seconds=2, llm_total_budget_seconds=4)
    async with IntelRuntime(settings, embedder=embedder) as runtime:
        yield runtime


async def test_with_an_llm_the_digest_is_written_by_it_from_numbered_messages(
    llm_runtime: IntelRuntime, fake_llm: FakeLLM
) -> None:
    fake_llm.script(FakeReply.content(json.dumps(LLM_DIGEST)))
    assert llm_runtime.digests is not None

    digest = await llm_runtime.digests.digest(5, chat())

    assert digest.engine == "llm:fake/model" and digest.fallback_reason is None
    assert "[6] alice, 2026-03-02 09:06: We decided to ship" in fake_llm.chat_requests[0].user_text


async def test_when_the_llm_fails_the_local_engine_writes_it_and_says_why(
    llm_runtime: IntelRuntime, fake_llm: FakeLLM
) -> None:
    fake_llm.script(FakeReply.content("not json at all"))
    assert llm_runtime.digests is not None

    digest = await llm_runtime.digests.digest(5, chat())

    assert digest.engine == "local"
    assert digest.fallback_reason
    assert [item.message_ids for item in digest.decisions] == [[6]]
