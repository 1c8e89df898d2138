"""A scriptable OpenAI-compatible chat-completions server on 127.0.0.1 (aiohttp, real HTTP).

Each test scripts the replies it needs, in order, with :meth:`FakeLLM.script`; when the script is
empty the server answers with :attr:`FakeLLM.default` (by default a valid report built from the
documents in the request: :func:`grounded_answer`).  Every request is recorded, so a test can
assert how many calls the server really saw and what they contained.

Use the ``fake_llm`` fixture (a started server, closed after the test) or ``async with FakeLLM()``.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

__all__ = [
    "FakeLLM",
    "FakeReply",
    "RecordedRequest",
    "completion_body",
    "documents_in",
    "fake_llm",
    "grounded_answer",
    "report_json",
]

_DOCUMENT_RE = re.compile(r"<<<DOCUMENT-[0-9a-f]+ index=\"(\d+)\"[^\n]*>>>\n(.*?)\n<<<END-DOCUMENT-", re.DOTALL)


@dataclass
class FakeReply:
    """One scripted answer: a status, a JSON body (or raw text), headers, and a delay before it."""

    status: int = 200
    body: dict[str, Any] | str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_seconds: float = 0.0

    @classmethod
    def content(cls, text: str, *, cost: float | None = None, prompt_tokens: int = 1000,
                completion_tokens: int = 500) -> FakeReply:
        """A 200 chat completion whose message content is ``text``."""
        return cls(body=completion_body(text, cost=cost, prompt_tokens=prompt_tokens,
                                        completion_tokens=completion_tokens))

    @classmethod
    def error(cls, status: int, message: str = "error", *, headers: dict[str, str] | None = None) -> FakeReply:
        return cls(status=status, body={"error": {"message": message, "code": status}}, headers=headers or {})

    @classmethod
    def hang(cls, seconds: float = 30.0) -> FakeReply:
        """Say nothing for ``seconds`` (the client should time out first)."""
        return cls(delay_seconds=seconds, body=completion_body("{}"))


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def messages(self) -> list[dict[str, str]]:
        return list(self.body.get("messages", []))

    @property
    def user_text(self) -> str:
        return "\n".join(m["content"] for m in self.messages if m["role"] == "user")


def completion_body(content: str, *, cost: float | None = None, prompt_tokens: int = 1000,
                    completion_tokens: int = 500, model: str = "fake/model") -> dict[str, Any]:
    usage: dict[str, Any] = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }
    if cost is not None:
        usage["cost"] = cost
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": usage,
    }


def documents_in(body: dict[str, Any]) -> dict[int, str]:
    """The documents a request carries, by source index (chunks of one source joined)."""
    found: dict[int, str] = {}
    for message in body.get("messages", []):
        if message.get("role") != "user":
            continue
        for index, text in _DOCUMENT_RE.findall(message.get("content", "")):
            found[int(index)] = (found.get(int(index), "") + " " + text).strip()
    return found


def _first_sentence(text: str) -> str:
    sentence = re.split(r"(?<=[.!?])\s+", text.strip(), maxsplit=1)[0]
    return sentence[:300]


def report_json(*, summary: str, quotes: list[tuple[int, str]], keywords: list[str] | None = None,
                entities: list[str] | None = None, **extra: Any) -> str:
    """A valid LLM report (``core.llm.schema.LLMReport`` shape) as JSON text."""
    report: dict[str, Any] = {
        "summary": summary,
        "key_insights": [
            {"insight": f"Insight {number}", "evidence": quote, "importance": 0.9 - number * 0.1,
             "source_index": index}
            for number, (index, quote) in enumerate(quotes)
        ],
        "patterns": [],
        "themes": [{"label": "main theme", "keywords": keywords or ["the"]}],
        "claims": [{"text": "A claim.", "kind": "assertion", "checkable": True, "source_index": 0}],
        "entities": [{"name": name, "label": "OTHER"} for name in entities or []],
    }
    report.update(extra)
    return json.dumps(report)


def grounded_answer(body: dict[str, Any]) -> FakeReply:
    """A valid report quoting the first sentence of every document in the request.

    A reduce request (no documents, partial reports instead) is answered with the first partial.
    """
    documents = documents_in(body)
    if not documents:
        partial = re.search(r"<<<PARTIAL-REPORTS-[0-9a-f]+>>>\n(.*?)\n", _user_text(body), re.DOTALL)
        if partial:
            return FakeReply.content(partial.group(1))
        return FakeReply.content(report_json(summary="Nothing to report.", quotes=[]))
    quotes = [(index, _first_sentence(text)) for index, text in sorted(documents.items())]
    return FakeReply.content(report_json(summary="A summary written by the fake LLM.", quotes=quotes))


def _user_text(body: dict[str, Any]) -> str:
    return "\n".join(m.get("content", "") for m in body.get("messages", []) if m.get("role") == "user")


class FakeLLM:
    """The server.  ``base_url`` is what ``LLM_BASE_URL`` should be set to."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.default: Callable[[dict[str, Any]], FakeReply] = grounded_answer
        self._script: deque[FakeReply | Callable[[dict[str, Any]], FakeReply]] = deque()
        self._runner: web.AppRunner | None = None
        self._released = asyncio.Event()
        self.port = 0
        self.in_flight = 0
        self.max_in_flight = 0

    async def __aenter__(self) -> FakeLLM:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [request for request in self.requests if request.path.endswith("/chat/completions")]

    def script(self, *replies: FakeReply | Callable[[dict[str, Any]], FakeReply]) -> None:
        """Queue replies (or reply functions of the request body), answered in order."""
        self._script.extend(replies)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        assert self._runner.addresses
        self.port = int(self._runner.addresses[0][1])

    async def close(self) -> None:
        self._released.set()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.text()
        try:
            body = json.loads(raw)
        except ValueError:
            return web.json_response({"error": {"message": "body is not JSON"}}, status=400)
        self.requests.append(RecordedRequest(path=request.path, headers=dict(request.headers), body=body))
        planned = self._script.popleft() if self._script else self.default
        reply = planned(body) if callable(planned) else planned
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.01)  # long enough for concurrent calls to overlap
            if reply.delay_seconds:
                try:
                    await asyncio.wait_for(self._released.wait(), timeout=reply.delay_seconds)
                except TimeoutError:
                    pass
        finally:
            self.in_flight -= 1
        if isinstance(reply.body, str):
            return web.Response(status=reply.status, text=reply.body, headers=reply.headers)
        return web.json_response(reply.body or {}, status=reply.status, headers=reply.headers)


@pytest.fixture
async def fake_llm() -> AsyncIterator[FakeLLM]:
    """A started :class:`FakeLLM`, closed after the test."""
    async with FakeLLM() as server:
        yield server
