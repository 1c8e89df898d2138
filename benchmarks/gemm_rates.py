"""How close the shipped embedder runs to this CPU's matrix-multiply speed, fp32 and int8.

Run: ``.venv/bin/python benchmarks/gemm_rates.py`` (options: ``--words 5000``, ``--threads 2``).

Prints, in one run, side by side:

- the rate of one ONNX Runtime ``MatMul`` (fp32), one ``MatMulInteger`` (uint8 x int8, the
  kernels dynamic int8 quantisation uses) and one ``MatMulNBits`` (weights in 8 or 4 bits per block
  of 32, activations quantised per block at run time: ``accuracy_level`` 4, the shipped embedder's
  kind) on the embedder's three weight shapes (384 -> 384, 384 -> 1536, 1536 -> 384), 2,048 token
  rows each;
- the shipped embedder on the sentences of the engine benchmark's generated article: its wall time,
  the weight-multiply work it must do (two operations per weight per token, padding included), and
  the rate that work implies.

If the model's implied rate is close to the fp32 rate, no fp32 graph rewrite can make it much
faster; only int8 kernels can, and what they can save is bounded by the share of time outside the
weight multiplies (attention, layer norm, GELU).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from benchmarks.engine_bench import generate_article
from core.engine.text import segment_sources
from core.inference.embedder import DEFAULT_EMBEDDER_DIR, OnnxEmbedder
from core.inference.onnx import read_tokenizer

if TYPE_CHECKING:
    import onnxruntime

_SHAPES = [(384, 384), (384, 1536), (1536, 384)]
_OPS = ("MatMul", "MatMulInteger", "MatMulNBits8", "MatMulNBits4")
_BLOCK = 32
_ROWS = 2_048
_LAYERS, _HIDDEN, _INNER = 6, 384, 1536


def _session(
    op: str, rows: int, inner: int, outer: int, threads: int
) -> tuple[onnxruntime.InferenceSession, dict[str, np.ndarray]]:
    import onnxruntime
    from onnx import TensorProto, helper

    rng = np.random.default_rng(0)
    attributes: dict[str, int] = {}
    domain = ""
    if op == "MatMul":
        a_type, y_type = TensorProto.FLOAT, TensorProto.FLOAT
        weight = helper.make_tensor("W", TensorProto.FLOAT, [inner, outer], rng.random((inner, outer), np.float32).ravel())
        extra, inputs = [], ["A", "W"]
        feed: np.ndarray = rng.random((rows, inner), np.float32)
    elif op.startswith("MatMulNBits"):  # any byte pattern is a valid packed weight; the speed does not depend on it
        bits, blocks = int(op.removeprefix("MatMulNBits")), inner // _BLOCK
        a_type, y_type, domain = TensorProto.FLOAT, TensorProto.FLOAT, "com.microsoft"
        weight = helper.make_tensor("W", TensorProto.UINT8, [outer, blocks, _BLOCK * bits // 8],
                                    rng.integers(0, 256, outer * blocks * _BLOCK * bits // 8, dtype=np.uint8))
        scales = helper.make_tensor("scales", TensorProto.FLOAT, [outer * blocks],
                                    rng.random(outer * blocks, np.float32) / 64)
        extra, inputs = [scales], ["A", "W", "scales"]
        attributes = {"K": inner, "N": outer, "bits": bits, "block_size": _BLOCK, "accuracy_level": 4}
        feed = rng.random((rows, inner), np.float32)
        op = "MatMulNBits"
    else:
        a_type, y_type = TensorProto.UINT8, TensorProto.INT32
        weight = helper.make_tensor("W", TensorProto.INT8, [inner, outer],
                                    rng.integers(-127, 128, (inner, outer), dtype=np.int8).ravel())
        extra, inputs = [helper.make_tensor("zero", TensorProto.UINT8, [], [128])], ["A", "W", "zero"]
        feed = rng.integers(0, 256, (rows, inner), dtype=np.uint8)
    node = helper.make_node(op, inputs, ["Y"], domain=domain)
    node.attribute.extend(helper.make_attribute(key, value) for key, value in attributes.items())
    graph = helper.make_graph(
        [node], "gemm",
        [helper.make_tensor_value_info("A", a_type, [rows, inner])],
        [helper.make_tensor_value_info("Y", y_type, [rows, outer])], [weight, *extra])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)])
    model.ir_version = 8
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    session = onnxruntime.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return session, {"A": feed}


def gemm_rate(op: str, inner: int, outer: int, *, threads: int, repeat: int = 40) -> float:
    """Billions of multiply-adds x 2 per second of one ``op`` on ``_ROWS`` rows (median of ``repeat``)."""
    session, feeds = _session(op, _ROWS, inner, outer, threads)
    for _ in range(5):
        session.run(None, feeds)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        session.run(None, feeds)
        times.append(time.perf_counter() - started)
    return 2 * _ROWS * inner * outer / statistics.median(times) / 1e9


class _ModelRun:
    """The shipped embedder on the generated article's sentences, with the work its weight multiplies do."""

    def __init__(self, words: int, *, threads: int) -> None:
        self.texts = [sentence.clean for sentence in segment_sources([generate_article(words)])]
        self.embedder = OnnxEmbedder(DEFAULT_EMBEDDER_DIR, threads=threads)
        self.embedder.embed(self.texts[:64])
        tokenizer = read_tokenizer(DEFAULT_EMBEDDER_DIR, max_length=self.embedder.manifest.max_length,
                                   setting="EMBEDDING_MODEL")
        lengths = sorted(sum(encoding.attention_mask) for encoding in tokenizer.encode_batch(self.texts))
        batch = self.embedder.batch_size  # the embedder's own batching: by token count, each batch cut to its longest
        self.padded_tokens = sum(max(lengths[start : start + batch]) * len(lengths[start : start + batch])
                                 for start in range(0, len(lengths), batch))
        weights = _LAYERS * (4 * _HIDDEN * _HIDDEN + 2 * _HIDDEN * _INNER)
        self.operations = 2 * weights * self.padded_tokens

    def seconds(self) -> float:
        started = time.perf_counter()
        self.embedder.embed(self.texts)
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=5_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    model = _ModelRun(args.words, threads=args.threads)
    rates: dict[tuple[str, int, int], list[float]] = {}
    shares: list[float] = []
    walls: list[float] = []
    for _ in range(args.rounds):  # interleaved, so every ratio compares runs that saw the same machine load
        for inner, outer in _SHAPES:
            for op in _OPS:
                rates.setdefault((op, inner, outer), []).append(gemm_rate(op, inner, outer, threads=args.threads))
        walls.append(model.seconds())
        fp32_now = statistics.mean(rates[("MatMul", inner, outer)][-1] for inner, outer in _SHAPES)
        shares.append(model.operations / walls[-1] / 1e9 / fp32_now)
    print(f"{args.rounds} interleaved rounds, {args.threads} threads; medians, ranges in brackets")
    print()
    print("| weight shape | fp32 MatMul, Gop/s | int8 MatMulInteger / fp32 | MatMulNBits 8-bit / fp32 "
          "| MatMulNBits 4-bit / fp32 |")
    print("|---|---|---|---|---|")
    for inner, outer in _SHAPES:
        fp32 = rates[("MatMul", inner, outer)]
        cells = []
        for op in _OPS[1:]:
            ratio = [b / a for a, b in zip(fp32, rates[(op, inner, outer)], strict=True)]
            cells.append(f"{statistics.median(ratio):.2f}x [{min(ratio):.2f}-{max(ratio):.2f}]")
        print(f"| {inner} -> {outer} | {statistics.median(fp32):.0f} | {' | '.join(cells)} |")
    print()
    print(f"shipped embedder, {args.words:,}-word article: {len(model.texts)} sentences, {model.padded_tokens:,} tokens "
          f"with padding, {statistics.median(walls):.3f} s [{min(walls):.3f}-{max(walls):.3f}]; its weight multiplies "
          f"alone run at {100 * statistics.median(shares):.0f} % [{100 * min(shares):.0f}-{100 * max(shares):.0f} %] "
          f"of the fp32 MatMul rate measured in the same round")


if __name__ == "__main__":
    main()
