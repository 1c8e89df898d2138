"""The optional second opinion on a borderline cache candidate.

When the verifier's probability for the best candidate falls in the model's judge band and the guild
turned LLM verification on (``/settings cache_llm_verify:true``), the cache asks a :class:`HitJudge`
whether the stored request asks the same thing as the new one.  The LLM judge lives in
:mod:`core.llm.judge`; without an LLM the runtime passes :class:`NoJudge`.  A judge that fails or
cannot decide answers ``False``: a failing judge means a miss, never a hit.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["HitJudge", "NoJudge"]


class HitJudge(Protocol):
    async def same_request(self, guild_id: int, query: str, stored: str) -> bool:
        """``True`` only when the answer to ``stored`` answers ``query``; ``False`` on any doubt or error."""
        ...


class NoJudge:
    """No LLM configured: borderline candidates stay misses."""

    async def same_request(self, guild_id: int, query: str, stored: str) -> bool:
        return False
