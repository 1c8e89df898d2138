"""What the fake Discord records: every REST request, and per interaction, everything the bot answered.

Tests assert on these records: they are what a Discord user would see (message content, embeds,
attached files with their bytes, flags such as ephemeral) plus how the bot said it (method, path,
``allowed_mentions``) and when (``at``, on the test loop's clock).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "EPHEMERAL_FLAG",
    "InteractionLog",
    "InteractionResponse",
    "RecordedFile",
    "RecordedRequest",
    "ResponseKind",
]

EPHEMERAL_FLAG = 1 << 6

ResponseKind = Literal["callback", "edit_original", "delete_original", "followup", "edit_followup"]


@dataclass(frozen=True)
class RecordedFile:
    """A file uploaded in a multipart request."""

    field_name: str
    filename: str
    content_type: str | None
    data: bytes

    @property
    def text(self) -> str:
        return self.data.decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.data)


@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP request the bot made to the fake REST API."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    files: tuple[RecordedFile, ...] = ()
    headers: dict[str, str] = field(default_factory=dict)
    at: float = 0.0
    status: int = 200

    @property
    def route(self) -> str:
        """``METHOD /path`` without the ``/api/v10`` prefix."""
        return f"{self.method} {self.path.removeprefix('/api/v10')}"

    @property
    def is_message(self) -> bool:
        """Whether the payload carries something a user reads (content, embeds or files)."""
        if self.files:
            return True
        payload = self.message_payload
        return any(key in payload for key in ("content", "embeds", "attachments"))

    @property
    def message_payload(self) -> dict[str, Any]:
        """The message part of the body: an interaction callback's ``data``, else the body itself."""
        body = self.body if isinstance(self.body, dict) else {}
        if "type" in body and "data" in body and self.path.endswith("/callback"):
            data = body.get("data")
            return data if isinstance(data, dict) else {}
        return body


@dataclass(frozen=True)
class InteractionResponse:
    """One thing the bot did in answer to an interaction, in order."""

    kind: ResponseKind
    request: RecordedRequest

    @property
    def at(self) -> float:
        return self.request.at

    @property
    def payload(self) -> dict[str, Any]:
        return self.request.message_payload

    @property
    def callback_type(self) -> int | None:
        body = self.request.body
        return body.get("type") if self.kind == "callback" and isinstance(body, dict) else None

    @property
    def content(self) -> str | None:
        return self.payload.get("content")

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return list(self.payload.get("embeds") or [])

    @property
    def files(self) -> tuple[RecordedFile, ...]:
        return self.request.files

    @property
    def flags(self) -> int:
        return int(self.payload.get("flags") or 0)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL_FLAG)

    def file(self, suffix: str) -> RecordedFile:
        """The one attached file whose name ends with ``suffix``."""
        matches = [item for item in self.files if item.filename.endswith(suffix)]
        assert len(matches) == 1, f"expected one {suffix} file, got {[f.filename for f in self.files]}"
        return matches[0]

    def text(self) -> str:
        """Everything readable in this response (content, embed titles, descriptions, fields, footers)."""
        parts = [self.content or ""]
        for embed in self.embeds:
            parts += [embed.get("title") or "", embed.get("description") or ""]
            for embed_field in embed.get("fields") or []:
                parts += [embed_field.get("name") or "", embed_field.get("value") or ""]
            parts.append((embed.get("footer") or {}).get("text") or "")
        return "\n".join(part for part in parts if part)


@dataclass
class InteractionLog:
    """An interaction the test sent, and the bot's responses to it (filled in as they arrive)."""

    id: int
    token: str
    payload: dict[str, Any]
    sent_at: float
    responses: list[InteractionResponse] = field(default_factory=list)

    @property
    def callback(self) -> InteractionResponse | None:
        """The initial response (defer, message, modal, autocomplete result ...), if any yet."""
        return next((item for item in self.responses if item.kind == "callback"), None)

    @property
    def deferred(self) -> bool:
        callback = self.callback
        return callback is not None and callback.callback_type in (5, 6)

    @property
    def ephemeral(self) -> bool:
        """Whether the initial response is ephemeral (a deferral's flags count too)."""
        callback = self.callback
        return callback is not None and callback.ephemeral

    @property
    def edits(self) -> list[InteractionResponse]:
        return [item for item in self.responses if item.kind == "edit_original"]

    @property
    def followups(self) -> list[InteractionResponse]:
        return [item for item in self.responses if item.kind == "followup"]

    @property
    def messages(self) -> list[InteractionResponse]:
        """Every response that carries something a user reads."""
        return [item for item in self.responses if item.request.is_message]

    @property
    def last_message(self) -> InteractionResponse:
        assert self.messages, "the bot has not answered with a message yet"
        return self.messages[-1]

    def response_delay(self) -> float | None:
        """Seconds from sending the interaction to the bot's first response."""
        callback = self.callback
        return None if callback is None else callback.at - self.sent_at
