"""Load a shipped ONNX model folder: check its sha256, decompress, open a session, read its tokenizer.

A folder holds a JSON manifest (its name is the caller's: ``verifier.json``, ``embedder.json``), the
model file it names (``model.onnx.gz``: gzip-compressed ONNX) and ``tokenizer.json`` (Hugging Face
``tokenizers``).  The manifest's ``sha256`` is of the file as shipped; a mismatch is a
:class:`~core.errors.ConfigError` naming the setting that points at the folder, never a model that
silently behaves differently.  Blocking: call through the worker gate.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

from pydantic import BaseModel, Field, ValidationError

from core.errors import ConfigError

if TYPE_CHECKING:
    import onnxruntime
    from tokenizers import Tokenizer

__all__ = ["ModelManifest", "OnnxModel", "open_session", "read_manifest", "read_tokenizer"]

_log = logging.getLogger(__name__)

class ModelManifest(BaseModel):
    """What every model folder's manifest states (each model adds its own fields)."""

    model_id: str
    file: str = "model.onnx.gz"
    sha256: str = Field(min_length=64, max_length=64)
    max_length: int = Field(ge=16, le=512)


ManifestT = TypeVar("ManifestT", bound=BaseModel)
ModelManifestT = TypeVar("ModelManifestT", bound=ModelManifest)


class OnnxModel(Generic[ModelManifestT]):
    """A model folder loaded once, lazily and thread-safely: manifest, tokenizer, checked session."""

    def __init__(
        self, model_dir: Path, *, manifest_name: str, manifest_type: type[ModelManifestT], setting: str, threads: int
    ) -> None:
        self.model_dir = model_dir
        self._manifest_name = manifest_name
        self._manifest_type = manifest_type
        self._setting = setting
        self._threads = threads
        self._loaded: tuple[ModelManifestT, Tokenizer, onnxruntime.InferenceSession] | None = None
        self._lock = threading.Lock()
        self.load_seconds: float | None = None

    @property
    def loaded(self) -> bool:
        return self._loaded is not None

    def load(self) -> tuple[ModelManifestT, Tokenizer, onnxruntime.InferenceSession]:
        """Manifest, tokenizer and session (blocking, idempotent); a bad folder is a ConfigError."""
        if self._loaded is None:
            with self._lock:
                if self._loaded is None:
                    self._loaded = self._open()
        return self._loaded

    def _open(self) -> tuple[ModelManifestT, Tokenizer, onnxruntime.InferenceSession]:
        started = time.perf_counter()
        manifest = read_manifest(self.model_dir, self._manifest_name, self._manifest_type, setting=self._setting)
        tokenizer = read_tokenizer(self.model_dir, max_length=manifest.max_length, setting=self._setting)
        session = open_session(
            self.model_dir, manifest.file, sha256=manifest.sha256, threads=self._threads, setting=self._setting
        )
        self.load_seconds = time.perf_counter() - started
        _log.info("loaded %s from %s in %.1fs", manifest.model_id, self.model_dir, self.load_seconds)
        return manifest, tokenizer, session


def read_manifest(model_dir: Path, name: str, model: type[ManifestT], *, setting: str) -> ManifestT:
    """Parse ``model_dir / name`` as ``model``; a missing or malformed manifest names ``setting``."""
    try:
        return model.model_validate(json.loads(_read(model_dir / name, setting=setting)))
    except (ValueError, ValidationError) as exc:
        raise ConfigError(setting, f"{model_dir / name} is not a valid model manifest") from exc


def open_session(
    model_dir: Path, file: str, *, sha256: str, threads: int, setting: str
) -> onnxruntime.InferenceSession:
    """An ONNX Runtime CPU session on ``model_dir / file`` after checking its sha256."""
    shipped = _read(model_dir / file, setting=setting)
    digest = hashlib.sha256(shipped).hexdigest()
    if digest != sha256:
        raise ConfigError(
            setting,
            f"{model_dir / file} is damaged or not the file its manifest describes "
            f"(sha256 {digest[:12]}…, expected {sha256[:12]}…)",
        )
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    payload = gzip.decompress(shipped) if file.endswith(".gz") else shipped
    return onnxruntime.InferenceSession(payload, sess_options=options, providers=["CPUExecutionProvider"])


def read_tokenizer(model_dir: Path, *, max_length: int, setting: str) -> Tokenizer:
    """The folder's ``tokenizer.json``, truncating to ``max_length`` and padding each batch."""
    from tokenizers import Tokenizer

    path = model_dir / "tokenizer.json"
    try:
        tokenizer = Tokenizer.from_file(str(path))
    except Exception as exc:  # tokenizers raises a bare Exception for a missing or bad file
        raise ConfigError(setting, f"cannot read the tokenizer {path}: {exc}") from exc
    tokenizer.enable_truncation(max_length=max_length, strategy="longest_first")
    tokenizer.enable_padding()
    return tokenizer


def _read(path: Path, *, setting: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(setting, f"cannot read {path}: {exc.strerror or exc}") from exc
