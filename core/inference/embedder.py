"""The sentence embedder on ONNX Runtime: all-MiniLM-L6-v2 exported to int8, mean-pooled, normalised.

The shipped folder ``models/minilm-l6-int8/`` (``training/export_embedder.py``) holds the encoder,
its tokenizer and ``embedder.json`` (model id, sha256, maximum length).  Its embeddings agree with
the fp32 sentence-transformers model to a cosine of at least 0.99 (measured by the export script
and by ``tests/core/inference/test_embedder.py``).  Its :attr:`OnnxEmbedder.name` differs from the
fp32 model's, and the cache keys vectors by that name, so vectors of two backends are never compared.

Thread-safe and blocking: call :meth:`embed` through the worker gate.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from core.inference.onnx import open_session, read_manifest, read_tokenizer

if TYPE_CHECKING:
    import onnxruntime
    from tokenizers import Tokenizer

__all__ = ["DEFAULT_EMBEDDER_DIR", "EmbedderManifest", "OnnxEmbedder"]

_log = logging.getLogger(__name__)

DEFAULT_EMBEDDER_DIR = Path(__file__).resolve().parents[2] / "models" / "minilm-l6-int8"
_SETTING = "EMBEDDING_MODEL"


class EmbedderManifest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    model_id: str
    file: str = "model.onnx.gz"
    sha256: str = Field(min_length=64, max_length=64)
    max_length: int = Field(default=256, ge=16, le=512)
    dimension: int = Field(gt=0)


class OnnxEmbedder:
    """Implements :class:`core.embedder.Embedder` on an exported encoder folder."""

    def __init__(self, model_dir: Path, *, batch_size: int = 64, threads: int = 1) -> None:
        self.model_dir = model_dir
        self.batch_size = batch_size
        self.threads = threads
        self._manifest: EmbedderManifest | None = None
        self._session: onnxruntime.InferenceSession | None = None
        self._tokenizer: Tokenizer | None = None
        self._lock = threading.Lock()
        self.load_seconds: float | None = None

    @property
    def manifest(self) -> EmbedderManifest:
        self.load()
        assert self._manifest is not None
        return self._manifest

    @property
    def name(self) -> str:
        return self.manifest.model_id

    @property
    def dimension(self) -> int:
        return self.manifest.dimension

    @property
    def loaded(self) -> bool:
        return self._session is not None

    def load(self) -> None:
        """Check and open the model (blocking, idempotent); a bad folder is a ConfigError."""
        if self._session is not None:
            return
        with self._lock:
            if self._session is not None:
                return
            started = time.perf_counter()
            manifest = read_manifest(self.model_dir, "embedder.json", EmbedderManifest, setting=_SETTING)
            self._tokenizer = read_tokenizer(self.model_dir, max_length=manifest.max_length, setting=_SETTING)
            self._manifest = manifest
            self._session = open_session(
                self.model_dir, manifest.file, sha256=manifest.sha256, threads=self.threads, setting=_SETTING
            )
            self.load_seconds = time.perf_counter() - started
            _log.info("loaded embedding model %s in %.1fs", manifest.model_id, self.load_seconds)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.load()
        assert self._manifest is not None
        result = np.zeros((len(texts), self._manifest.dimension), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda index: len(texts[index]))  # little padding per batch
        for start in range(0, len(order), self.batch_size):
            chunk = order[start : start + self.batch_size]
            result[chunk] = self._embed_batch([texts[index] for index in chunk])
        return result

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        assert self._session is not None and self._tokenizer is not None
        encodings = self._tokenizer.encode_batch(texts)
        mask = np.array([encoding.attention_mask for encoding in encodings], dtype=np.int64)
        feeds = {
            "input_ids": np.array([encoding.ids for encoding in encodings], dtype=np.int64),
            "attention_mask": mask,
            "token_type_ids": np.array([encoding.type_ids for encoding in encodings], dtype=np.int64),
        }
        (hidden,) = self._session.run(["last_hidden_state"], feeds)
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
