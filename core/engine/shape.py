"""What kind of text a source is: an article, a conversation or a list of notes.

A news-style summary (lede first) only makes sense for an article.  A chat log, a forum thread
or meeting notes have no lede: their first line is a greeting, a title or an attendance list.
:func:`document_shape` tells them apart from the lines of the text, before any model runs:

* **conversation**: at least 4 lines and half of the prose lines are chat messages
  ("[09:02] priya: ...", "priya: ...", "<priya> ...") or at least 2 lines are forum post headers
  ("reply from ...", "posted by ...", "... wrote:");
* **list**: half of the prose lines are bullets or numbered items (notes, minutes, checklists);
* **article**: anything else.

Speakers need two characters or more, so an interview's "Q:" and "A:" lines stay an article.
"""

from __future__ import annotations

import re
from typing import Literal

from core.engine.text import CHAT_STAMP_RE

__all__ = ["DocumentShape", "document_shape"]

DocumentShape = Literal["article", "conversation", "list"]

_MIN_MESSAGES = 4
_SHAPE_SHARE = 0.5
_SPEAKER_RE = re.compile(r"^\s*(?:<[\w.@-]{2,32}>\s|[\w.@-]{2,32}:\s+\S)")
_FORUM_HEADER_RE = re.compile(
    r"^\W*(?:re:|(?:reply|posted|answered|comment) (?:from|by)\b|[\w.@-]{2,32} (?:wrote|replied|said):\W*$)",
    re.IGNORECASE,
)
_BULLET_RE = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)])\s+")
_NOT_PROSE_RE = re.compile(r"^\s*(?:#{1,6}(?:\s|$)|[-=_*]{3,}\s*$|\|.*\|\s*$|```|~~~)")


def document_shape(text: str) -> DocumentShape:
    """``"conversation"``, ``"list"`` or ``"article"``, from the lines of ``text``."""
    lines = [line for line in text.splitlines() if line.strip() and not _NOT_PROSE_RE.match(line)]
    if not lines:
        return "article"
    messages = sum(1 for line in lines if CHAT_STAMP_RE.match(line) or _SPEAKER_RE.match(line))
    headers = sum(1 for line in lines if _FORUM_HEADER_RE.match(line))
    if (messages >= _MIN_MESSAGES and messages >= _SHAPE_SHARE * len(lines)) or headers >= 2:
        return "conversation"
    bullets = sum(1 for line in lines if _BULLET_RE.match(line))
    if bullets >= _SHAPE_SHARE * len(lines):
        return "list"
    return "article"
