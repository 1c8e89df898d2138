"""Digests of chat: what happened in a channel, grounded in its messages.  No Discord here.

* :mod:`core.digest.models`: :class:`ChatMessage` in, :class:`Digest` out;
* :mod:`core.digest.local`: the local engine (embedder + clustering + rules), run through the gate;
* :mod:`core.digest.llm`: the LLM writer, every item citing messages that exist;
* :mod:`core.digest.service`: :class:`DigestService`, the one thing front ends call;
* :mod:`core.digest.chatlog`: ``[time] author: message`` files, for the console.
"""

from __future__ import annotations

from core.digest.models import ChatMessage, Digest, DigestItem, DigestLink, DigestTopic
from core.digest.service import DigestService

__all__ = ["ChatMessage", "Digest", "DigestItem", "DigestLink", "DigestService", "DigestTopic"]
