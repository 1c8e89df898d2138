"""The LLM as a judge of borderline cache candidates: one strict yes/no question, in JSON.

Used only for a guild that turned LLM verification on, and only for a candidate whose verifier
probability falls in the model's judge band (see :mod:`core.cache.judge`).  The call goes through
:meth:`LLMBackend.complete` like every LLM call, so it is under the concurrency cap and the breaker,
reserved against the guild's daily budget and recorded in the spend ledger.  Anything but a clear
``{"same": true}`` — an error, a timeout, an open breaker, an exhausted budget, malformed output —
is ``False``: a failing judge means a miss, never a hit.
"""

from __future__ import annotations

import json
import logging

from core.errors import IntelError
from core.guild_settings import GuildSettingsStore
from core.llm.client import ChatMessage, ChatRequest
from core.llm.engine import LLMBackend
from core.llm.retry import Deadline

__all__ = ["JUDGE_SYSTEM_PROMPT", "LLMHitJudge"]

_log = logging.getLogger(__name__)

_MAX_TOKENS = 20
_DEADLINE_SECONDS = 10.0
JUDGE_SYSTEM_PROMPT = (
    "You check a cache. Given a NEW request and a STORED request sent to an analysis bot, decide "
    "whether the answer written for STORED fully and correctly answers NEW. Rewordings, typos, "
    "abbreviations and filler words do not matter. Any difference in who does what to whom, numbers, "
    "years, versions, people, organisations, places, time frame (this/last/next, before/after), "
    "direction (up/down, for/against, buy/sell), scope (one/all, top 3/top 10) or negation means they "
    'are different. Reply with JSON only: {"same": true} or {"same": false}.'
)


class LLMHitJudge:
    """:class:`~core.cache.judge.HitJudge` backed by the configured LLM."""

    def __init__(self, backend: LLMBackend, *, guild_settings: GuildSettingsStore) -> None:
        self._backend = backend
        self._guild_settings = guild_settings

    async def same_request(self, guild_id: int, query: str, stored: str) -> bool:
        try:
            return await self._ask(guild_id, query, stored)
        except IntelError as error:
            _log.info("LLM judge unavailable (%s): borderline candidate treated as a miss", type(error).__name__)
            return False

    async def _ask(self, guild_id: int, query: str, stored: str) -> bool:
        guild = await self._guild_settings.effective(guild_id)
        messages = (
            ChatMessage(role="system", content=JUDGE_SYSTEM_PROMPT),
            ChatMessage(role="user", content=json.dumps(
                {"NEW": query, "STORED": stored}, ensure_ascii=False)),
        )
        request = ChatRequest(model=guild.llm_model, messages=messages, output_mode="json_object",
                              max_tokens=_MAX_TOKENS, temperature=0.0)
        deadline = Deadline(min(_DEADLINE_SECONDS, self._backend.settings.llm_timeout_seconds))
        completion = await self._backend.complete_within_budget(
            request, guild_id=guild_id, budget_usd=guild.daily_budget_usd, deadline=deadline)
        return _parse_verdict(completion.content)


def _parse_verdict(content: str) -> bool:
    try:
        parsed = json.loads(content)
    except ValueError:
        _log.info("LLM judge answered with something other than JSON: treated as a miss")
        return False
    return isinstance(parsed, dict) and parsed.get("same") is True
