"""Channel message history for the fake Discord: what ``GET /channels/{id}/messages`` serves.

Messages are kept per channel (a text channel or a thread) in id order.  Ids are real snowflakes
made from the message's time (``(ms since the Discord epoch) << 22``), so ``after=<datetime>`` in
discord.py's ``channel.history`` selects by time as it does against Discord.

:meth:`FakeHistory.page` is Discord's pagination: at most 100 messages a page, newest first;
``before`` gives the newest messages older than an id, ``after`` the *oldest* messages newer than
an id (still returned newest first), ``around`` up to ``limit`` messages centred on an id.

Without the Message Content intent Discord blanks ``content``, ``embeds``, ``attachments`` and
``components`` of messages that do not mention the bot; :func:`without_content` does the same.
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.e2e.fake_guild import FakeUser

__all__ = [
    "DISCORD_EPOCH_MS",
    "MESSAGE_CONTENT_INTENT",
    "FakeHistory",
    "history_message",
    "snowflake_at",
    "without_content",
]

DISCORD_EPOCH_MS = 1_420_070_400_000
MESSAGE_CONTENT_INTENT = 1 << 15
PAGE_LIMIT = 100
_counter = itertools.count(1)


def snowflake_at(moment: datetime) -> int:
    """A unique snowflake whose timestamp is ``moment`` (the low 22 bits are a counter)."""
    millis = int(moment.timestamp() * 1000) - DISCORD_EPOCH_MS
    return (millis << 22) | (next(_counter) & 0x3FFFFF)


def history_message(
    *, channel_id: int, guild_id: int, author: FakeUser, content: str, at: datetime, message_type: int = 0,
    reply_to: int | None = None, attachments: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A MESSAGE payload as the history endpoint returns it."""
    message_id = snowflake_at(at)
    message: dict[str, Any] = {
        "id": str(message_id), "channel_id": str(channel_id), "guild_id": str(guild_id),
        "author": author.to_payload(), "content": content,
        "timestamp": at.astimezone(UTC).isoformat(), "edited_timestamp": None, "tts": False,
        "mention_everyone": False, "mentions": [], "mention_roles": [], "attachments": attachments or [],
        "embeds": [], "pinned": False, "type": message_type, "flags": 0, "components": [],
    }
    if reply_to is not None:
        message["message_reference"] = {"type": 0, "message_id": str(reply_to), "channel_id": str(channel_id),
                                        "guild_id": str(guild_id)}
    return message


def without_content(message: dict[str, Any]) -> dict[str, Any]:
    """The message as a bot without the Message Content intent receives it."""
    return {**message, "content": "", "embeds": [], "attachments": [], "components": []}


@dataclass
class FakeHistory:
    """Messages of every channel and thread, by channel id, each list sorted by id."""

    channels: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    _ids: dict[int, list[int]] = field(default_factory=dict)

    def add(self, message: dict[str, Any]) -> dict[str, Any]:
        channel_id, message_id = int(message["channel_id"]), int(message["id"])
        ids = self._ids.setdefault(channel_id, [])
        position = bisect.bisect(ids, message_id)
        ids.insert(position, message_id)
        self.channels.setdefault(channel_id, []).insert(position, message)
        return message

    def messages(self, channel_id: int) -> list[dict[str, Any]]:
        """Every message of the channel, oldest first."""
        return list(self.channels.get(channel_id, []))

    def find(self, channel_id: int, message_id: int) -> dict[str, Any] | None:
        ids = self._ids.get(channel_id, [])
        position = bisect.bisect_left(ids, message_id)
        if position < len(ids) and ids[position] == message_id:
            return self.channels[channel_id][position]
        return None

    def page(
        self, channel_id: int, *, limit: int = 50, before: int | None = None, after: int | None = None,
        around: int | None = None,
    ) -> list[dict[str, Any]]:
        """One page as Discord returns it: newest first, at most :data:`PAGE_LIMIT` messages."""
        limit = max(1, min(PAGE_LIMIT, limit))
        ids = self._ids.get(channel_id, [])
        messages = self.channels.get(channel_id, [])
        if around is not None:
            centre = bisect.bisect_left(ids, around)
            start = max(0, centre - limit // 2)
            chosen = messages[start:start + limit]
        elif after is not None:
            start = bisect.bisect_right(ids, after)
            end = len(ids) if before is None else bisect.bisect_left(ids, before)
            chosen = messages[start:min(end, start + limit)]
        else:
            end = len(ids) if before is None else bisect.bisect_left(ids, before)
            chosen = messages[max(0, end - limit):end]
        return list(reversed(chosen))
