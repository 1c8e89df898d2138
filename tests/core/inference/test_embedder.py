"""The 8-bit ONNX embedder against the fp32 sentence-transformers model it was exported from."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from core.embedder import SentenceTransformerEmbedder, build_embedder
from core.errors import ConfigError
from core.inference.embedder import DEFAULT_EMBEDDER_DIR, OnnxEmbedder
from core.settings import Settings, default_embedding_model_path

_SENTENCES = [
    "The Great Barrier Reef suffered its sixth mass bleaching event in a decade.",
    "How do rising interest rates affect house prices?",
    "why did the SEC fine coinbase",
    "Ridership on the Riverton tram rose 18 percent in 2023, according to the city transport office.",
    "Critics argue that the money would have bought far more electric buses.",
    "lol anyone else see the patch notes?? ranked is broken again",
    "Q3 revenue beat expectations by $1.2bn while margins narrowed to 14%.",
    "Summarise the arguments for and against a four-day work week",
    "Der Rat hat die neue Regelung gestern beschlossen.",
    " ".join(["A long paragraph that goes on and on about the same few things."] * 30),
]


def test_onnx_embeddings_agree_with_the_fp32_model() -> None:
    onnx = OnnxEmbedder(DEFAULT_EMBEDDER_DIR).embed(_SENTENCES)
    reference = SentenceTransformerEmbedder(default_embedding_model_path()).embed(_SENTENCES)
    cosines = np.sum(onnx * reference, axis=1)
    assert cosines.min() >= 0.99, cosines
    assert np.allclose(np.linalg.norm(onnx, axis=1), 1.0, atol=1e-4)


def test_one_word_inputs_agree_too() -> None:
    """A one-token input has nothing to average the quantisation error over; with one scale per block
    of 32 it still agrees (measured: "ok" 0.998, "thanks" 0.998; 0.979 and 0.965 with the dynamic
    int8 model before it)."""
    words = ["ok", "thanks", "inflation", "Nvidia", "lol"]
    onnx = OnnxEmbedder(DEFAULT_EMBEDDER_DIR).embed(words)
    reference = SentenceTransformerEmbedder(default_embedding_model_path()).embed(words)
    assert np.sum(onnx * reference, axis=1).min() >= 0.99


def test_batched_and_single_embeddings_agree() -> None:
    """Activations are quantised per block of one token's values, so a sentence's vector does not
    depend on its batch-mates (a store embeds in batches, a lookup alone)."""
    embedder = OnnxEmbedder(DEFAULT_EMBEDDER_DIR, batch_size=4)
    batched = embedder.embed(_SENTENCES)
    single = np.vstack([embedder.embed([sentence]) for sentence in _SENTENCES])
    assert np.sum(batched * single, axis=1).min() >= 0.999
    assert embedder.embed([]).shape == (0, 384)


def test_the_two_backends_have_different_names() -> None:
    """The cache keys vectors by this name, so vectors of two backends are never compared."""
    default = build_embedder(Settings(_env_file=None))  # type: ignore[call-arg]
    torch = build_embedder(Settings(_env_file=None, embedding_model=default_embedding_model_path()))  # type: ignore[call-arg]
    assert isinstance(default, OnnxEmbedder) and isinstance(torch, SentenceTransformerEmbedder)
    assert default.name != torch.name


def test_damaged_weights_are_refused(tmp_path: Path) -> None:
    copy = tmp_path / "embedder"
    shutil.copytree(DEFAULT_EMBEDDER_DIR, copy)
    weights = copy / "model.onnx.gz"
    data = bytearray(weights.read_bytes())
    data[1000] ^= 0x01
    weights.write_bytes(bytes(data))
    with pytest.raises(ConfigError, match=r"EMBEDDING_MODEL.*damaged"):
        OnnxEmbedder(copy).embed(["hello"])


def test_a_folder_with_an_embedder_manifest_is_loaded_as_onnx(tmp_path: Path) -> None:
    copy = tmp_path / "exported"
    shutil.copytree(DEFAULT_EMBEDDER_DIR, copy)
    embedder = build_embedder(Settings(_env_file=None, embedding_model=str(copy)))  # type: ignore[call-arg]
    assert isinstance(embedder, OnnxEmbedder)
    assert embedder.embed(["hello"]).shape == (1, 384)
