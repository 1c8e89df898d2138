"""The FAISS vector index: search, delete, atomic save and load, corrupt files."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.cache.vector_index import FaissVectorIndex

DIMENSION = 16


def unit_vectors(count: int, *, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((count, DIMENSION)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_search_returns_nearest_ids_best_first(tmp_path: Path) -> None:
    index = FaissVectorIndex(tmp_path / "1.faiss", dimension=DIMENSION)
    vectors = unit_vectors(10)
    index.add(list(range(100, 110)), vectors)

    matches = index.search(vectors[3], limit=3)

    assert matches[0].entry_id == 103
    assert abs(matches[0].similarity - 1.0) < 1e-5
    assert [match.similarity for match in matches] == sorted((match.similarity for match in matches), reverse=True)


def test_deleted_ids_are_never_returned(tmp_path: Path) -> None:
    index = FaissVectorIndex(tmp_path / "1.faiss", dimension=DIMENSION)
    vectors = unit_vectors(5)
    index.add([1, 2, 3, 4, 5], vectors)

    assert index.delete([3, 99]) == 1

    assert 3 not in {match.entry_id for match in index.search(vectors[2], limit=5)}
    assert index.entry_ids() == {1, 2, 4, 5}


def test_flush_then_load_gives_the_same_index(tmp_path: Path) -> None:
    path = tmp_path / "7.faiss"
    index = FaissVectorIndex(path, dimension=DIMENSION)
    vectors = unit_vectors(4)
    index.add([10, 20, 30, 40], vectors)
    index.flush()

    loaded = FaissVectorIndex.load(path, dimension=DIMENSION)

    assert loaded is not None and loaded.entry_ids() == {10, 20, 30, 40}
    assert loaded.search(vectors[1], limit=1)[0].entry_id == 20
    assert [item.name for item in tmp_path.iterdir()] == ["7.faiss"]  # no temp file left behind


def test_corrupt_or_mismatched_file_loads_as_none(tmp_path: Path) -> None:
    corrupt = tmp_path / "1.faiss"
    corrupt.write_bytes(b"\x00garbage" * 10)
    other_dimension = FaissVectorIndex(tmp_path / "2.faiss", dimension=DIMENSION * 2)
    other_dimension.add([1], np.ones((1, DIMENSION * 2), dtype=np.float32) / np.sqrt(DIMENSION * 2))
    other_dimension.flush()

    assert FaissVectorIndex.load(corrupt, dimension=DIMENSION) is None
    assert FaissVectorIndex.load(tmp_path / "2.faiss", dimension=DIMENSION) is None
    assert FaissVectorIndex.load(tmp_path / "missing.faiss", dimension=DIMENSION) is None


def test_empty_index_searches_to_nothing(tmp_path: Path) -> None:
    index = FaissVectorIndex(tmp_path / "1.faiss", dimension=DIMENSION)

    assert index.search(unit_vectors(1)[0], limit=5) == []
