"""A digest as titled sections of text lines, each item ending with links to its messages.

Front ends pick how a link looks (``link``: a Markdown jump link on Discord, ``#line`` on the
console) and pack the sections into whatever they show.  Text from the chat is data: the caller
escapes it for its medium through ``escape``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core.digest.models import Digest

__all__ = ["DigestSection", "digest_sections", "digest_summary_line"]


@dataclass(frozen=True, slots=True)
class DigestSection:
    title: str
    lines: tuple[str, ...]


def digest_summary_line(digest: Digest) -> str:
    """``1,204 messages from 37 people, 09:00-17:45 UTC; 12 left out (bots, system, opted out)``."""
    parts = [f"{digest.message_count:,} message{'s' if digest.message_count != 1 else ''} from "
             f"{digest.participant_count} {'person' if digest.participant_count == 1 else 'people'}"]
    if digest.first_at and digest.last_at:
        parts.append(f"{digest.first_at:%Y-%m-%d %H:%M} to {digest.last_at:%Y-%m-%d %H:%M} UTC")
    line = ", ".join(parts)
    if digest.skipped_count:
        line += f"; {digest.skipped_count:,} left out (bots, system messages, opted-out members)"
    engine = "local engine" if digest.engine == "local" else digest.engine
    line += f". Written by the {engine}"
    if digest.fallback_reason:
        line += f" (the LLM could not: {digest.fallback_reason})"
    return line + "."


def digest_sections(
    digest: Digest, *, link: Callable[[int, int], str], escape: Callable[[str], str] = lambda text: text
) -> list[DigestSection]:
    """Topics, decisions, open questions and links; ``link(message_id, number)`` renders one source."""

    def sources(message_ids: list[int]) -> str:
        return " ".join(link(message_id, number) for number, message_id in enumerate(message_ids[:3], start=1))

    sections = []
    if digest.topics:
        sections.append(DigestSection("Main topics", tuple(
            f"**{escape(topic.title)}** ({topic.message_count} messages; driven by "
            f"{escape(', '.join(topic.drivers)) or 'several people'}): {escape(topic.summary)} {sources(topic.message_ids)}"
            for topic in digest.topics)))
    if digest.decisions:
        sections.append(DigestSection("Decisions", tuple(
            f"{escape(item.text)} {sources(item.message_ids)}" for item in digest.decisions)))
    if digest.open_questions:
        sections.append(DigestSection("Open questions", tuple(
            f"{escape(item.text)} {sources(item.message_ids)}" for item in digest.open_questions)))
    if digest.links:
        sections.append(DigestSection("Links", tuple(
            f"<{link_item.url}> {escape(link_item.line)} {sources(link_item.message_ids)}" for link_item in digest.links)))
    return sections
