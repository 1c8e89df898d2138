"""The trained hit verifier's model: a cross-encoder scoring ``[CLS] query [SEP] stored [SEP]``.

The shipped model (``models/hit-verifier/``, see ``docs/verifier_model_card.md``) is a 4-layer
MiniLM cross-encoder fine-tuned here (``training/train_verifier.py``) and exported to int8 ONNX
(``training/export_verifier.py``).  Its ``verifier.json`` holds the model id, the sha256 of the
weights (checked at load), the maximum sequence length and the decision thresholds chosen on a
calibration split (``training/calibrate_verifier.py``).

Blocking: :meth:`CrossEncoder.probabilities` runs inside the cache's gate job, all candidates of one
lookup in one batched forward pass.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from core.inference.onnx import open_session, read_manifest, read_tokenizer

if TYPE_CHECKING:
    import onnxruntime
    from tokenizers import Tokenizer

__all__ = ["DEFAULT_VERIFIER_DIR", "CrossEncoder", "VerifierManifest"]

_log = logging.getLogger(__name__)

DEFAULT_VERIFIER_DIR = Path(__file__).resolve().parents[2] / "models" / "hit-verifier"
"""The model that ships in the repository; ``VERIFIER_MODEL`` may point elsewhere."""
_SETTING = "VERIFIER_MODEL"


class VerifierManifest(BaseModel):
    """``verifier.json``: what the folder holds and how its scores are turned into decisions."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    model_id: str
    file: str = "model.onnx.gz"
    sha256: str = Field(min_length=64, max_length=64)
    max_length: int = Field(default=128, ge=16, le=512)
    thresholds: Mapping[str, float] = Field(default_factory=dict)
    """Minimum probability to serve, per strictness level (chosen on the QQP calibration split)."""
    judge_floor: float = Field(default=0.5, ge=0.0, le=1.0)
    """A best candidate from here up to the level's threshold is borderline: a guild with LLM
    verification on asks the LLM about it."""


class CrossEncoder:
    """The verifier model, loaded once and lazily (thread-safe) from ``model_dir``."""

    def __init__(self, model_dir: Path, *, threads: int = 1) -> None:
        self.model_dir = model_dir
        self.threads = threads
        self._manifest: VerifierManifest | None = None
        self._session: onnxruntime.InferenceSession | None = None
        self._tokenizer: Tokenizer | None = None
        self._lock = threading.Lock()

    @property
    def manifest(self) -> VerifierManifest:
        self.load()
        assert self._manifest is not None
        return self._manifest

    def load(self) -> None:
        """Read the manifest, check the weights' sha256, open the session (blocking, idempotent)."""
        if self._session is not None:
            return
        with self._lock:
            if self._session is not None:
                return
            manifest = read_manifest(self.model_dir, "verifier.json", VerifierManifest, setting=_SETTING)
            self._tokenizer = read_tokenizer(self.model_dir, max_length=manifest.max_length, setting=_SETTING)
            self._manifest = manifest
            self._session = open_session(
                self.model_dir, manifest.file, sha256=manifest.sha256, threads=self.threads, setting=_SETTING
            )
            _log.info("hit verifier %s loaded from %s", manifest.model_id, self.model_dir)

    def probabilities(self, query: str, stored_texts: Sequence[str]) -> np.ndarray:
        """P(same meaning) of ``query`` against each stored text, in one forward pass."""
        if not stored_texts:
            return np.zeros(0, dtype=np.float32)
        self.load()
        assert self._session is not None and self._tokenizer is not None
        encodings = self._tokenizer.encode_batch([(query, text) for text in stored_texts])
        feeds = {
            "input_ids": np.array([encoding.ids for encoding in encodings], dtype=np.int64),
            "attention_mask": np.array([encoding.attention_mask for encoding in encodings], dtype=np.int64),
            "token_type_ids": np.array([encoding.type_ids for encoding in encodings], dtype=np.int64),
        }
        (logits,) = self._session.run(["logits"], feeds)
        return (1.0 / (1.0 + np.exp(-logits.reshape(-1)))).astype(np.float32)
