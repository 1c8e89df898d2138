"""What ``since`` means for a digest: ``24h``, ``90m``, ``3d``, ``1w``, or a date and time."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from core.errors import InputError

__all__ = ["DEFAULT_WINDOW", "MAX_WINDOW", "parse_since"]

DEFAULT_WINDOW = timedelta(hours=24)
MAX_WINDOW = timedelta(days=31)
_SPAN_RE = re.compile(r"^(?P<amount>\d{1,5})\s*(?P<unit>m|min|mins|minutes?|h|hr|hrs|hours?|d|days?|w|weeks?)$")
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86_400, "w": 604_800}


def parse_since(text: str | None, *, now: datetime) -> datetime:
    """The start of the window: ``now`` minus a span, or an absolute time (UTC unless it says)."""
    text = (text or "").strip().lower()
    if not text:
        return now - DEFAULT_WINDOW
    span = _SPAN_RE.match(text)
    if span is not None:
        delta = timedelta(seconds=int(span["amount"]) * _UNIT_SECONDS[span["unit"][0]])
        start = now - delta
    else:
        try:
            start = datetime.fromisoformat(text.upper().replace(" ", "T", 1) if " " in text else text.upper())
        except ValueError:
            raise InputError(f"since: {text!r} is not a span or a date; try 24h, 90m, 3d, 1w or 2026-03-01 14:00.") from None
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
    if start >= now:
        raise InputError("since: that is not in the past.")
    if now - start > MAX_WINDOW:
        raise InputError(f"since: a digest covers at most the last {MAX_WINDOW.days} days.")
    return start
