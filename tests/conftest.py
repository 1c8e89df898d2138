"""Fixtures shared by every test: the real embedding model (loaded once), settings in a temp dir."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from core.embedder import Embedder, build_embedder
from core.gate import WorkerGate
from core.settings import Settings


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The product's embedder (all-MiniLM-L6-v2, int8 ONNX), loaded once for the whole run."""
    model = build_embedder(Settings(_env_file=None))  # type: ignore[call-arg]
    model.embed(["load the model"])
    return model


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings isolated from the developer's environment and .env, with data in a temp dir."""
    return Settings(_env_file=None, data_dir=tmp_path / "data")  # type: ignore[call-arg]


@pytest.fixture
async def gate() -> AsyncIterator[WorkerGate]:
    async with WorkerGate(max_workers=2) as worker_gate:
        yield worker_gate
