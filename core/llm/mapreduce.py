"""Fitting long texts into the model's context: how many calls a depth makes, and on which text.

* ``quick``: one call; sources that do not fit are truncated (the report says so in the log).
* ``standard``: one call when everything fits; else one *map* call per chunk, then *reduce*.
* ``deep``: map over chunks half the size (more, finer passes), then always a reduce pass.

Sizes are in estimated tokens (about four characters each, :func:`core.llm.prompts.estimate_tokens`).
Chunks break at paragraph, then sentence, then word boundaries.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic import BaseModel

from core.llm.prompts import CHARS_PER_TOKEN, TextPiece
from core.models import SourceDocument
from core.settings import Depth

__all__ = ["PassPlan", "plan_passes", "split_text"]

_SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+")


class PassPlan(BaseModel):
    """The map calls (each a list of pieces), whether a reduce call follows, whether text was cut."""

    map_calls: list[list[TextPiece]]
    reduce: bool
    truncated: bool = False

    @property
    def call_count(self) -> int:
        return len(self.map_calls) + (1 if self.reduce else 0)


def plan_passes(sources: Sequence[SourceDocument], *, depth: Depth, budget_tokens: int) -> PassPlan:
    """Plan the calls for ``sources`` given ``budget_tokens`` of source text per call."""
    budget_chars = max(CHARS_PER_TOKEN * 100, budget_tokens * CHARS_PER_TOKEN)
    total_chars = sum(len(source.text) for source in sources)
    if depth == "quick":
        return _single_truncated(sources, budget_chars=budget_chars)
    if depth == "standard" and total_chars <= budget_chars:
        return PassPlan(map_calls=[_whole_pieces(sources)], reduce=False)
    chunk_chars = budget_chars if depth == "standard" else budget_chars // 2
    calls = [[piece] for piece in _chunk_pieces(sources, chunk_chars=chunk_chars)]
    return PassPlan(map_calls=calls, reduce=True)


def _whole_pieces(sources: Sequence[SourceDocument]) -> list[TextPiece]:
    return [
        TextPiece(source_index=index, label=source.label, text=source.text)
        for index, source in enumerate(sources)
    ]


def _single_truncated(sources: Sequence[SourceDocument], *, budget_chars: int) -> PassPlan:
    share = budget_chars // max(1, len(sources))
    pieces = []
    truncated = False
    for index, source in enumerate(sources):
        text = source.text
        if len(text) > share:
            text, truncated = _cut_at_word(text, share), True
        pieces.append(TextPiece(source_index=index, label=source.label, text=text))
    return PassPlan(map_calls=[pieces], reduce=False, truncated=truncated)


def _chunk_pieces(sources: Sequence[SourceDocument], *, chunk_chars: int) -> list[TextPiece]:
    pieces = []
    for index, source in enumerate(sources):
        chunks = split_text(source.text, max_chars=chunk_chars)
        pieces += [
            TextPiece(source_index=index, label=source.label, text=chunk, part=number, parts=len(chunks))
            for number, chunk in enumerate(chunks, start=1)
        ]
    return pieces


def split_text(text: str, *, max_chars: int) -> list[str]:
    """Split ``text`` into chunks of at most ``max_chars``, at the largest boundary that fits."""
    units = _units(text, max_chars=max_chars)
    chunks: list[str] = []
    current = ""
    for unit in units:
        candidate = f"{current}\n\n{unit}" if current else unit
        if len(candidate) <= max_chars:
            current = candidate
        else:
            chunks.append(current)
            current = unit
    if current:
        chunks.append(current)
    return [chunk for chunk in chunks if chunk.strip()]


def _units(text: str, *, max_chars: int) -> list[str]:
    """Paragraphs, with any paragraph too long broken into sentences, then into words."""
    units: list[str] = []
    for paragraph in (part.strip() for part in text.split("\n\n")):
        if len(paragraph) <= max_chars:
            units.append(paragraph)
            continue
        for sentence in _SENTENCE_END_RE.split(paragraph):
            while len(sentence) > max_chars:
                head = _cut_at_word(sentence, max_chars)
                units.append(head)
                sentence = sentence[len(head):].lstrip()
            units.append(sentence)
    return [unit for unit in units if unit]


def _cut_at_word(text: str, limit: int) -> str:
    head = text[:limit]
    space = head.rfind(" ")
    return head[:space] if space > limit // 2 else head
