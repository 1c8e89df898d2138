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
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from pydantic import ConfigDict, Field

from core.inference.onnx import ModelManifest, OnnxModel

__all__ = ["DEFAULT_EMBEDDER_DIR", "EmbedderManifest", "OnnxEmbedder"]

_log = logging.getLogger(__name__)

DEFAULT_EMBEDDER_DIR = Path(__file__).resolve().parents[2] / "models" / "minilm-l6-int8"


class EmbedderManifest(ModelManifest):
    model_config = ConfigDict(frozen=True, extra="ignore")

    max_length: int = Field(default=256, ge=16, le=512)
    dimension: int = Field(gt=0)


class OnnxEmbedder:
    """Implements :class:`core.embedder.Embedder` on an exported encoder folder."""

    def __init__(self, model_dir: Path, *, batch_size: int = 16, threads: int = 1) -> None:
        self.model_dir = model_dir
        self.batch_size = batch_size
        self._model = OnnxModel(model_dir, manifest_name="embedder.json", manifest_type=EmbedderManifest,
                                setting="EMBEDDING_MODEL", threads=threads)

    @property
    def manifest(self) -> EmbedderManifest:
        return self._model.load()[0]

    @property
    def name(self) -> str:
        return self.manifest.model_id

    @property
    def dimension(self) -> int:
        return self.manifest.dimension

    @property
    def loaded(self) -> bool:
        return self._model.loaded

    @property
    def load_seconds(self) -> float | None:
        return self._model.load_seconds

    def load(self) -> None:
        """Check and open the model (blocking, idempotent); a bad folder is a ConfigError."""
        self._model.load()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors for ``texts``, in their order.

        The texts are tokenised once, then run in batches of similar token counts, each batch cut to
        its own longest text: the model's work is the padded token count, and batching by characters
        padded the 5,000-word benchmark article's 6,701 tokens to 8,356 (by tokens, in batches of 16:
        6,886).  A vector does not depend on its batch: padding is masked out of attention and
        pooling, and the weights' activations are quantised per token.
        """
        result = np.zeros((len(texts), self.manifest.dimension), dtype=np.float32)
        if not texts:
            return result
        _, tokenizer, _ = self._model.load()
        encodings = tokenizer.encode_batch(list(texts))  # padded to the longest text
        ids = np.array([encoding.ids for encoding in encodings], dtype=np.int64)
        mask = np.array([encoding.attention_mask for encoding in encodings], dtype=np.int64)
        types = np.array([encoding.type_ids for encoding in encodings], dtype=np.int64)
        lengths = mask.sum(axis=1)
        order = np.argsort(lengths, kind="stable")
        for start in range(0, len(order), self.batch_size):
            chunk = order[start : start + self.batch_size]
            width = int(lengths[chunk].max())
            result[chunk] = self._embed_batch(ids[chunk, :width], mask[chunk, :width], types[chunk, :width])
        return result

    def _embed_batch(self, ids: np.ndarray, mask: np.ndarray, types: np.ndarray) -> np.ndarray:
        _, _, session = self._model.load()
        (hidden,) = session.run(["last_hidden_state"], {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
