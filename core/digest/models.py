"""What a digest is made of: chat messages in, a :class:`Digest` out.  No Discord here.

Chat is not an article: each message is one unit with its author, time and id.  Every item of a
digest (topic, decision, open question, link) carries the ids of the messages it comes from, and
the digest keeps the jump URL of each cited message so any front end can link back to it.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ChatMessage", "Digest", "DigestItem", "DigestLink", "DigestTopic"]


class ChatMessage(BaseModel):
    """One chat message as a front end read it."""

    model_config = ConfigDict(frozen=True)

    message_id: int = Field(ge=0)
    author_id: int = Field(ge=0)
    author: str
    created_at: datetime
    content: str
    jump_url: str = ""
    reply_to: int | None = None
    is_bot: bool = False
    is_system: bool = False
    attachments: tuple[str, ...] = ()
    """File names of the message's attachments."""


class DigestItem(BaseModel):
    """A decision or an open question: one line and the messages it rests on."""

    text: str
    message_ids: list[int] = Field(min_length=1)


class DigestTopic(BaseModel):
    """A main topic: a title, one line on what was said, who drove it, its messages."""

    title: str
    summary: str
    drivers: list[str] = Field(default_factory=list)
    message_ids: list[int] = Field(min_length=1)
    message_count: int = Field(default=0, ge=0)


class DigestLink(BaseModel):
    """A link shared in the chat, with one line on it."""

    url: str
    line: str
    message_ids: list[int] = Field(min_length=1)


class Digest(BaseModel):
    """A digest of a stretch of chat; every item cites message ids present in :attr:`jump_urls`."""

    topics: list[DigestTopic] = Field(default_factory=list)
    decisions: list[DigestItem] = Field(default_factory=list)
    open_questions: list[DigestItem] = Field(default_factory=list)
    links: list[DigestLink] = Field(default_factory=list)
    message_count: int = Field(default=0, ge=0, description="Messages digested")
    participant_count: int = Field(default=0, ge=0)
    skipped_count: int = Field(default=0, ge=0, description="Bot, system, empty or opted-out messages left out")
    first_at: datetime | None = None
    last_at: datetime | None = None
    engine: str = "local"
    fallback_reason: str | None = None
    jump_urls: dict[int, str] = Field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.topics or self.decisions or self.open_questions or self.links)

    def cited_ids(self) -> set[int]:
        items: list[DigestTopic | DigestItem | DigestLink] = [
            *self.topics, *self.decisions, *self.open_questions, *self.links]
        return {message_id for item in items for message_id in item.message_ids}
