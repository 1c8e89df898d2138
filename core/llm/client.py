"""The seam to an OpenAI-compatible chat-completions endpoint: one HTTP attempt, errors mapped.

:class:`ChatClient` is what the engine depends on; :class:`HttpChatClient` implements it with
``httpx`` (an injectable ``transport=`` for tests).  One call is one attempt: retries, the circuit
breaker and budgets live above this layer.  Every failure leaves as an
:class:`~core.errors.LLMError` child: transient ones (429, 5xx, timeouts, connection errors) as
:class:`~core.errors.LLMTransientError`, refusals (400/401/403/404) as
:class:`~core.errors.LLMRejectedError` children.
"""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Callable
from typing import Any, Literal, Protocol

import httpx
from pydantic import BaseModel, ConfigDict, Field

from core.errors import (
    LLMAuthError,
    LLMModelNotFoundError,
    LLMRejectedError,
    LLMTimeoutError,
    LLMTransientError,
)

__all__ = [
    "ChatClient",
    "ChatCompletion",
    "ChatMessage",
    "ChatRequest",
    "HttpChatClient",
    "LLMResponseFormatError",
    "OutputMode",
    "Usage",
    "parse_retry_after",
]

_log = logging.getLogger(__name__)

OutputMode = Literal["json_schema", "json_object"]

_FORMAT_HINTS = ("response_format", "json_schema", "response format", "structured output")


class LLMResponseFormatError(LLMRejectedError):
    """400 saying the endpoint does not support the requested ``response_format``.

    Inherits from :class:`~core.errors.LLMRejectedError`; the engine catches it and downgrades to
    JSON mode, so it never reaches a user.
    """

    def __init__(self, *, detail: str) -> None:
        super().__init__("the LLM endpoint does not support structured output", status=400, detail=detail)


class ChatMessage(BaseModel):
    model_config = ConfigDict(frozen=True)

    role: Literal["system", "user", "assistant"]
    content: str


class ChatRequest(BaseModel):
    """One chat-completions call that must answer with a JSON object."""

    model_config = ConfigDict(frozen=True)

    model: str
    messages: tuple[ChatMessage, ...]
    output_mode: OutputMode
    json_schema: dict[str, Any] = Field(default_factory=dict)
    max_tokens: int = Field(ge=1)
    temperature: float = 0.2

    def payload(self) -> dict[str, Any]:
        if self.output_mode == "json_schema":
            response_format: dict[str, Any] = {
                "type": "json_schema",
                "json_schema": {"name": "intel_report", "strict": False, "schema": self.json_schema},
            }
        else:
            response_format = {"type": "json_object"}
        return {
            "model": self.model,
            "messages": [message.model_dump() for message in self.messages],
            "response_format": response_format,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "usage": {"include": True},  # OpenRouter: report the real cost; others ignore it
        }


class Usage(BaseModel):
    """Token counts of one response, and the cost when the endpoint reports it (OpenRouter)."""

    prompt_tokens: int = Field(default=0, ge=0)
    completion_tokens: int = Field(default=0, ge=0)
    reported_cost_usd: float | None = Field(default=None, ge=0)


class ChatCompletion(BaseModel):
    content: str
    usage: Usage
    model: str
    finish_reason: str | None = None


class ChatClient(Protocol):
    """One attempt at a chat completion.  Raises :class:`~core.errors.LLMError` children."""

    @property
    def endpoint(self) -> str: ...

    async def complete(self, request: ChatRequest, *, timeout_seconds: float) -> ChatCompletion: ...

    async def close(self) -> None: ...


def parse_retry_after(value: str | None, *, now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date; ``None`` if absent."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now())


class HttpChatClient:
    """:class:`ChatClient` over ``httpx``.  The ``httpx.AsyncClient`` is made on first use."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str | None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._transport = transport
        self._clock = clock
        self._http: httpx.AsyncClient | None = None

    @property
    def endpoint(self) -> str:
        return self._base_url

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            headers = {"X-Title": "autointel-bot"}
            if self._api_key:
                headers["Authorization"] = f"Bearer {self._api_key}"
            self._http = httpx.AsyncClient(base_url=self._base_url, headers=headers, transport=self._transport)
        return self._http

    async def close(self) -> None:
        http, self._http = self._http, None
        if http is not None:
            await http.aclose()

    async def complete(self, request: ChatRequest, *, timeout_seconds: float) -> ChatCompletion:
        try:
            response = await self._client().post(
                "/chat/completions", json=request.payload(), timeout=timeout_seconds
            )
        except httpx.TimeoutException as exc:
            raise LLMTimeoutError(seconds=timeout_seconds) from exc
        except httpx.TransportError as exc:
            raise LLMTransientError(f"could not reach {self._base_url}") from exc
        if response.status_code != 200:
            raise self._status_error(response, model=request.model)
        return self._parse(response, model=request.model)

    def _status_error(self, response: httpx.Response, *, model: str) -> Exception:
        status = response.status_code
        detail = response.text[:500]
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("retry-after"), now=self._clock)
            return LLMTransientError("rate limited, HTTP 429", status=429, retry_after=retry_after)
        if status >= 500 or status == 408:
            return LLMTransientError(f"HTTP {status}", status=status)
        if status in (401, 403):
            return LLMAuthError(status=status, detail=detail)
        if status == 404:
            return LLMModelNotFoundError(model=model, detail=detail)
        if status == 400 and any(hint in detail.lower() for hint in _FORMAT_HINTS):
            return LLMResponseFormatError(detail=detail)
        return LLMRejectedError(f"the LLM endpoint refused the request (HTTP {status})", status=status, detail=detail)

    def _parse(self, response: httpx.Response, *, model: str) -> ChatCompletion:
        try:
            body = response.json()
            if "error" in body and "choices" not in body:
                raise LLMTransientError(f"error in the answer: {str(body['error'])[:120]}")
            choice = body["choices"][0]
            content = choice["message"].get("content") or ""
            usage = body.get("usage") or {}
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
            raise LLMTransientError("a malformed answer") from exc
        return ChatCompletion(
            content=content,
            usage=Usage(
                prompt_tokens=int(usage.get("prompt_tokens") or 0),
                completion_tokens=int(usage.get("completion_tokens") or 0),
                reported_cost_usd=_reported_cost(usage),
            ),
            model=str(body.get("model") or model),
            finish_reason=choice.get("finish_reason"),
        )


def _reported_cost(usage: dict[str, Any]) -> float | None:
    cost = usage.get("cost")
    if isinstance(cost, int | float) and not isinstance(cost, bool) and cost >= 0:
        return float(cost)
    return None
