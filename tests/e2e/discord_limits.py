"""Assertions on what the bot sent: Discord's message limits, and that nothing can ping anyone.

These restate Discord's documented limits independently of :mod:`cogs.render` (a renderer checked
against its own constants would prove nothing).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tests.e2e.fake_records import RecordedRequest

__all__ = [
    "assert_cannot_ping",
    "assert_message_within_limits",
    "assert_messages_within_limits",
    "message_requests",
]

CONTENT_LIMIT = 2000
EMBEDS_PER_MESSAGE = 10
EMBED_TOTAL_PER_MESSAGE = 6000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELDS_PER_EMBED = 25
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FOOTER_LIMIT = 2048
AUTHOR_LIMIT = 256
FILES_PER_MESSAGE = 10
FILE_BYTES_LIMIT = 10 * 1024 * 1024  # the smallest upload limit (a server without boosts)
COMPONENT_ROWS = 5


def message_requests(requests: Iterable[RecordedRequest]) -> list[RecordedRequest]:
    """The requests that carry a message a user reads (content, embeds or files)."""
    return [request for request in requests if request.is_message]


def _embed_characters(embed: dict[str, Any]) -> int:
    fields = embed.get("fields") or []
    return (
        len(embed.get("title") or "")
        + len(embed.get("description") or "")
        + sum(len(field.get("name") or "") + len(field.get("value") or "") for field in fields)
        + len((embed.get("footer") or {}).get("text") or "")
        + len((embed.get("author") or {}).get("name") or "")
    )


def _check_embed(embed: dict[str, Any], where: str) -> list[str]:
    problems = []

    def over(label: str, text: str | None, limit: int) -> None:
        if text is not None and len(text) > limit:
            problems.append(f"{where}: {label} is {len(text)} characters (limit {limit})")

    over("title", embed.get("title"), TITLE_LIMIT)
    over("description", embed.get("description"), DESCRIPTION_LIMIT)
    over("footer", (embed.get("footer") or {}).get("text"), FOOTER_LIMIT)
    over("author", (embed.get("author") or {}).get("name"), AUTHOR_LIMIT)
    fields = embed.get("fields") or []
    if len(fields) > FIELDS_PER_EMBED:
        problems.append(f"{where}: {len(fields)} fields (limit {FIELDS_PER_EMBED})")
    for number, field in enumerate(fields):
        name, value = field.get("name") or "", field.get("value") or ""
        if not name.strip() or not value.strip():
            problems.append(f"{where} field {number}: an empty name or value is refused by Discord")
        over(f"field {number} name", name, FIELD_NAME_LIMIT)
        over(f"field {number} value", value, FIELD_VALUE_LIMIT)
    return problems


def assert_message_within_limits(request: RecordedRequest) -> None:
    """Every limit Discord enforces on one message (content, embeds, fields, totals, files, rows)."""
    payload = request.message_payload
    where = request.route
    problems = []
    content = payload.get("content") or ""
    if len(content) > CONTENT_LIMIT:
        problems.append(f"{where}: content is {len(content)} characters (limit {CONTENT_LIMIT})")
    embeds = payload.get("embeds") or []
    if len(embeds) > EMBEDS_PER_MESSAGE:
        problems.append(f"{where}: {len(embeds)} embeds (limit {EMBEDS_PER_MESSAGE})")
    for number, embed in enumerate(embeds):
        problems += _check_embed(embed, f"{where} embed {number}")
    total = sum(_embed_characters(embed) for embed in embeds)
    if total > EMBED_TOTAL_PER_MESSAGE:
        problems.append(f"{where}: embeds total {total} characters (limit {EMBED_TOTAL_PER_MESSAGE})")
    if len(request.files) > FILES_PER_MESSAGE:
        problems.append(f"{where}: {len(request.files)} files (limit {FILES_PER_MESSAGE})")
    problems += [f"{where}: {item.filename} is {len(item.data)} bytes" for item in request.files
                 if len(item.data) > FILE_BYTES_LIMIT]
    if len(payload.get("components") or []) > COMPONENT_ROWS:
        problems.append(f"{where}: more than {COMPONENT_ROWS} component rows")
    assert not problems, "\n".join(problems)


def assert_messages_within_limits(requests: Iterable[RecordedRequest]) -> int:
    """Check every message among ``requests``; returns how many were checked."""
    messages = message_requests(requests)
    for request in messages:
        assert_message_within_limits(request)
    return len(messages)


def assert_cannot_ping(request: RecordedRequest) -> None:
    """The message sets ``allowed_mentions`` to none: no user, role, @everyone or reply ping."""
    allowed = request.message_payload.get("allowed_mentions")
    assert allowed is not None, f"{request.route} sent a message without allowed_mentions"
    assert allowed.get("parse") == [], f"{request.route} allows mentions: {allowed}"
    assert not allowed.get("users") and not allowed.get("roles"), f"{request.route} allows mentions: {allowed}"
    assert not allowed.get("replied_user"), f"{request.route} pings the replied-to user"
