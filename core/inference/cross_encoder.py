"""The trained hit verifier's model: a cross-encoder scoring ``[CLS] query [SEP] stored [SEP]``.

The shipped model (``models/hit-verifier/``, see ``docs/verifier_model_card.md``) is a 6-layer
MiniLM cross-encoder fine-tuned here (``training/train_verifier.py``) and exported to int8 ONNX
(``training/export_verifier.py``).  Its ``verifier.json`` holds the model id, the sha256 of the
weights (checked at load), the maximum sequence length and the decision thresholds chosen on a
calibration split (``training/calibrate_verifier.py``).

Blocking: :meth:`CrossEncoder.probabilities` runs inside the cache's gate job, all candidates of one
lookup in one batched forward pass.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from pydantic import ConfigDict, Field

from core.inference.onnx import ModelManifest, OnnxModel

__all__ = ["DEFAULT_VERIFIER_DIR", "CrossEncoder", "VerifierManifest"]

_log = logging.getLogger(__name__)

DEFAULT_VERIFIER_DIR = Path(__file__).resolve().parents[2] / "models" / "hit-verifier"
"""The model that ships in the repository; ``VERIFIER_MODEL`` may point elsewhere."""


class VerifierManifest(ModelManifest):
    """``verifier.json``: what the folder holds and how its scores are turned into decisions."""

    model_config = ConfigDict(frozen=True, extra="ignore")

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
        self._model = OnnxModel(model_dir, manifest_name="verifier.json", manifest_type=VerifierManifest,
                                setting="VERIFIER_MODEL", threads=threads)
        self._vocabulary: frozenset[str] | None = None

    @property
    def manifest(self) -> VerifierManifest:
        return self._model.load()[0]

    def load(self) -> None:
        """Read the manifest, check the weights' sha256, open the session (blocking, idempotent)."""
        self._model.load()

    def vocabulary(self) -> frozenset[str]:
        """The whole words (lower case, letters only) the model's tokenizer knows as one token."""
        if self._vocabulary is None:
            _, tokenizer, _ = self._model.load()
            self._vocabulary = frozenset(token for token in tokenizer.get_vocab() if token.isalpha())
        return self._vocabulary

    def probabilities(self, query: str, stored_texts: Sequence[str]) -> np.ndarray:
        """P(same meaning) of ``query`` against each stored text, in one forward pass."""
        return self.pair_probabilities([(query, text) for text in stored_texts])

    def pair_probabilities(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        """P(same meaning) of each (query, stored text) pair, in one forward pass."""
        if not pairs:
            return np.zeros(0, dtype=np.float32)
        _, tokenizer, session = self._model.load()
        encodings = tokenizer.encode_batch(list(pairs))
        feeds = {
            "input_ids": np.array([encoding.ids for encoding in encodings], dtype=np.int64),
            "attention_mask": np.array([encoding.attention_mask for encoding in encodings], dtype=np.int64),
            "token_type_ids": np.array([encoding.type_ids for encoding in encodings], dtype=np.int64),
        }
        (logits,) = session.run(["logits"], feeds)
        return (1.0 / (1.0 + np.exp(-logits.reshape(-1)))).astype(np.float32)
