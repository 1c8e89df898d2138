"""The guild's report library: every report a guild produced, searchable, and answerable from.

The database holds the truth (through :class:`~core.storage.ReportRows`): one row a report (its
JSON), one row a chunk (text + embedding).  Each
guild's chunk vectors are held in an in-memory FAISS index built from those rows on first use
(LRU-bounded over guilds), so nothing here needs a separate index file: a few thousand chunks load
in milliseconds.  Every query is scoped to one guild's index; no call can see another guild's rows.

:class:`ReportLibrary` is the I/O side; :func:`extractive_answer` is the pure decision of what to
say from the retrieved chunks.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Literal

import faiss
import numpy as np
from pydantic import BaseModel, Field, ValidationError

from core.embedder import Embedder
from core.errors import InputError
from core.gate import WorkerGate
from core.models import IntelReport
from core.storage import ChangeEvent, ReportRows
from core.storage.models import NewChunk, NewReport, ReportSummary
from core.tenants import require_tenant

__all__ = [
    "Answer",
    "ChunkHit",
    "Citation",
    "ReportLibrary",
    "ReportMatch",
    "ReportNotFoundError",
    "ReportSummary",
    "extractive_answer",
    "group_by_report",
    "report_fingerprint",
]

_log = logging.getLogger(__name__)

ChunkKind = Literal["summary", "insight", "claim", "theme", "synthesis"]


# Cosine between a question and a statement that answers it is lower than between two
# paraphrases.  Measured with MiniLM on 32 questions (benchmarks/ask_threshold.py, docs/ask.md):
# 0.40 answered all 20 answerable ones from the right report and no off-topic one; 0.45 missed
# one more and refused no more of the unanswerable ones.
DEFAULT_ANSWER_THRESHOLD = 0.40
# /intel search lists candidates for a person to judge, so it shows weaker matches than /ask
# answers from; below this a passage is noise (see docs/ask.md).
DEFAULT_SEARCH_FLOOR = 0.30


class ReportNotFoundError(InputError):
    """No report with that id in this guild.  Inherits from :class:`InputError`."""

    def __init__(self, report_id: int) -> None:
        self.report_id = report_id
        super().__init__(f"There is no report #{report_id} in this server.")



class ChunkHit(BaseModel):
    report_id: int
    title: str
    kind: ChunkKind
    text: str
    similarity: float


class Citation(BaseModel):
    report_id: int
    title: str
    source_urls: list[str] = Field(default_factory=list)


class Answer(BaseModel):
    """What ``/ask`` says: the answer text (``[n]`` marks cite ``citations[n-1]``), or that there is none."""

    schema_version: int = 1
    question: str
    found: bool
    text: str
    citations: list[Citation] = Field(default_factory=list)
    passages: list[ChunkHit] = Field(default_factory=list)
    engine: str = "extractive"


class ReportMatch(BaseModel):
    """One report found by a search, with its passages that matched, best first."""

    report_id: int
    title: str
    best_similarity: float
    passages: list[ChunkHit]


def report_fingerprint(report: IntelReport) -> str:
    """What identifies one produced report across the cache and the library.

    The creation time, depth, engine and source hashes: a cached copy (even with this request's
    failed sources added) has the same fingerprint as the row it was saved as.
    """
    parts = [report.created_at.isoformat(), report.depth, report.engine.name, report.engine.model]
    parts += [source.sha256 for source in report.sources]
    return hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()


def group_by_report(hits: Sequence[ChunkHit], *, per_report: int = 3) -> list[ReportMatch]:
    """Passages grouped by the report they come from; reports ordered by their best passage."""
    groups: dict[int, list[ChunkHit]] = {}
    for hit in sorted(hits, key=lambda item: -item.similarity):
        groups.setdefault(hit.report_id, []).append(hit)
    return [
        ReportMatch(report_id=report_id, title=passages[0].title, best_similarity=passages[0].similarity,
                    passages=passages[:per_report])
        for report_id, passages in groups.items()
    ]


def report_chunks(report: IntelReport) -> list[tuple[ChunkKind, str]]:
    """The passages of a report worth retrieving, each a short self-contained text."""
    chunks: list[tuple[ChunkKind, str]] = []
    for sentence in re.split(r"(?<=[.!?])\s+", report.summary):
        if len(sentence.split()) >= 4:
            chunks.append(("summary", sentence.strip()))
    for insight in report.key_insights:
        text = insight.evidence if insight.evidence else insight.insight
        chunks.append(("insight", text.strip()))
    chunks.extend(("claim", claim.text.strip()) for claim in report.claims)
    chunks.extend(("theme", f"{theme.label}: {', '.join(theme.keywords)}") for theme in report.themes)
    if report.synthesis and report.synthesis.summary:
        chunks.append(("synthesis", report.synthesis.summary))
    seen: set[str] = set()
    unique = []
    for kind, text in chunks:
        if text and text.casefold() not in seen:
            seen.add(text.casefold())
            unique.append((kind, text))
    return unique


def extractive_answer(question: str, hits: Sequence[ChunkHit], summaries: dict[int, ReportSummary], *,
                      threshold: float = DEFAULT_ANSWER_THRESHOLD, max_passages: int = 3) -> Answer:
    """Answer from the best passages above ``threshold``, citing their reports; or say there is none."""
    relevant = [hit for hit in hits if hit.similarity >= threshold][:max_passages]
    if not relevant:
        return Answer(
            question=question,
            found=False,
            text="The reports in this server do not contain an answer to that question.",
        )
    citations: dict[int, Citation] = {}
    for hit in relevant:
        summary = summaries.get(hit.report_id)
        citations.setdefault(
            hit.report_id,
            Citation(report_id=hit.report_id, title=hit.title,
                     source_urls=summary.source_urls if summary else []),
        )
    order = {report_id: number for number, report_id in enumerate(citations, start=1)}
    lines = [f"{hit.text} [{order[hit.report_id]}]" for hit in relevant]
    return Answer(question=question, found=True, text="\n".join(lines),
                  citations=list(citations.values()), passages=list(relevant))


class _GuildIndex:
    """One guild's chunk vectors: FAISS ids are chunk row ids."""

    def __init__(self, dimension: int) -> None:
        self.index = faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids):
            self.index.add_with_ids(vectors, ids)

    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        if self.index.ntotal == 0:
            return []
        scores, ids = self.index.search(vector.reshape(1, -1), min(k, self.index.ntotal))
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]


class ReportLibrary:
    """Stores reports per guild and answers retrieval queries over them."""

    def __init__(self, rows: ReportRows, *, embedder: Embedder, gate: WorkerGate,
                 max_loaded_guilds: int = 64, clock: Callable[[], float] = time.time,
                 owns_guild: Callable[[int], bool] | None = None) -> None:
        """``owns_guild``: which guilds' passages stay loaded (this process's shards); ``None``: all."""
        self._rows = rows
        self._owns_guild = owns_guild
        self._embedder = embedder
        self._gate = gate
        self._max_loaded = max_loaded_guilds
        self._indexes: OrderedDict[int, _GuildIndex] = OrderedDict()
        self._locks: dict[int, asyncio.Lock] = {}
        self._changes_seen: dict[int, int] = {}  # per guild: reports other processes added
        self._clock = clock

    def _lock(self, guild_id: int) -> asyncio.Lock:
        return self._locks.setdefault(guild_id, asyncio.Lock())

    async def add(self, *, guild_id: int, user_id: int, report: IntelReport) -> int:
        """Save a report and its passages in one transaction, and index them; returns the report id."""
        require_tenant(guild_id)
        chunks = report_chunks(report)
        vectors = await self._gate.run(self._embedder.embed, [text for _, text in chunks])
        row = NewReport(
            guild_id=guild_id, user_id=user_id, title=report.title[:300],
            source_urls=[source.url for source in report.sources if source.url], depth=report.depth,
            engine=report.engine.label, payload=report.model_dump_json(), fingerprint=report_fingerprint(report),
            created_at=self._clock(),
            chunks=[NewChunk(kind=kind, text=text, embedding=vector.astype(np.float32).tobytes())
                    for (kind, text), vector in zip(chunks, vectors, strict=True)],
        )
        async with self._lock(guild_id):
            report_id, chunk_ids = await self._rows.add(row)
            loaded = self._indexes.get(guild_id)
            if loaded is not None and chunk_ids:
                await self._gate.run(loaded.add, np.asarray(chunk_ids, dtype=np.int64), vectors)
        return report_id

    def on_change(self, event: ChangeEvent) -> None:
        """Another process added a report: drop this guild's loaded passages (reloaded on next use)."""
        if event.kind == "all":
            self._indexes.clear()
            for guild_id in self._changes_seen:
                self._changes_seen[guild_id] += 1
        elif event.kind == "report_added":
            self._changes_seen[event.guild_id] = self._changes_seen.get(event.guild_id, 0) + 1
            self._indexes.pop(event.guild_id, None)

    async def _index(self, guild_id: int) -> _GuildIndex:
        loaded = self._indexes.get(guild_id)
        if loaded is not None:
            self._indexes.move_to_end(guild_id)
            return loaded
        changes_before = self._changes_seen.get(guild_id, 0)
        rows = await self._rows.chunk_vectors(guild_id)
        dimension = await self._gate.run(lambda: self._embedder.dimension)
        index = _GuildIndex(dimension)
        if rows:
            ids = np.asarray([row.chunk_id for row in rows], dtype=np.int64)
            vectors = np.frombuffer(b"".join(row.embedding for row in rows), dtype=np.float32)
            await self._gate.run(index.add, ids, vectors.reshape(len(rows), dimension))
        if self._changes_seen.get(guild_id, 0) != changes_before:
            return index  # a report arrived while loading: serve this once, reload next time
        if self._owns_guild is not None and not self._owns_guild(guild_id):
            return index  # another shard's guild: its own process keeps it in memory
        self._indexes[guild_id] = index
        while len(self._indexes) > self._max_loaded:
            self._indexes.popitem(last=False)
        return index

    async def search(self, *, guild_id: int, query: str, k: int = 8) -> list[ChunkHit]:
        """The guild's passages nearest to ``query``, best first."""
        require_tenant(guild_id)
        query = query.strip()
        if not query:
            raise InputError("Give a question or search terms.")
        index = await self._index(guild_id)
        vector = (await self._gate.run(self._embedder.embed, [query]))[0]
        found = await self._gate.run(index.search, vector, k)
        if not found:
            return []
        similarity = dict(found)
        rows = await self._rows.chunk_hits(guild_id, list(similarity))
        hits = [ChunkHit(report_id=row.report_id, title=row.title, kind=row.kind, text=row.text,  # type: ignore[arg-type]
                         similarity=similarity[row.chunk_id]) for row in rows]
        return sorted(hits, key=lambda hit: -hit.similarity)

    async def ask(self, *, guild_id: int, question: str, threshold: float = DEFAULT_ANSWER_THRESHOLD) -> Answer:
        hits = await self.search(guild_id=guild_id, query=question, k=12)
        summaries = {s.report_id: s for s in await self.summaries(guild_id, {h.report_id for h in hits})}
        return extractive_answer(question, hits, summaries, threshold=threshold)

    async def summaries(self, guild_id: int, report_ids: set[int]) -> list[ReportSummary]:
        require_tenant(guild_id)
        return await self._rows.summaries(guild_id, sorted(report_ids))

    async def history(self, guild_id: int, *, limit: int = 10, offset: int = 0) -> list[ReportSummary]:
        require_tenant(guild_id)
        return await self._rows.history(guild_id, limit=limit, offset=offset)

    async def search_reports(self, *, guild_id: int, query: str, k: int = 24,
                             min_similarity: float = DEFAULT_SEARCH_FLOOR) -> list[ReportMatch]:
        """The guild's reports with passages near ``query`` (at least ``min_similarity``), best first."""
        hits = await self.search(guild_id=guild_id, query=query, k=k)
        return group_by_report([hit for hit in hits if hit.similarity >= min_similarity])

    async def find_id(self, guild_id: int, report: IntelReport) -> int | None:
        """The id this guild saved ``report`` under (by :func:`report_fingerprint`), or ``None``."""
        require_tenant(guild_id)
        return await self._rows.find_by_fingerprint(guild_id, report_fingerprint(report))

    async def latest_id(self, guild_id: int) -> int:
        """The newest report id of this guild, 0 when it has none."""
        require_tenant(guild_id)
        return await self._rows.latest_id(guild_id)

    async def count(self, guild_id: int) -> int:
        require_tenant(guild_id)
        return await self._rows.count(guild_id)

    async def get(self, guild_id: int, report_id: int) -> IntelReport:
        """A stored report of this guild; another guild's id is simply not found."""
        require_tenant(guild_id)
        payload = await self._rows.payload(guild_id, report_id)
        if payload is None:
            raise ReportNotFoundError(report_id)
        try:
            return IntelReport.model_validate_json(payload)
        except ValidationError as exc:
            _log.warning("report %s of guild %s no longer validates", report_id, guild_id)
            raise ReportNotFoundError(report_id) from exc
