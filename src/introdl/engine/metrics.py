"""Per-batch metrics the engine averages over a dataset (weighted by batch size)."""

from __future__ import annotations

import torch


def accuracy(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Share of correct predictions.

    ``output`` is (N, C) logits/probabilities (argmax) or (N,)/(N, 1) binary scores
    (threshold at 0 for logits); ``target`` is (N,) class indices or binary labels.
    """
    if output.ndim == 1 or output.shape[-1] == 1:
        pred = (output.reshape(-1) > 0).to(target.dtype)
        return (pred == target.reshape(-1)).float().mean()
    return (output.argmax(dim=-1) == target).float().mean()
