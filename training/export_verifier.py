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

from training.onnx_export import METHODS, export_int8
from training.qqp_splits import load_splits

MAX_LENGTH = 128


def export(checkpoint: Path, out: Path, *, method: str, keep: list[str]) -> None:
    # eager attention: the pattern ONNX Runtime's transformer optimizer fuses
    model = AutoModelForSequenceClassification.from_pretrained(checkpoint, attn_implementation="eager").eval()
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    sample = tokenizer(["what is it"], ["what is that"], return_tensors="pt")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        int8 = Path(scratch) / "int8.onnx"
        kept = export_int8(model, output="logits", sample=dict(sample), int8=int8, method=method, keep=keep,
                           scratch=Path(scratch))
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
        "method": method,
        "fp32_nodes": kept,
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
    parser.add_argument("--method", choices=METHODS, default="fused", help="how to quantise (training/onnx_export.py)")
    parser.add_argument("--keep", default="", help="comma-separated nodes of the fused graph left in fp32")
    args = parser.parse_args()
    export(args.checkpoint, args.out, method=args.method, keep=[name for name in args.keep.split(",") if name])


if __name__ == "__main__":
    main()
