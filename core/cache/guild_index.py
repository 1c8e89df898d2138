"""A guild's loaded semantic layer: its vectors plus, per entry, what the decision step needs.

The per-entry side (namespace, query text, expiry) is a mirror of database rows, kept so that one
gate job can embed, search, filter to the namespace and decide without a database round trip in
between.  The database stays the truth: a chosen entry is read back from its row (with an expiry check)
before it is served.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from core.cache.decision import Candidate
from core.cache.models import IndexRow
from core.cache.vector_index import FaissVectorIndex

__all__ = ["GuildIndex", "IndexedEntry"]

_log = logging.getLogger(__name__)

_MAX_SEARCH = 4096


@dataclass(slots=True)
class IndexedEntry:
    """What a search result needs without reading its row."""

    namespace: str
    query_text: str
    expires_at: float


class GuildIndex:
    """Vectors and entry mirror for one guild.  Blocking methods run on a gate worker."""

    def __init__(self, guild_id: int, vectors: FaissVectorIndex, entries: dict[int, IndexedEntry]) -> None:
        self.guild_id = guild_id
        self.vectors = vectors
        self.entries = entries

    @classmethod
    def from_rows(cls, guild_id: int, vectors: FaissVectorIndex, rows: Sequence[IndexRow]) -> GuildIndex:
        entries = {
            row.entry_id: IndexedEntry(namespace=row.namespace, query_text=row.query_text, expires_at=row.expires_at)
            for row in rows
        }
        return cls(guild_id, vectors, entries)

    def reconcile(self, *, missing: Mapping[int, bytes], extra: Sequence[int]) -> None:
        """Make the vectors hold exactly the mirrored rows: add ``missing`` embeddings, drop ``extra`` ids."""
        if extra:
            self.vectors.delete(list(extra))
        width = self.vectors.dimension * 4
        broken = [entry_id for entry_id, blob in missing.items() if len(blob) != width]
        for entry_id in broken:  # a corrupt embedding: the entry stays findable by its exact key only
            _log.warning("guild %s cache entry %d has a corrupt embedding; left out of the index", self.guild_id, entry_id)
            self.entries.pop(entry_id, None)
        ids = [entry_id for entry_id in missing if entry_id not in broken]
        if ids:
            self.vectors.add(ids, np.stack([np.frombuffer(missing[entry_id], dtype=np.float32) for entry_id in ids]))
        if missing or extra:
            _log.info(
                "guild %s cache index reconciled with the database: %d added, %d removed",
                self.guild_id, len(missing), len(extra),
            )

    def apply(
        self, *, added: Sequence[tuple[int, np.ndarray, IndexedEntry]], removed: Sequence[int]
    ) -> None:
        """Add new entries (skipping ids already present) and remove deleted ones."""
        fresh = [(entry_id, vector, entry) for entry_id, vector, entry in added if entry_id not in self.entries]
        if fresh:
            self.vectors.add([item[0] for item in fresh], np.stack([item[1] for item in fresh]))
            self.entries.update({entry_id: entry for entry_id, _, entry in fresh})
        gone = [entry_id for entry_id in removed if self.entries.pop(entry_id, None) is not None]
        self.vectors.delete(gone)

    def candidates(self, vector: np.ndarray, *, namespace: str, now: float, limit: int) -> list[Candidate]:
        """The ``limit`` nearest live entries of ``namespace``, best first."""
        search_limit = limit * 4
        while True:
            matches = self.vectors.search(vector, limit=search_limit)
            found = [
                Candidate(entry_id=match.entry_id, text=entry.query_text, similarity=match.similarity)
                for match in matches
                if (entry := self.entries.get(match.entry_id)) is not None
                and entry.namespace == namespace
                and entry.expires_at > now
            ]
            if len(found) >= limit or len(matches) < search_limit or search_limit >= _MAX_SEARCH:
                return found[:limit]
            search_limit *= 8

    def refresh_expiry(self, entry_id: int, expires_at: float) -> None:
        entry = self.entries.get(entry_id)
        if entry is not None:
            entry.expires_at = expires_at
