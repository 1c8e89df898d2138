"""The per-guild semantic cache: an exact layer, a semantic layer, and a decision step.

A lookup first tries the exact layer (a hash of the normalised query, one database read, no
embedding).  On a miss, one gate job embeds the query, searches this guild's FAISS index, keeps
the nearest live entries of the namespace and asks the :class:`~core.cache.decision.HitDecider`
which (if any) to serve.  The chosen row is read back from the database, its payload validated against
the caller's pydantic model, and its expiry refreshed.

Durability: a store commits its rows first (the database is the truth, SQLite or PostgreSQL), then updates the in-memory
index.  Index files are written on a debounce, when a guild is unloaded and at close; a load
reconciles the file with the rows (adds rows it lacks, drops ids that are gone), so a crash or a
corrupt file costs a rebuild, never an entry.  See ``docs/cache.md``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np
from pydantic import BaseModel, ValidationError

from core.cache.decision import Candidate, Decision, HitDecider, ThresholdDecider
from core.cache.guild_index import GuildIndex, IndexedEntry
from core.cache.judge import HitJudge, NoJudge
from core.cache.keys import normalise_query, query_key, verbatim_key
from core.cache.models import CacheHit, CacheStats, EntryRow, HitKind, NewEntry, StoreItem, StoreOutcome
from core.cache.vector_index import APPROXIMATE_FROM, FaissVectorIndex
from core.embedder import Embedder
from core.errors import CacheClosedError
from core.gate import WorkerGate
from core.guild_settings import GuildSettingsStore, Strictness
from core.metrics import Metrics
from core.settings import Settings
from core.storage import CacheRows, ChangeEvent, FeedbackRows, Storage
from core.tenants import require_tenant

__all__ = ["SemanticCache", "schema_version_of", "type_tag_of"]

_log = logging.getLogger(__name__)

ModelT = TypeVar("ModelT", bound=BaseModel)

_DAY = 86_400.0
_RECENT_VECTORS = 128
_EMBED_CHUNK = 16


def type_tag_of(model: type[BaseModel]) -> str:
    """The type tag stored with a payload: ``module.QualName``."""
    return f"{model.__module__}.{model.__qualname__}"


def schema_version_of(model: type[BaseModel]) -> int:
    """A model's schema version: the default of its ``schema_version`` field, else 0."""
    field = model.model_fields.get("schema_version")
    default = field.default if field is not None else 0
    return default if isinstance(default, int) else 0


def _parse_payload(row: EntryRow, model: type[ModelT]) -> ModelT | None:
    """Validate a stored payload; ``None`` (logged) when its type, version or content no longer fit."""
    if row.value_type != type_tag_of(model) or row.schema_version != schema_version_of(model):
        _log.info("cache entry %d is stale (%s v%d)", row.entry_id, row.value_type, row.schema_version)
        return None
    try:
        return model.model_validate_json(row.payload)
    except ValidationError:
        _log.warning("cache entry %d no longer validates as %s", row.entry_id, model.__name__, exc_info=True)
        return None


class SemanticCache:
    """Per-guild cache of pydantic values.  ``await setup()`` before use, ``await close()`` after."""

    def __init__(
        self,
        *,
        metadata: CacheRows,
        feedback: FeedbackRows,
        gate: WorkerGate,
        embedder: Embedder,
        guild_settings: GuildSettingsStore,
        directory: Path,
        capacity: int = 5_000,
        max_loaded_guilds: int = 64,
        decider: HitDecider | None = None,
        judge: HitJudge | None = None,
        candidates: int = 5,
        semantic_max_chars: int = 1_000,
        flush_interval_seconds: float = 30.0,
        approximate_from: int = APPROXIMATE_FROM,
        clock: Callable[[], float] = time.time,
        metrics: Metrics | None = None,
        owns_guild: Callable[[int], bool] | None = None,
    ) -> None:
        """``owns_guild``: which guilds' indexes this process keeps loaded (its shards' guilds);
        another guild's index is built from the rows for the one request and not kept.  ``None``: all."""
        self._gate = gate
        self._embedder = embedder
        self._guild_settings = guild_settings
        self._directory = directory
        self._capacity = capacity
        self._max_loaded = max_loaded_guilds
        self._decider: HitDecider = decider or ThresholdDecider()
        self._judge: HitJudge = judge or NoJudge()
        self._candidates = candidates
        self._semantic_max_chars = semantic_max_chars
        self._flush_interval = flush_interval_seconds
        self._approximate_from = approximate_from
        self._clock = clock
        self._metadata = metadata
        self._feedback = feedback
        self._metrics = metrics
        self._owns_guild = owns_guild
        self._loaded: OrderedDict[int, GuildIndex] = OrderedDict()
        self._last_flush: dict[int, float] = {}
        self._write_locks: dict[int, asyncio.Lock] = {}
        self._load_locks: dict[int, asyncio.Lock] = {}
        self._changes_seen: dict[int, int] = {}  # per guild: announcements from other processes
        self._dimension = 0
        self._closed = False
        self._recent_vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._recent_lock = threading.Lock()

    @classmethod
    def from_settings(
        cls, settings: Settings, *, storage: Storage, gate: WorkerGate, embedder: Embedder,
        guild_settings: GuildSettingsStore, decider: HitDecider | None = None, judge: HitJudge | None = None,
        metrics: Metrics | None = None,
    ) -> SemanticCache:
        return cls(
            metadata=storage.cache, feedback=storage.feedback, gate=gate, embedder=embedder, guild_settings=guild_settings,
            directory=settings.data_dir / "cache", capacity=settings.cache_capacity,
            max_loaded_guilds=settings.cache_max_loaded_guilds, decider=decider, judge=judge, metrics=metrics,
            owns_guild=settings.shards.owns if settings.shards is not None else None,
        )

    async def setup(self) -> None:
        """Create the index directory; learn the embedding dimension (loads the model)."""
        await self._gate.run(self._directory.mkdir, parents=True, exist_ok=True)
        self._dimension = await self._gate.run(lambda: self._embedder.dimension)

    async def close(self) -> None:
        """Write every changed index.  Idempotent; the gate must still be open."""
        if self._closed:
            return
        self._closed = True
        while self._loaded:
            _, index = self._loaded.popitem(last=False)
            await self._flush(index)

    def _ensure_open(self) -> None:
        if self._closed:
            raise CacheClosedError()

    def _index_path(self, guild_id: int) -> Path:
        return self._directory / f"{guild_id}.faiss"

    def _write_lock(self, guild_id: int) -> asyncio.Lock:
        return self._write_locks.setdefault(guild_id, asyncio.Lock())

    def _scoped(self, namespace: str) -> str:
        """The namespace as stored: the caller's, plus the embedding model that made its vectors, so
        vectors of two models (or of two inference backends of one model) are never compared."""
        return f"{namespace}@{self._embedder.name}"

    def semantic_allowed(self, query_text: str) -> bool:
        """Whether a text is short enough to embed whole (longer texts use the exact layer only)."""
        return len(query_text) <= self._semantic_max_chars

    # --- lookup -------------------------------------------------------------------------------

    async def lookup(
        self, guild_id: int, namespace: str, query_text: str, *, model: type[ModelT], semantic: bool = True
    ) -> CacheHit[ModelT] | None:
        """The value stored for this query in this guild and namespace, or ``None``."""
        hit = await self._lookup(guild_id, self._scoped(namespace), query_text, model=model, semantic=semantic)
        self._count_lookup(hit)
        return hit

    def _count_lookup(self, hit: CacheHit[ModelT] | None) -> None:
        """Feed the process metrics: one lookup, by the layer that answered it (or a miss)."""
        if self._metrics is not None:
            self._metrics.record_cache("miss" if hit is None else hit.how)

    async def _lookup(
        self, guild_id: int, namespace: str, query_text: str, *, model: type[ModelT], semantic: bool
    ) -> CacheHit[ModelT] | None:
        self._ensure_open()
        require_tenant(guild_id)
        now = self._clock()
        row = await self._metadata.find_by_key(guild_id, namespace, query_key(query_text), now=now)
        if row is not None:
            return await self._serve(row, model=model, how="exact", similarity=1.0, now=now)
        if semantic and self.semantic_allowed(query_text):
            choice = await self._semantic_choice(guild_id, namespace, query_text, now=now)
            if choice is not None:
                row = await self._metadata.get_entry(guild_id, namespace, choice.entry_id, now=now)
                if row is not None:
                    return await self._serve(row, model=model, how="semantic", similarity=choice.similarity, now=now)
        await self._metadata.record_miss(guild_id, now=now)
        return None

    async def lookup_key(
        self, guild_id: int, namespace: str, key: str, *, model: type[ModelT]
    ) -> CacheHit[ModelT] | None:
        """Exact lookup by a caller-normalised key given at store time (``keys=``), e.g. a URL."""
        self._ensure_open()
        require_tenant(guild_id)
        now = self._clock()
        row = await self._metadata.find_by_key(guild_id, self._scoped(namespace), verbatim_key(key), now=now)
        if row is None:
            await self._metadata.record_miss(guild_id, now=now)
            hit = None
        else:
            hit = await self._serve(row, model=model, how="exact", similarity=1.0, now=now)
        self._count_lookup(hit)
        return hit

    async def _semantic_choice(self, guild_id: int, namespace: str, query_text: str, *, now: float) -> Candidate | None:
        index = await self._index_for(guild_id)
        if not index.entries:
            return None
        guild = await self._guild_settings.effective(guild_id)
        excluded = await self._wrong_answers(guild_id, namespace, query_text)
        decision = await self._gate.run(
            self._embed_search_decide, index, query_text, namespace=namespace, now=now,
            threshold=guild.cache_similarity_threshold, strictness=guild.cache_strictness, excluded=excluded,
        )
        if decision.served is not None:
            return decision.served
        borderline = decision.borderline
        if borderline is not None and guild.cache_llm_verify:
            same = await self._judge.same_request(guild_id, query_text, borderline.text)
            if self._metrics is not None:
                self._metrics.record_cache_judge("hit" if same else "miss")
            return borderline if same else None
        return None

    async def _wrong_answers(self, guild_id: int, namespace: str, query_text: str) -> frozenset[str]:
        """Normalised stored texts this guild marked as a wrong answer to this query."""
        stored = await self._feedback.wrong_answers(guild_id, namespace, query_text)
        return frozenset(normalise_query(text) for text in stored)

    def _embed_search_decide(
        self, index: GuildIndex, query_text: str, *, namespace: str, now: float, threshold: float,
        strictness: Strictness, excluded: frozenset[str],
    ) -> Decision:
        """The one blocking job of a semantic lookup."""
        vector = self._embedder.embed([query_text])[0]
        self._remember_vector(query_text, vector)
        candidates = index.candidates(vector, namespace=namespace, now=now, limit=self._candidates)
        if not candidates:
            return Decision()
        return self._decider.decide(
            query_text, candidates, threshold=threshold, strictness=strictness, excluded=excluded
        )

    async def _serve(
        self, row: EntryRow, *, model: type[ModelT], how: HitKind, similarity: float, now: float
    ) -> CacheHit[ModelT] | None:
        value = await self._gate.run(_parse_payload, row, model)
        if value is None:
            await self._metadata.record_miss(row.guild_id, now=now, stale_entry_id=row.entry_id)
            await self._drop_from_index(row.guild_id, [row.entry_id])
            return None
        guild = await self._guild_settings.effective(row.guild_id)
        expires_at = now + guild.cache_ttl_days * _DAY
        await self._metadata.record_hit(
            row.guild_id, row.entry_id, how=how, now=now, expires_at=expires_at
        )
        loaded = self._loaded.get(row.guild_id)
        if loaded is not None:
            loaded.refresh_expiry(row.entry_id, expires_at)
        return CacheHit(
            value=value, similarity=similarity, how=how,
            age_seconds=max(0.0, now - row.created_at), entry_id=row.entry_id,
        )

    # --- writes -------------------------------------------------------------------------------

    async def store(
        self, guild_id: int, namespace: str, query_text: str, value: BaseModel, *,
        keys: Sequence[str] = (), semantic: bool = True,
    ) -> int:
        """Store ``value`` for this query, replacing an entry with the same key; returns its entry id.

        ``keys`` are extra exact keys used verbatim (normalise them first), found by :meth:`lookup_key`.
        """
        item = StoreItem(query_text=query_text, value=value, keys=tuple(keys), semantic=semantic)
        (entry_id,) = await self.store_many(guild_id, namespace, [item])  # store_many scopes the namespace
        return entry_id

    async def store_many(self, guild_id: int, namespace: str, items: Sequence[StoreItem]) -> list[int]:
        """Store several values in one embedding batch and one transaction."""
        self._ensure_open()
        require_tenant(guild_id)
        if not items:
            return []
        namespace = self._scoped(namespace)
        guild = await self._guild_settings.effective(guild_id)
        async with self._write_lock(guild_id):
            entries, vectors = await self._gate.run(self._prepare, items)
            now = self._clock()
            expires_at = now + guild.cache_ttl_days * _DAY
            outcome = await self._metadata.insert(
                guild_id, namespace, entries, now=now, expires_at=expires_at, capacity=self._capacity
            )
            await self._apply(guild_id, namespace, entries, vectors, outcome, expires_at=expires_at)
        return outcome.entry_ids

    def _prepare(self, items: Sequence[StoreItem]) -> tuple[list[NewEntry], dict[int, np.ndarray]]:
        """Blocking: embed what is semantic (one batch) and serialise every payload."""
        semantic_positions = [
            position for position, item in enumerate(items) if item.semantic and self.semantic_allowed(item.query_text)
        ]
        recalled = {position: self._recalled_vector(items[position].query_text) for position in semantic_positions}
        vectors = {position: vector for position, vector in recalled.items() if vector is not None}
        to_embed = [position for position in semantic_positions if position not in vectors]
        matrix = self._embed_by_length([items[position].query_text for position in to_embed])
        vectors.update({position: matrix[row] for row, position in enumerate(to_embed)})
        entries = [
            NewEntry(
                key_hash=query_key(item.query_text),
                alias_hashes=[verbatim_key(key) for key in item.keys],
                query_text=item.query_text,
                embedding=vectors[position].tobytes() if position in vectors else None,
                value_type=type_tag_of(type(item.value)),
                schema_version=schema_version_of(type(item.value)),
                payload=item.value.model_dump_json(),
            )
            for position, item in enumerate(items)
        ]
        return entries, vectors

    def _embed_by_length(self, texts: Sequence[str]) -> np.ndarray:
        """Embed in chunks of texts of similar length: a batch is padded to its longest text.

        One padded batch of 50 mixed-length questions cost 9 to 12 ms per text here; chunks of
        16 sorted by length cost about 5 ms (docs/cache.md, "Store throughput").
        """
        order = sorted(range(len(texts)), key=lambda position: len(texts[position]))
        matrix = np.zeros((len(texts), self._dimension), dtype=np.float32)
        for start in range(0, len(order), _EMBED_CHUNK):
            chunk = order[start:start + _EMBED_CHUNK]
            matrix[chunk] = self._embedder.embed([texts[position] for position in chunk])
        return matrix

    def _remember_vector(self, query_text: str, vector: np.ndarray) -> None:
        """Keep a looked-up query's vector: a miss is usually followed by storing that same text."""
        with self._recent_lock:
            self._recent_vectors[query_text] = vector
            while len(self._recent_vectors) > _RECENT_VECTORS:
                self._recent_vectors.popitem(last=False)

    def _recalled_vector(self, query_text: str) -> np.ndarray | None:
        with self._recent_lock:
            return self._recent_vectors.pop(query_text, None)

    async def _apply(
        self, guild_id: int, namespace: str, entries: Sequence[NewEntry], vectors: dict[int, np.ndarray],
        outcome: StoreOutcome, *, expires_at: float,
    ) -> None:
        index = await self._index_for(guild_id)
        added = [
            (entry_id, vectors[position], IndexedEntry(namespace, entries[position].query_text, expires_at))
            for position, entry_id in enumerate(outcome.entry_ids)
            if position in vectors
        ]
        await self._gate.run(index.apply, added=added, removed=outcome.removed_ids)
        if outcome.evicted or outcome.expired:
            _log.debug("guild %s: %d evicted, %d expired", guild_id, outcome.evicted, outcome.expired)
        if time.monotonic() - self._last_flush.get(guild_id, 0.0) >= self._flush_interval:
            self._last_flush[guild_id] = time.monotonic()
            await self._flush(index)

    async def mark_wrong(self, guild_id: int, namespace: str, query_text: str, entry_id: int, *, user_id: int) -> bool:
        """A member says entry ``entry_id`` was the wrong answer to ``query_text``: remember the pair as
        a guild-local negative (it never matches again, even if the same request is stored anew) and
        forget the entry.  ``False`` when the guild has no such live entry."""
        self._ensure_open()
        scoped = self._scoped(namespace)
        row = await self._metadata.get_entry(guild_id, scoped, entry_id, now=self._clock())
        if row is None:
            return False
        await self._feedback.add_negative(guild_id, scoped, query_text, row.query_text, entry_id=entry_id,
                                          user_id=user_id, now=self._clock())
        if self._metrics is not None:
            self._metrics.cache_wrong_answers.inc()
        return await self.forget(guild_id, entry_id)

    async def forget(self, guild_id: int, entry_id: int) -> bool:
        """Delete one entry of this guild; ``False`` if the guild has no such entry."""
        self._ensure_open()
        async with self._write_lock(guild_id):
            removed = await self._metadata.delete(guild_id, entry_id)
            if removed:
                await self._drop_from_index(guild_id, [entry_id])
        return removed

    async def clear(self, guild_id: int) -> int:
        """Delete every entry of this guild and its index file; returns how many entries went."""
        self._ensure_open()
        async with self._write_lock(guild_id):
            removed = await self._metadata.clear(guild_id)
            self._loaded.pop(guild_id, None)
            await self._gate.run(self._index_path(guild_id).unlink, missing_ok=True)
        _log.info("guild %s cache cleared (%d entries)", guild_id, removed)
        return removed

    async def purge_expired(self, guild_id: int) -> int:
        """Delete this guild's expired entries now (stores do it too); returns how many."""
        self._ensure_open()
        async with self._write_lock(guild_id):
            expired = await self._metadata.purge_expired(guild_id, now=self._clock())
            await self._drop_from_index(guild_id, expired)
        return len(expired)

    async def _drop_from_index(self, guild_id: int, entry_ids: Sequence[int]) -> None:
        index = self._loaded.get(guild_id)
        if index is not None and entry_ids:
            await self._gate.run(index.apply, added=[], removed=list(entry_ids))

    def on_change(self, event: ChangeEvent) -> None:
        """Another process changed this guild's rows: drop what this one holds in memory for it.

        A dropped index is reloaded on next use and reconciled with the rows (docs/storage.md).
        """
        if event.kind == "all":
            self._loaded.clear()
            self._last_flush.clear()
            for guild_id in self._changes_seen:
                self._changes_seen[guild_id] += 1
        elif event.kind in ("cache_stored", "cache_forgotten", "cache_cleared"):
            self._changes_seen[event.guild_id] = self._changes_seen.get(event.guild_id, 0) + 1
            if self._loaded.pop(event.guild_id, None) is not None:
                self._last_flush.pop(event.guild_id, None)
                _log.debug("guild %s cache index dropped: %s by another process", event.guild_id, event.kind)

    # --- stats --------------------------------------------------------------------------------

    async def stats(self, guild_id: int) -> CacheStats:
        """Counters, sizes and hit windows for ``/cache stats``; purges expired entries first."""
        await self.purge_expired(guild_id)
        stats = await self._metadata.stats(guild_id, now=self._clock())
        path = self._index_path(guild_id)
        index_bytes = await self._gate.run(lambda: path.stat().st_size if path.exists() else 0)
        wrong_answers = await self._feedback.count(guild_id)
        return stats.model_copy(update={"index_bytes": index_bytes, "index_loaded": guild_id in self._loaded,
                                        "wrong_answers": wrong_answers})

    async def indexed_entry_ids(self, guild_id: int) -> set[int]:
        """The entry ids this guild's vector index holds (loading it if needed): for checks and tests."""
        self._ensure_open()
        index = await self._index_for(guild_id)
        return await self._gate.run(index.vectors.entry_ids)

    # --- loading and unloading guild indexes --------------------------------------------------

    async def _index_for(self, guild_id: int) -> GuildIndex:
        index = self._loaded.get(guild_id)
        if index is not None:
            self._loaded.move_to_end(guild_id)
            return index
        async with self._load_locks.setdefault(guild_id, asyncio.Lock()):
            index = self._loaded.get(guild_id)
            if index is None:
                changes_before = self._changes_seen.get(guild_id, 0)
                index = await self._load(guild_id)
                if self._changes_seen.get(guild_id, 0) != changes_before:
                    return index  # rows changed while loading: serve this once, reload next time
                if self._owns_guild is not None and not self._owns_guild(guild_id):
                    return index  # another shard's guild: its own process keeps it in memory
                self._loaded[guild_id] = index
                self._last_flush[guild_id] = time.monotonic()
        await self._unload_beyond_bound()
        return index

    async def _load(self, guild_id: int) -> GuildIndex:
        """Read the saved index and make it match the rows exactly (rows are the truth)."""
        rows = await self._metadata.index_rows(guild_id)
        vectors, present = await self._gate.run(self._open_vectors, guild_id)
        wanted = {row.entry_id for row in rows}
        missing = sorted(wanted - present)
        blobs = await self._metadata.embeddings(guild_id, missing) if missing else {}
        index = GuildIndex.from_rows(guild_id, vectors, rows)
        await self._gate.run(index.reconcile, missing=blobs, extra=sorted(present - wanted))
        return index

    def _open_vectors(self, guild_id: int) -> tuple[FaissVectorIndex, set[int]]:
        path = self._index_path(guild_id)
        vectors = FaissVectorIndex.load(path, dimension=self._dimension, approximate_from=self._approximate_from)
        if vectors is None:
            return FaissVectorIndex(path, dimension=self._dimension, approximate_from=self._approximate_from), set()
        return vectors, vectors.entry_ids()

    async def _unload_beyond_bound(self) -> None:
        while len(self._loaded) > self._max_loaded:
            guild_id, index = self._loaded.popitem(last=False)
            self._last_flush.pop(guild_id, None)
            await self._flush(index)

    async def _flush(self, index: GuildIndex) -> None:
        try:
            await self._gate.run(index.vectors.flush)
        except OSError:  # the rows are safe; the next load rebuilds what the file lacks
            _log.warning("could not save the cache index of guild %s", index.guild_id, exc_info=True)
