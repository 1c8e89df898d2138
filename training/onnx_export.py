"""What both export scripts share: a model wrapper the ONNX exporter can trace, and the MatMuls kept in fp32."""

from __future__ import annotations

from pathlib import Path

import torch

__all__ = ["PositionalOutput", "kept_in_fp32"]


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
    """MatMuls left in fp32: every feed-forward output projection and all of the first layer.

    Quantising them too costs the most agreement (measured on the embedder: minimum cosine 0.981 with
    every MatMul in int8, 0.991 with these kept), for a small share of the speed-up.
    """
    import onnx

    names = [node.name for node in onnx.load(str(fp32)).graph.node if node.op_type == "MatMul"]
    return [name for name in names
            if ("/output/dense/" in name and "/attention/" not in name) or "/layer.0/" in name]
