"""Exact-layer keys: a normalised form of a query, hashed, so a repeat needs no embedding.

Two texts share a key when they differ only in Unicode form (NFKC), case, whitespace or
punctuation.  Punctuation between two digits is kept, because ``3.5%`` and ``35%`` are different
numbers; everywhere else it becomes a space, so ``don't`` and ``don’t`` meet but ``re-cover`` and
``recover`` do not.  A verbatim key (a normalised URL, a content hash) is hashed in its own space
and never collides with a query key.
"""

from __future__ import annotations

import hashlib
import logging
import unicodedata

__all__ = ["normalise_query", "query_key", "verbatim_key"]

_log = logging.getLogger(__name__)


def _is_punctuation(char: str) -> bool:
    return unicodedata.category(char).startswith("P")


def normalise_query(text: str) -> str:
    """NFKC, casefold, punctuation to spaces (except between digits), whitespace collapsed."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    kept: list[str] = []
    last_index = len(folded) - 1
    for index, char in enumerate(folded):
        if _is_punctuation(char):
            between_digits = 0 < index < last_index and folded[index - 1].isdigit() and folded[index + 1].isdigit()
            kept.append(char if between_digits else " ")
        else:
            kept.append(char)
    return " ".join("".join(kept).split())


def query_key(text: str) -> str:
    """The exact-layer key of a query: SHA-256 of its normalised form, hex."""
    return hashlib.sha256(b"q\x00" + normalise_query(text).encode("utf-8")).hexdigest()


def verbatim_key(key: str) -> str:
    """The key of a caller-normalised string (URL, content hash), used as given."""
    return hashlib.sha256(b"k\x00" + key.encode("utf-8")).hexdigest()
