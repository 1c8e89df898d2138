"""Export the trained verifier to the shipped form: int8 ONNX, gzip-compressed, with its sha256.

    .venv/bin/python training/export_verifier.py --checkpoint training/output/verifier \
        --out models/hit-verifier

Writes ``model.onnx.gz`` (dynamic int8 quantisation of the MatMuls, except every feed-forward
output projection and the first layer, and of the word-embedding table), ``tokenizer.json``, and ``verifier.json`` (the model id, the sha256 of ``model.onnx.gz``,
the maximum sequence length, and the decision thresholds once ``training/calibrate_verifier.py``
has chosen them).  Then checks that the int8 model agrees with the PyTorch checkpoint on a few
hundred calibration pairs (it prints the largest probability difference).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from training.onnx_export import PositionalOutput, kept_in_fp32
from training.qqp_splits import load_splits

MAX_LENGTH = 128


def export(checkpoint: Path, out: Path, *, ops: list[str]) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = AutoModelForSequenceClassification.from_pretrained(checkpoint).eval()
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    sample = tokenizer(["what is it"], ["what is that"], return_tensors="pt")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        fp32 = Path(scratch) / "fp32.onnx"
        int8 = Path(scratch) / "int8.onnx"
        torch.onnx.export(
            PositionalOutput(model, output="logits").eval(), (sample["input_ids"], sample["attention_mask"], sample["token_type_ids"]), str(fp32),
            input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["logits"],
            dynamic_axes={name: {0: "batch", 1: "sequence"} for name in ("input_ids", "attention_mask", "token_type_ids")}
            | {"logits": {0: "batch"}},
            opset_version=17, dynamo=False,
        )
        kept = kept_in_fp32(fp32)  # the thresholds sit near 1: keep the MatMuls that cost the most agreement
        quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, op_types_to_quantize=ops, per_channel=True,
                         nodes_to_exclude=kept)
        payload = int8.read_bytes()
    compressed = gzip.compress(payload, compresslevel=9, mtime=0)
    (out / "model.onnx.gz").write_bytes(compressed)
    tokenizer.backend_tokenizer.save(str(out / "tokenizer.json"))
    manifest_path = out / "verifier.json"
    manifest = {  # no thresholds yet: the model refuses to load until calibrate_verifier.py sets them
        "model_id": f"hit-verifier-minilm-l{model.config.num_hidden_layers}-int8",
        "file": "model.onnx.gz",
        "sha256": hashlib.sha256(compressed).hexdigest(),
        "max_length": MAX_LENGTH,
        "onnx_bytes": len(payload),
        "compressed_bytes": len(compressed),
        "fp32_nodes": len(kept),
    }
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"wrote {out}: {len(compressed) / 1e6:.1f} MB compressed ({len(payload) / 1e6:.1f} MB onnx), "
          f"sha256 {manifest['sha256']}")
    _compare(model, tokenizer, payload)


def _compare(model: torch.nn.Module, tokenizer: object, payload: bytes) -> None:
    import onnxruntime

    model.eval()  # the exporter restores the wrapper's training mode when it is done
    pairs = load_splits().calibrate[:300]
    session = onnxruntime.InferenceSession(payload, providers=["CPUExecutionProvider"])
    differences = []
    for start in range(0, len(pairs), 30):
        chunk = pairs[start : start + 30]
        encoded = tokenizer([p.a for p in chunk], [p.b for p in chunk], padding=True, truncation=True,  # type: ignore[operator]
                            max_length=MAX_LENGTH, return_tensors="np")
        with torch.no_grad():
            reference = torch.sigmoid(model(**{k: torch.from_numpy(v) for k, v in encoded.items()}).logits).numpy()
        (logits,) = session.run(None, {k: v.astype(np.int64) for k, v in encoded.items()})
        differences.extend(np.abs(1 / (1 + np.exp(-logits)) - reference).ravel().tolist())
    print(f"int8 vs fp32 probability: mean |diff| {np.mean(differences):.4f}, max {np.max(differences):.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, default=Path("training/output/verifier"))
    parser.add_argument("--out", type=Path, default=Path("models/hit-verifier"))
    parser.add_argument("--keep-fp32-embeddings", action="store_true")
    args = parser.parse_args()
    export(args.checkpoint, args.out, ops=["MatMul"] if args.keep_fp32_embeddings else ["MatMul", "Gather"])


if __name__ == "__main__":
    main()
