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


# --- large guilds: the IVF layout ---------------------------------------------------------------

SWITCH_AT = 400


def large_index(tmp_path: Path, count: int, *, seed: int = 1) -> tuple[FaissVectorIndex, np.ndarray]:
    index = FaissVectorIndex(tmp_path / "9.faiss", dimension=DIMENSION, approximate_from=SWITCH_AT)
    vectors = unit_vectors(count, seed=seed)
    index.add(list(range(1000, 1000 + count)), vectors)
    return index, vectors


def test_small_index_stays_exact_and_large_one_becomes_approximate(tmp_path: Path) -> None:
    small, _ = large_index(tmp_path, SWITCH_AT - 1)
    large, _ = large_index(tmp_path, SWITCH_AT)

    assert not small.approximate
    assert large.approximate
    assert len(large) == SWITCH_AT and large.entry_ids() == set(range(1000, 1000 + SWITCH_AT))


def test_approximate_index_finds_each_stored_vector_with_its_exact_similarity(tmp_path: Path) -> None:
    index, vectors = large_index(tmp_path, 1200)

    for position in range(0, 1200, 37):
        best = index.search(vectors[position], limit=5)[0]
        assert best.entry_id == 1000 + position
        assert abs(best.similarity - 1.0) < 1e-5
    query = unit_vectors(1, seed=99)[0]
    for match in index.search(query, limit=5):  # similarities are true inner products, never estimates
        assert abs(match.similarity - float(vectors[match.entry_id - 1000] @ query)) < 1e-5


def test_approximate_index_never_returns_deleted_ids(tmp_path: Path) -> None:
    index, vectors = large_index(tmp_path, 1000)

    assert index.delete([1003, 1500, 5]) == 2

    found = {match.entry_id for position in (3, 500) for match in index.search(vectors[position], limit=20)}
    assert not found & {1003, 1500}
    assert index.entry_ids() == set(range(1000, 2000)) - {1003, 1500}
    assert index.approximate


def test_approximate_index_survives_flush_and_load(tmp_path: Path) -> None:
    index, vectors = large_index(tmp_path, 900)
    index.delete([1010])
    index.flush()

    loaded = FaissVectorIndex.load(index.path, dimension=DIMENSION, approximate_from=SWITCH_AT)

    assert loaded is not None and loaded.approximate
    assert loaded.entry_ids() == set(range(1000, 1900)) - {1010}
    assert loaded.search(vectors[42], limit=1)[0].entry_id == 1042


def test_shrinking_index_turns_exact_again_and_keeps_every_entry(tmp_path: Path) -> None:
    index, vectors = large_index(tmp_path, 500)

    index.delete(list(range(1000, 1310)))  # 190 left, below half the switch size

    assert not index.approximate
    assert index.entry_ids() == set(range(1310, 1500))
    assert index.search(vectors[400], limit=1)[0].entry_id == 1400


def test_growing_index_gets_more_lists(tmp_path: Path) -> None:
    index, _ = large_index(tmp_path, SWITCH_AT)
    lists_at_switch = index.list_count

    index.add(list(range(5000, 5000 + 5 * SWITCH_AT)), unit_vectors(5 * SWITCH_AT, seed=3))

    assert index.list_count >= 2 * lists_at_switch
    assert len(index) == 6 * SWITCH_AT
    assert index.entry_ids() == set(range(1000, 1000 + SWITCH_AT)) | set(range(5000, 5000 + 5 * SWITCH_AT))


def test_file_loaded_below_the_switch_size_is_made_exact(tmp_path: Path) -> None:
    index, vectors = large_index(tmp_path, 500)
    index.flush()

    loaded = FaissVectorIndex.load(index.path, dimension=DIMENSION, approximate_from=2_000)

    assert loaded is not None and not loaded.approximate
    assert loaded.entry_ids() == set(range(1000, 1500))
    assert loaded.search(vectors[7], limit=1)[0].entry_id == 1007
