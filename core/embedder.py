"""Sentence embeddings behind a small, injectable seam.

:class:`Embedder` is the protocol the engine and the cache depend on.  Its methods are *blocking*
and must be called through the :class:`~core.gate.WorkerGate`.  The default implementation loads
a sentence-transformers model from a local path (the packaged all-MiniLM-L6-v2 unless
``EMBEDDING_MODEL`` says otherwise); nothing is downloaded at run time.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from core.errors import ConfigError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from core.settings import Settings

__all__ = ["Embedder", "SentenceTransformerEmbedder", "build_embedder"]

_log = logging.getLogger(__name__)


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors.  Blocking: call through the gate."""

    @property
    def name(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Return an array of shape ``(len(texts), dimension)``, rows of unit length."""
        ...


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded once, lazily, from a local directory.

    Thread-safe: the first :meth:`embed` (or :meth:`load`) loads the model under a lock;
    inference itself is safe to call from several worker threads.
    """

    def __init__(self, model_path: str, *, batch_size: int = 64, torch_threads: int | None = None) -> None:
        self.model_path = model_path
        self.batch_size = batch_size
        self.torch_threads = torch_threads
        self._model: SentenceTransformer | None = None
        self._dimension: int | None = None
        self._lock = threading.Lock()
        self.load_seconds: float | None = None

    @property
    def name(self) -> str:
        return os.path.basename(self.model_path.rstrip("/")) or self.model_path

    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def dimension(self) -> int:
        if self._dimension is None:
            self.load()
        assert self._dimension is not None
        return self._dimension

    def load(self) -> None:
        """Load the model (blocking, idempotent).  Raises :class:`ConfigError` if it cannot."""
        if self._model is not None:
            return
        with self._lock:
            if self._model is not None:
                return
            self._model = self._load_model()

    def _load_model(self) -> SentenceTransformer:
        if not os.path.isdir(self.model_path):
            raise ConfigError(
                "EMBEDDING_MODEL",
                f"no model directory at {self.model_path!r}; point it at a local "
                "sentence-transformers model or leave it empty for the packaged all-MiniLM-L6-v2",
            )
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        if self.torch_threads:
            torch.set_num_threads(self.torch_threads)
        started = time.perf_counter()
        try:
            model = SentenceTransformer(self.model_path, device="cpu", local_files_only=True)
        except Exception as exc:  # a broken model directory: say which setting to fix
            raise ConfigError("EMBEDDING_MODEL", f"could not load {self.model_path!r}: {exc}") from exc
        model.eval()
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        dimension = getter()
        if not dimension:
            raise ConfigError("EMBEDDING_MODEL", f"{self.model_path!r} does not report a dimension")
        self._dimension = int(dimension)
        self.load_seconds = time.perf_counter() - started
        _log.info("loaded embedding model %s (dim %d) in %.1fs", self.name, dimension, self.load_seconds)
        return model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.load()
        assert self._model is not None and self._dimension is not None
        if not texts:
            return np.zeros((0, self._dimension), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def build_embedder(settings: Settings) -> Embedder:
    """The embedder ``EMBEDDING_MODEL`` asks for (no I/O here: models load on first use).

    Empty: the packaged all-MiniLM-L6-v2 in int8 ONNX (``models/minilm-l6-int8``), the default.
    A folder with an ``embedder.json``: that exported ONNX model.  Any other folder: a
    sentence-transformers model run by PyTorch (kept for custom models and for the side-by-side
    benchmark of the two backends).
    """
    from core.inference.embedder import DEFAULT_EMBEDDER_DIR, OnnxEmbedder

    if not settings.embedding_model:
        return OnnxEmbedder(DEFAULT_EMBEDDER_DIR, batch_size=settings.embedding_batch_size,
                            threads=settings.torch_threads)
    if os.path.isfile(os.path.join(settings.embedding_model, "embedder.json")):
        from pathlib import Path

        return OnnxEmbedder(Path(settings.embedding_model), batch_size=settings.embedding_batch_size,
                            threads=settings.torch_threads)
    return SentenceTransformerEmbedder(settings.embedding_model, batch_size=settings.embedding_batch_size,
                                       torch_threads=settings.torch_threads)
