"""One HTTP attempt against the fake server, and how each answer is mapped."""

from __future__ import annotations

import socket

import pytest

from core.errors import LLMRejectedError, LLMTransientError
from core.llm import HttpChatClient
from core.llm.client import ChatMessage, ChatRequest
from tests.fakes.fake_llm import FakeLLM, FakeReply

REQUEST = ChatRequest(
    model="fake/model",
    messages=(ChatMessage(role="system", content="s"), ChatMessage(role="user", content="u")),
    output_mode="json_object",
    max_tokens=100,
)


async def test_completion_carries_content_tokens_and_reported_cost(fake_llm: FakeLLM) -> None:
    fake_llm.script(FakeReply.content('{"summary": "x"}', cost=0.002, prompt_tokens=12, completion_tokens=3))
    client = HttpChatClient(base_url=fake_llm.base_url, api_key=None)

    completion = await client.complete(REQUEST, timeout_seconds=5)
    await client.close()

    assert completion.content == '{"summary": "x"}'
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (12, 3)
    assert completion.usage.reported_cost_usd == pytest.approx(0.002)
    assert "Authorization" not in fake_llm.chat_requests[0].headers  # a local server needs no key


async def test_plain_400_is_a_refusal_with_its_status(fake_llm: FakeLLM) -> None:
    fake_llm.script(FakeReply.error(400, "max_tokens too large"))
    client = HttpChatClient(base_url=fake_llm.base_url, api_key="k")

    with pytest.raises(LLMRejectedError) as caught:
        await client.complete(REQUEST, timeout_seconds=5)
    await client.close()

    assert caught.value.status == 400
    assert str(caught.value) == "the LLM endpoint refused the request (HTTP 400)"


async def test_malformed_200_is_transient(fake_llm: FakeLLM) -> None:
    fake_llm.script(FakeReply(body="<html>gateway hiccup</html>"))
    client = HttpChatClient(base_url=fake_llm.base_url, api_key="k")

    with pytest.raises(LLMTransientError, match="malformed"):
        await client.complete(REQUEST, timeout_seconds=5)
    await client.close()


async def test_nothing_listening_is_a_transient_connection_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = HttpChatClient(base_url=f"http://127.0.0.1:{port}/v1", api_key="k")

    with pytest.raises(LLMTransientError, match="could not reach"):
        await client.complete(REQUEST, timeout_seconds=5)
    await client.close()
