"""One guild's vectors: a small protocol and its FAISS implementation.

:class:`FaissVectorIndex` is an ``IndexIDMap2`` over ``IndexFlatIP`` whose ids are SQLite row ids,
so any index can be rebuilt from the rows.  It is saved atomically (temp file in the same
directory, ``fsync``, ``os.replace``): a reader sees the old file or the new one, never half.
Every method is blocking and runs on a gate worker; a readers-writer lock lets searches run
together while an add or delete has the index to itself.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

import faiss
import numpy as np

from core.cache.models import VectorMatch

__all__ = ["FaissVectorIndex", "VectorIndex"]

_log = logging.getLogger(__name__)


class VectorIndex(Protocol):
    """Vectors keyed by entry id.  Blocking; call through the gate."""

    def add(self, entry_ids: Sequence[int], vectors: np.ndarray) -> None: ...

    def search(self, vector: np.ndarray, *, limit: int) -> list[VectorMatch]: ...

    def delete(self, entry_ids: Sequence[int]) -> int: ...

    def flush(self) -> None: ...

    def close(self) -> None: ...

    def entry_ids(self) -> set[int]: ...

    def __len__(self) -> int: ...


class _ReadWriteLock:
    """Many readers or one writer.  Writers wait for readers to leave; enough for short critical sections."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._readers = 0
        self._writing = False

    @contextmanager
    def reading(self) -> Iterator[None]:
        with self._condition:
            self._condition.wait_for(lambda: not self._writing)
            self._readers += 1
        try:
            yield
        finally:
            with self._condition:
                self._readers -= 1
                self._condition.notify_all()

    @contextmanager
    def writing(self) -> Iterator[None]:
        with self._condition:
            self._condition.wait_for(lambda: not self._writing and self._readers == 0)
            self._writing = True
        try:
            yield
        finally:
            with self._condition:
                self._writing = False
                self._condition.notify_all()


class FaissVectorIndex:
    """Inner-product search over unit vectors, ids = row ids, saved to ``path`` on :meth:`flush`."""

    def __init__(self, path: Path, *, dimension: int, index: faiss.IndexIDMap2 | None = None) -> None:
        self.path = path
        self.dimension = dimension
        self._index = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
        self._lock = _ReadWriteLock()
        self._dirty = False

    @classmethod
    def load(cls, path: Path, *, dimension: int) -> FaissVectorIndex | None:
        """Read a saved index; ``None`` (and a log line) if it is missing, unreadable or the wrong shape."""
        if not path.exists():
            return None
        try:
            index = faiss.read_index(str(path))
        except Exception:  # faiss raises RuntimeError for truncated/corrupt files, others are possible
            _log.warning("cache index %s is unreadable; rebuilding it from the database", path, exc_info=True)
            return None
        if not isinstance(index, faiss.IndexIDMap2) or index.d != dimension:
            _log.warning("cache index %s has the wrong type or dimension; rebuilding it", path)
            return None
        return cls(path, dimension=dimension, index=index)

    @property
    def dirty(self) -> bool:
        return self._dirty

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def entry_ids(self) -> set[int]:
        with self._lock.reading():
            return set(faiss.vector_to_array(self._index.id_map).tolist())

    def add(self, entry_ids: Sequence[int], vectors: np.ndarray) -> None:
        if not entry_ids:
            return
        ids = np.asarray(entry_ids, dtype=np.int64)
        with self._lock.writing():
            self._index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids)
            self._dirty = True

    def delete(self, entry_ids: Sequence[int]) -> int:
        if not entry_ids:
            return 0
        selector = faiss.IDSelectorBatch(np.asarray(entry_ids, dtype=np.int64))
        with self._lock.writing():
            removed = int(self._index.remove_ids(selector))
            self._dirty = self._dirty or removed > 0
        return removed

    def search(self, vector: np.ndarray, *, limit: int) -> list[VectorMatch]:
        query = np.ascontiguousarray(vector, dtype=np.float32).reshape(1, self.dimension)
        with self._lock.reading():
            if self._index.ntotal == 0:
                return []
            similarities, ids = self._index.search(query, min(limit, int(self._index.ntotal)))
        return [
            VectorMatch(entry_id=int(entry_id), similarity=float(similarity))
            for similarity, entry_id in zip(similarities[0], ids[0], strict=True)
            if entry_id >= 0
        ]

    def flush(self) -> None:
        """Write the index atomically if it changed since the last flush."""
        if not self._dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock.reading():
            self._dirty = False
            descriptor, temp_name = tempfile.mkstemp(prefix=self.path.name, suffix=".tmp", dir=self.path.parent)
            try:
                with os.fdopen(descriptor, "wb") as handle:
                    handle.write(faiss.serialize_index(self._index).tobytes())
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(temp_name, self.path)
            except BaseException:
                self._dirty = True
                Path(temp_name).unlink(missing_ok=True)
                raise

    def remove_file(self) -> None:
        """Forget the saved copy (after a clear)."""
        self.path.unlink(missing_ok=True)

    def close(self) -> None:
        self.flush()
