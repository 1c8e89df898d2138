"""Chat lines from a text file, ``[time] author: message``, as :class:`ChatMessage` objects.

For the console's ``/digest <file>``.  The time is ``HH:MM`` (or ``HH:MM:SS``), a date and time
(``2026-03-01 14:05``), or ISO 8601 with an offset; a bare time takes the date of the previous
line (``start_date`` for the first) and moves to the next day when the clock goes backwards.  A
line that does not start with ``[`` continues the message above it.  Each message's id is its line
number, so a digest item can point back to the line.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from core.digest.models import ChatMessage
from core.errors import InputError

__all__ = ["ChatLogError", "parse_chat_lines"]

_LINE_RE = re.compile(r"^\[(?P<time>[^\]]{1,40})\]\s*(?P<author>[^:]{1,80}?)\s*:\s?(?P<text>.*)$")
_CLOCK_RE = re.compile(r"^(?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2}))?$")
MAX_LINES = 200_000


class ChatLogError(InputError):
    """A chat file that cannot be read as chat lines.  Inherits from :class:`InputError`."""

    def __init__(self, line_number: int, problem: str) -> None:
        self.line_number = line_number
        self.problem = problem
        super().__init__(f"Line {line_number}: {problem} (expected \"[time] author: message\").")


def parse_chat_lines(text: str, *, start_date: date | None = None) -> list[ChatMessage]:
    """Every message of the file, in order; raises :class:`ChatLogError` on the first bad line."""
    lines = text.splitlines()
    if len(lines) > MAX_LINES:
        raise InputError(f"The chat file has {len(lines):,} lines; the most is {MAX_LINES:,}.")
    current_day = start_date or datetime.now(UTC).date()
    previous: datetime | None = None
    authors: dict[str, int] = {}
    messages: list[dict[str, object]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        match = _LINE_RE.match(line)
        if match is None:
            if not messages:
                raise ChatLogError(number, "this is not a chat line")
            messages[-1]["content"] = f"{messages[-1]['content']}\n{line.strip()}"
            continue
        moment = _moment(match["time"].strip(), day=current_day, previous=previous, line_number=number)
        current_day, previous = moment.date(), moment
        author = match["author"].strip()
        author_id = authors.setdefault(author.casefold(), len(authors) + 1)
        messages.append({"message_id": number, "author_id": author_id, "author": author, "created_at": moment,
                         "content": match["text"].strip()})
    if not messages:
        raise InputError("The chat file holds no chat lines (expected \"[time] author: message\").")
    return [ChatMessage.model_validate(message) for message in messages]


def _moment(stamp: str, *, day: date, previous: datetime | None, line_number: int) -> datetime:
    clock = _CLOCK_RE.match(stamp)
    if clock is not None:
        hour, minute, second = int(clock["h"]), int(clock["m"]), int(clock["s"] or 0)
        if hour > 23 or minute > 59 or second > 59:
            raise ChatLogError(line_number, f"{stamp!r} is not a time of day")
        moment = datetime.combine(day, time(hour, minute, second), tzinfo=UTC)
        if previous is not None and moment < previous:
            moment += timedelta(days=1)
        return moment
    try:
        parsed = datetime.fromisoformat(stamp)
    except ValueError:
        raise ChatLogError(line_number, f"{stamp!r} is not a time (use HH:MM or 2026-03-01 14:05)") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
