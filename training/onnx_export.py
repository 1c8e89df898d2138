"""What both export scripts share: trace a BERT model to ONNX, optionally fuse it, quantise it to int8.

Three ways (``method``):

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
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import torch

__all__ = ["FFN_OUTPUTS", "METHODS", "PositionalOutput", "export_int8", "kept_in_fp32"]

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


METHODS = ("weight-only", "plain", "fused")


def export_int8(
    model: torch.nn.Module, *, output: str, sample: dict[str, torch.Tensor], int8: Path, method: str,
    keep: Collection[str] = (), scratch: Path,
) -> list[str]:
    """Trace ``model`` (its ``output`` tensor) to ONNX and quantise it into ``int8`` by ``method``.

    ``keep``: for the fused graph, node names (or :data:`FFN_OUTPUTS`) that stay in fp32.  Returns
    the names of the weight nodes left in fp32.
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
    kept = [node.name for node in nodes if node.name in keep or (
        FFN_OUTPUTS in keep and node.op_type == "MatMul" and "/output/dense/" in node.name and "/attention/" not in node.name)]
    quantize_dynamic(str(fused_path), str(int8), weight_type=QuantType.QInt8,
                     op_types_to_quantize=["MatMul", "Attention", "Gather"], per_channel=True, nodes_to_exclude=kept,
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    return kept
