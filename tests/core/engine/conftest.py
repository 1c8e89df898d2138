"""Fixtures for the local engine tests: the engine on the real model and gate, and sample texts."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.embedder import Embedder
from core.engine.local import LocalEngine
from core.gate import WorkerGate

TEXTS_DIR = Path(__file__).parent / "texts"


def sample_text(name: str) -> str:
    """One of the articles written for these tests (tests/core/engine/texts/<name>.md)."""
    return (TEXTS_DIR / f"{name}.md").read_text(encoding="utf-8")


@pytest.fixture
def engine(embedder: Embedder, gate: WorkerGate) -> LocalEngine:
    return LocalEngine(embedder=embedder, gate=gate)
