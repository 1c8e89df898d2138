"""Chat history for the digest end-to-end tests: realistic channels written into the fake Discord."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.e2e.fake_discord import FakeDiscord
from tests.e2e.fake_guild import FakeChannel, FakeUser

JUMP_RE = re.compile(r"https://discord\.com/channels/(\d+)/(\d+)/(\d+)")

_RELEASE = [
    "The release candidate build failed again on the ARM runners this morning.",
    "The ARM build fails because the release pipeline still pins the old compiler version.",
    "Bumping the compiler in the release pipeline is a one line change, opening the PR now.",
    "After the compiler bump the release candidate passes on the ARM runners.",
    "The release checklist still lists the old compiler, the release docs need an update.",
]
_LUNCH = [
    "The team lunch on Thursday moves to the new Thai restaurant near the office.",
    "The Thai restaurant near the office has vegetarian dishes for the team lunch.",
    "Booking a Thai restaurant table for twelve people at noon for the team lunch.",
    "The team lunch budget for the Thai restaurant is twenty euros per person.",
]
_HIRING = [
    "We interviewed two backend candidates for the platform team yesterday.",
    "The second backend candidate did well on the system design interview.",
    "The platform team wants to send the backend candidate an offer next week.",
]


def human_lines(count: int) -> list[str]:
    """``count`` chat lines cycling through three conversations, each line made distinct."""
    pools = [_RELEASE, _LUNCH, _HIRING]
    lines = []
    for number in range(count):
        pool = pools[(number // 7) % 3]
        lines.append(f"{pool[number % len(pool)]} (note {number})")
    return lines


def write_channel(
    fake: FakeDiscord, channel: FakeChannel, lines: list[str], *, authors: list[FakeUser], end: datetime | None = None,
    spacing: timedelta = timedelta(seconds=40),
) -> list[dict[str, Any]]:
    """Write ``lines`` into ``channel``, authors taking turns, the last one a minute before ``end``."""
    end = end or datetime.now(UTC)
    start = end - timedelta(minutes=1) - spacing * (len(lines) - 1)
    return [fake.add_history(channel, authors[number % len(authors)], line, at=start + spacing * number)
            for number, line in enumerate(lines)]


def jump_links(text: str) -> list[tuple[int, int, int]]:
    return [(int(g), int(c), int(m)) for g, c, m in JUMP_RE.findall(text)]

