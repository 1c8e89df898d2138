"""What both export scripts share: a model wrapper the ONNX exporter can trace."""

from __future__ import annotations

import torch

__all__ = ["PositionalOutput"]


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
