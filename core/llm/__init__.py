"""Analysis by an OpenAI-compatible LLM, with retries, a circuit breaker, budgets and local fallback.

See ``docs/llm.md``.  :class:`LLMBackend` is built once by the runtime when an LLM is configured;
:class:`LLMEngine` is its per-request :class:`~core.engine.AnalysisEngine`.
"""

from __future__ import annotations

from core.llm.breaker import BreakerPolicy, BreakerSnapshot, CircuitBreaker
from core.llm.client import ChatClient, HttpChatClient
from core.llm.engine import LLMBackend, LLMEngine, fallback_reason
from core.llm.ledger import PriceTable, SpendLedger
from core.llm.retry import Retrier, RetryPolicy

__all__ = [
    "BreakerPolicy",
    "BreakerSnapshot",
    "ChatClient",
    "CircuitBreaker",
    "HttpChatClient",
    "LLMBackend",
    "LLMEngine",
    "PriceTable",
    "Retrier",
    "RetryPolicy",
    "SpendLedger",
    "fallback_reason",
]
