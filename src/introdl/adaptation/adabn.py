"""AdaBN: per-domain batch normalisation (Li, Wang, Shi, Liu & Hou, 2016, arXiv:1603.04779).

A network with batch norm stores, for every BN layer and channel ``c``, the mean and
variance of its input over the *source* training data and normalises with them at
test time::

    BN(h)_c = gamma_c * (h_c - mu_c) / sqrt(sigma_c^2 + eps) + beta_c

The domain's "style" (ink colour, contrast, background) lives largely in these
first and second moments. AdaBN keeps every learned weight (convolutions, ``gamma``,
``beta``, the head) and only swaps the statistics: ``mu_c`` and ``sigma_c^2`` are
re-estimated on the target's *unlabelled* images, so each domain is normalised by its
own statistics. No label and no gradient step is involved.

Re-estimation, as in the paper's Algorithm 1: reset each BN layer's running stats, set
its momentum to ``None`` (PyTorch then keeps a cumulative average over the batches it
sees), run the target images through the network in train mode under ``no_grad``, and
restore the momentum. With one batch (the default covers up to 1,024 images) the new
statistics are exactly the target's per-channel mean and unbiased variance.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm


def batch_norm_layers(model: nn.Module) -> list[_BatchNorm]:
    return [m for m in model.modules() if isinstance(m, _BatchNorm)]


@torch.no_grad()
def adapt_batch_norm(model: nn.Module, x: torch.Tensor, batch_size: int = 1024) -> nn.Module:
    """Re-estimate every BN layer's running mean/var on ``x`` (unlabelled); in place.

    Args:
        model: a network with at least one BatchNorm layer; its weights are untouched.
        x: the target's unlabelled adaptation images ``(N, 3, 32, 32)``.
        batch_size: largest number of images per forward pass. ``x`` is cut into equal
            chunks (sizes differ by at most one), because the running stats are the plain
            average of the per-chunk statistics: a short last batch would weigh as much as
            a full one.

    Returns:
        ``model`` (same object), in the train/eval mode it had before.
    """
    layers = batch_norm_layers(model)
    if not layers:
        raise ValueError("AdaBN needs a network with batch norm (e.g. DigitNet(norm='batch'))")
    momenta = [bn.momentum for bn in layers]
    was_training = model.training
    for bn in layers:
        bn.reset_running_stats()  # mu = 0, sigma^2 = 1, num_batches_tracked = 0
        bn.momentum = None  # cumulative moving average over the batches below
    model.train()  # BN uses (and records) the batch's own statistics
    device = next(model.parameters()).device
    for b in x.tensor_split(-(-len(x) // batch_size)):  # ceil(N / batch_size) equal chunks
        model(b.to(device))
    for bn, m in zip(layers, momenta, strict=True):
        bn.momentum = m
    model.train(was_training)
    return model
