"""A small, realistic chat used by the digest tests: two topics, a decision, questions, links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.digest.models import ChatMessage

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

RELEASE_LINES = [
    ("alice", "The release candidate build failed again on the ARM runners this morning."),
    ("bob", "The ARM build fails because the release pipeline still pins the old compiler version."),
    ("alice", "Can we bump the compiler in the release pipeline before Friday's release?"),
    ("bob", "Yes, bumping the compiler in the release pipeline is a one line change, I'll open the PR."),
    ("carol", "After the compiler bump the release candidate build passes on the ARM runners."),
    ("alice", "We decided to ship the release candidate on Friday once the ARM build is green."),
    ("bob", "Release notes for the candidate are drafted at https://docs.example.com/release-notes"),
    ("carol", "The release checklist still lists the old compiler, the release docs need an update."),
]
LUNCH_LINES = [
    ("dave", "The team lunch on Thursday moves to the new Thai restaurant near the office."),
    ("erin", "The Thai restaurant near the office has vegetarian dishes for the team lunch."),
    ("dave", "Booking the Thai restaurant table for twelve people at noon for the team lunch."),
    ("erin", "Menu of the Thai place for the team lunch: https://thai.example.org/menu"),
    ("carol", "Who is paying for the team lunch at the Thai restaurant this time?"),
    ("dave", "The team lunch budget for the Thai restaurant is twenty euros per person."),
]
UNANSWERED = ("frank", "Does anyone know when the office wifi maintenance window is scheduled?")


def chat(lines: list[tuple[str, str]] | None = None, *, start: datetime = START) -> list[ChatMessage]:
    """The release thread, then the lunch thread, one message a minute, ids from 1."""
    lines = lines if lines is not None else [*RELEASE_LINES, *LUNCH_LINES, UNANSWERED]
    authors: dict[str, int] = {}
    return [
        ChatMessage(message_id=number, author_id=authors.setdefault(author, len(authors) + 100), author=author,
                    created_at=start + timedelta(minutes=number), content=text,
                    jump_url=f"https://discord.com/channels/1/2/{number}")
        for number, (author, text) in enumerate(lines, start=1)
    ]
