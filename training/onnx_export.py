"""What both export scripts share: trace a BERT model to ONNX, optionally fuse it, quantise it to int8.

Five ways (``method``):

- ``weight-only`` (the shipped embedder): the traced graph with every weight MatMul replaced by
  ONNX Runtime's ``MatMulNBits``: 8-bit weights in blocks of 32 along the input dimension, each with
  its own scale, and the activations quantised per block of 32 at run time (``accuracy_level`` 4,
  the int8 kernels).  Per-block scales keep far closer to fp32 than one scale per tensor: minimum
  cosine 0.9989 against fp32 on the embedder's 1,000 agreement sentences, where dynamic
  quantisation gives 0.987.  The word-embedding table stays fp32 (``MatMulNBits`` quantises a
  ``Gather`` only to 4 bits).

and two shapes quantised with ONNX Runtime's dynamic int8 quantisation (per channel, one activation
scale per tensor):

- ``plain``: the traced graph as is.  The MatMuls of the first layer and every feed-forward output
  projection stay in fp32 (:func:`kept_in_fp32`).
- ``fused``: the traced graph (eager attention) rewritten by ONNX Runtime's transformer optimizer
  into one ``Attention`` node per layer, ``SkipLayerNormalization`` and ``BiasGelu``; then the
  attention, the MatMuls and the word-embedding table are quantised, minus the nodes ``keep``
  names.  Fewer, larger kernels: about twice the speed of ``plain`` on this CPU
  (``benchmarks/engine_bench.py``), at some cost in agreement with fp32 (each export script prints it).
- ``smooth``: the fused graph made easier to quantise first (SmoothQuant, Xiao et al. 2023): for
  each weight node fed by the residual stream or by the attention (the ``Attention`` node, the
  attention output and the feed-forward input projections), a per-channel scale ``s`` moves the
  activations' outlier channels into the weights: the input is multiplied by ``1/s`` (one ``Mul``
  node) and the weight's rows by ``s``, with ``s = max|x|^0.5 / max|w|^0.5`` from calibration
  sentences.  Then every weight is quantised as in ``fused``, except the feed-forward output
  projections of the first :data:`SMOOTH_FP32_FFN_LAYERS` layers, which stay fp32: their input
  (after GELU) neither smooths nor quantises well.
- ``outlier`` (session 7, measured, not shipped): the fused graph with each ``Attention`` node's
  input projection taken out as a ``MatMul`` (:func:`project_attention`), then every weight
  MatMul's few outlier input channels split off into a small fp32 ``MatMul`` (:func:`split_outliers`,
  after LLM.int8(), Dettmers et al. 2022) and the rest quantised as in ``fused``.  1.4x the shipped
  model's speed, but one scale per tensor still fails on one-word lines, whose few tokens include the
  special tokens' large activations ("thanks" 0.981).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path

import numpy as np
import torch

__all__ = ["FFN_OUTPUTS", "METHODS", "SMOOTH_FP32_FFN_LAYERS", "PositionalOutput", "export_int8", "kept_in_fp32",
           "smooth_graph"]

FFN_OUTPUTS = "ffn-outputs"
"""``keep`` value for :func:`export_int8`: every feed-forward output projection stays in fp32."""


class PositionalOutput(torch.nn.Module):
    """``model`` with a plain positional ``forward`` returning one named output tensor
    (``logits``, ``last_hidden_state``), as the ONNX exporter wants."""

    def __init__(self, model: torch.nn.Module, *, output: str) -> None:
        super().__init__()
        self.model = model
        self.output = output

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor) -> torch.Tensor:
        outputs = self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
        return getattr(outputs, self.output)


def kept_in_fp32(fp32: Path) -> list[str]:
    """MatMuls left in fp32 in the ``plain`` graph: every feed-forward output projection and all of
    the first layer.

    Quantising them too costs the most agreement (measured on the embedder: minimum cosine 0.981 with
    every MatMul in int8, 0.991 with these kept), for a small share of the speed-up.
    """
    import onnx

    names = [node.name for node in onnx.load(str(fp32)).graph.node if node.op_type == "MatMul"]
    return [name for name in names
            if ("/output/dense/" in name and "/attention/" not in name) or "/layer.0/" in name]


METHODS = ("weight-only", "plain", "fused", "smooth", "outlier")
#: ``smooth``: the feed-forward output projections of layers 0 .. this - 1 stay fp32.
SMOOTH_FP32_FFN_LAYERS = 4
SMOOTH_ALPHA = 0.5


def export_int8(
    model: torch.nn.Module, *, output: str, sample: dict[str, torch.Tensor], int8: Path, method: str,
    keep: Collection[str] = (), scratch: Path, calibration: Sequence[dict[str, np.ndarray]] = (),
) -> list[str]:
    """Trace ``model`` (its ``output`` tensor) to ONNX and quantise it into ``int8`` by ``method``.

    ``keep``: for the fused graph, node names (or :data:`FFN_OUTPUTS`) that stay in fp32.
    ``calibration``: for ``smooth``, the model inputs (one sentence each) its scales are measured on.
    Returns the names of the weight nodes left in fp32.
    """
    if method not in METHODS:
        raise ValueError(f"unknown export method {method!r}; one of {', '.join(METHODS)}")
    from onnxruntime.quantization import QuantType, quantize_dynamic

    fp32 = scratch / "fp32.onnx"
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {name: {0: "batch", 1: "sequence"} for name in names}
    axes[output] = {0: "batch", 1: "sequence"} if output == "last_hidden_state" else {0: "batch"}
    torch.onnx.export(
        PositionalOutput(model, output=output).eval(), tuple(sample[name] for name in names), str(fp32),
        input_names=names, output_names=[output], dynamic_axes=axes, opset_version=17, dynamo=False,
    )
    if method == "weight-only":
        import onnx
        from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

        quantiser = MatMulNBitsQuantizer(onnx.load(str(fp32)), bits=8, block_size=32, is_symmetric=True,
                                         accuracy_level=4)
        quantiser.process()
        quantiser.model.save_model_to_file(str(int8), use_external_data_format=False)
        return []
    if method == "plain":
        kept = kept_in_fp32(fp32)
        quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul", "Gather"],
                         per_channel=True, nodes_to_exclude=kept)
        return kept
    import onnx
    from onnxruntime.transformers.fusion_options import FusionOptions
    from onnxruntime.transformers.optimizer import optimize_model

    config = model.config  # type: ignore[union-attr]
    options = FusionOptions("bert")
    options.enable_embed_layer_norm = False  # keeps the word-embedding Gather, which quantises
    optimised = optimize_model(str(fp32), model_type="bert", num_heads=config.num_attention_heads,
                               hidden_size=config.hidden_size, optimization_options=options)
    fused_path = scratch / "fused.onnx"
    optimised.save_model_to_file(str(fused_path))
    nodes = onnx.load(str(fused_path)).graph.node
    if not any(node.op_type == "Attention" for node in nodes):
        raise RuntimeError("the transformer optimizer fused no attention: export the model with attn_implementation='eager'")
    if method == "outlier":
        if not calibration:
            raise ValueError("the outlier method needs calibration inputs")
        projected, split = scratch / "projected.onnx", scratch / "split.onnx"
        project_attention(fused_path, projected)
        kept = split_outliers(projected, split, calibration=calibration)
        quantize_dynamic(str(split), str(int8), weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul"],
                         per_channel=True, nodes_to_exclude=kept,
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
        return kept
    if method == "smooth":
        if not calibration:
            raise ValueError("the smooth method needs calibration inputs")
        smoothed = scratch / "smoothed.onnx"
        smooth_graph(fused_path, smoothed, calibration=calibration)
        kept = [node.name for node in nodes if _is_ffn_output(node)
                and any(f"/layer.{layer}/" in node.name for layer in range(SMOOTH_FP32_FFN_LAYERS))]
        quantize_dynamic(str(smoothed), str(int8), weight_type=QuantType.QInt8,
                         op_types_to_quantize=["MatMul", "Attention"], per_channel=True, nodes_to_exclude=kept,
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
        return kept
    kept = [node.name for node in nodes if node.name in keep or (FFN_OUTPUTS in keep and _is_ffn_output(node))]
    quantize_dynamic(str(fused_path), str(int8), weight_type=QuantType.QInt8,
                     op_types_to_quantize=["MatMul", "Attention", "Gather"], per_channel=True, nodes_to_exclude=kept,
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    return kept


def _is_ffn_output(node: object) -> bool:
    name = getattr(node, "name", "")
    return getattr(node, "op_type", "") == "MatMul" and "/output/dense/" in name and "/attention/" not in name


def smooth_graph(fused: Path, smoothed: Path, *, calibration: Sequence[dict[str, np.ndarray]],
                 alpha: float = SMOOTH_ALPHA) -> None:
    """Write ``fused`` with SmoothQuant scales folded in (see the module's ``smooth`` method).

    Exact in fp32 (the product ``(x / s) (s W)`` is ``x W``); it only changes what quantisation loses.
    """
    import onnx
    from onnx import helper, numpy_helper

    graph_model = onnx.load(str(fused))
    weights = {initializer.name: initializer for initializer in graph_model.graph.initializer}
    targets = [node for node in graph_model.graph.node
               if node.op_type in ("Attention", "MatMul") and node.input[1] in weights and not _is_ffn_output(node)]
    peaks = _channel_peaks(fused, sorted({node.input[0] for node in targets}), calibration)
    for node in targets:
        weight = numpy_helper.to_array(weights[node.input[1]]).astype(np.float32)
        scale = np.clip(peaks[node.input[0]] ** alpha / np.maximum(np.abs(weight).max(axis=1), 1e-5) ** (1 - alpha),
                        1e-3, 1e3).astype(np.float32)
        weights[node.input[1]].CopyFrom(numpy_helper.from_array(weight * scale[:, None], node.input[1]))
        name = f"{node.name}_smooth"
        graph_model.graph.initializer.append(numpy_helper.from_array(1.0 / scale, f"{name}_scale"))
        graph_model.graph.node.append(helper.make_node("Mul", [node.input[0], f"{name}_scale"], [f"{name}_out"], name=name))
        node.input[0] = f"{name}_out"
    _sort_topologically(graph_model.graph)
    onnx.save(graph_model, str(smoothed))


def _channel_peaks(fused: Path, inputs: Sequence[str], calibration: Sequence[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The largest absolute value each channel of each named tensor takes over the calibration inputs."""
    import onnx
    import onnxruntime
    from onnx import helper

    probe = onnx.load(str(fused))
    for name in inputs:
        probe.graph.output.append(helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = onnxruntime.InferenceSession(probe.SerializeToString(), options, providers=["CPUExecutionProvider"])
    peaks: dict[str, np.ndarray] = {}
    for feeds in calibration:
        for name, value in zip(inputs, session.run(list(inputs), feeds), strict=True):
            peak = np.abs(value.reshape(-1, value.shape[-1])).max(axis=0)
            peaks[name] = np.maximum(peaks[name], peak) if name in peaks else peak
    return peaks


def project_attention(fused: Path, projected: Path) -> None:
    """Write ``fused`` with each ``Attention`` node's input projection as a plain ``MatMul``.

    ``Attention`` (input, packed QKV weight, bias, mask) becomes ``MatMul`` (input, weight), ``Split``
    into Q, K and V, and ``MultiHeadAttention`` (Q, K, V, bias, mask): the same arithmetic, with the
    projection where :func:`split_outliers` and dynamic quantisation can reach it.
    """
    import onnx
    from onnx import helper, numpy_helper

    graph_model = onnx.load(str(fused))
    weights = {initializer.name: initializer for initializer in graph_model.graph.initializer}
    rebuilt = []
    for node in graph_model.graph.node:
        if node.op_type != "Attention":
            rebuilt.append(node)
            continue
        heads = next(helper.get_attribute_value(a) for a in node.attribute if a.name == "num_heads")
        hidden = numpy_helper.to_array(weights[node.input[1]]).shape[0]
        name = node.name
        graph_model.graph.initializer.append(numpy_helper.from_array(np.array([hidden] * 3, dtype=np.int64), f"{name}_split"))
        rebuilt += [
            helper.make_node("MatMul", [node.input[0], node.input[1]], [f"{name}_qkv"], name=f"{name}_projection"),
            helper.make_node("Split", [f"{name}_qkv", f"{name}_split"], [f"{name}_q", f"{name}_k", f"{name}_v"],
                             name=f"{name}_split", axis=-1),
            helper.make_node("MultiHeadAttention", [f"{name}_q", f"{name}_k", f"{name}_v", node.input[2], node.input[3]],
                             list(node.output), name=f"{name}_mha", domain="com.microsoft", num_heads=heads),
        ]
    del graph_model.graph.node[:]
    graph_model.graph.node.extend(rebuilt)
    onnx.save(graph_model, str(projected))


OUTLIER_RATIO = 4.0
OUTLIER_MAX_CHANNELS = 24


def split_outliers(fused: Path, split: Path, *, calibration: Sequence[dict[str, np.ndarray]],
                   ratio: float = OUTLIER_RATIO, most: int = OUTLIER_MAX_CHANNELS) -> list[str]:
    """Write ``fused`` with each weight MatMul's outlier input channels split off (LLM.int8()-style).

    For every weight ``MatMul`` (not the ``Attention`` nodes), the input channels whose calibration
    peak exceeds ``ratio`` times the median channel's peak (at most ``most``) go through a small
    fp32 ``MatMul`` of their own (a ``Gather`` of those channels times those rows of the weight); the
    main ``MatMul`` sees the input with those channels zeroed, so one activation scale per tensor no
    longer has to cover them.  Exact in fp32.  Returns the side MatMuls' names (to keep in fp32).
    """
    import onnx
    from onnx import helper, numpy_helper

    graph_model = onnx.load(str(fused))
    weights = {initializer.name: initializer for initializer in graph_model.graph.initializer}
    targets = [node for node in graph_model.graph.node if node.op_type == "MatMul" and node.input[1] in weights]
    peaks = _channel_peaks(fused, sorted({node.input[0] for node in targets}), calibration)
    side_names: list[str] = []
    for node in targets:
        peak = peaks[node.input[0]]
        order = np.argsort(-peak)
        chosen = np.sort(order[:most][peak[order[:most]] > ratio * np.median(peak)])
        if chosen.size == 0:
            continue
        weight = numpy_helper.to_array(weights[node.input[1]]).astype(np.float32)
        name = f"{node.name}_outliers"
        mask = np.ones(weight.shape[0], dtype=np.float32)
        mask[chosen] = 0.0
        graph_model.graph.initializer.extend([
            numpy_helper.from_array(mask, f"{name}_mask"),
            numpy_helper.from_array(chosen.astype(np.int64), f"{name}_index"),
            numpy_helper.from_array(weight[chosen], f"{name}_weight"),
        ])
        weights[node.input[1]].CopyFrom(numpy_helper.from_array(weight * mask[:, None], node.input[1]))
        source, result = node.input[0], node.output[0]
        graph_model.graph.node.extend([
            helper.make_node("Mul", [source, f"{name}_mask"], [f"{name}_rest"], name=f"{name}_mul"),
            helper.make_node("Gather", [source, f"{name}_index"], [f"{name}_picked"], name=f"{name}_gather", axis=-1),
            helper.make_node("MatMul", [f"{name}_picked", f"{name}_weight"], [f"{name}_side"], name=f"{name}_matmul"),
            helper.make_node("Add", [f"{name}_main", f"{name}_side"], [result], name=f"{name}_add"),
        ])
        node.input[0], node.output[0] = f"{name}_rest", f"{name}_main"
        side_names.append(f"{name}_matmul")
        print(f"{node.name}: {chosen.size} outlier channels, peak {peak.max():.1f} against median {np.median(peak):.2f}")
    _sort_topologically(graph_model.graph)
    onnx.save(graph_model, str(split))
    return side_names


def _sort_topologically(graph: object) -> None:
    """Reorder ``graph.node`` so that every node comes after the nodes whose outputs it reads."""
    nodes = list(graph.node)  # type: ignore[attr-defined]
    ready = {value.name for value in graph.input} | {value.name for value in graph.initializer}  # type: ignore[attr-defined]
    ordered = []
    while nodes:
        waiting = []
        for node in nodes:
            if all(not name or name in ready for name in node.input):
                ordered.append(node)
                ready.update(node.output)
            else:
                waiting.append(node)
        if len(waiting) == len(nodes):
            raise RuntimeError("the smoothed graph has a cycle or an input nothing produces")
        nodes = waiting
    del graph.node[:]  # type: ignore[attr-defined]
    graph.node.extend(ordered)  # type: ignore[attr-defined]
