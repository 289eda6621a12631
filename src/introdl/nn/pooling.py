"""``MaxPool2d``: ``nn.MaxPool2d`` with the same numbers, computed faster on the CPU.

On the CPU, PyTorch's max-pooling forward is several times slower on a standard
(NCHW, channel-first) tensor than on the same tensor in channels-last layout, while its
backward is faster in NCHW. For the lecture CNN's first pooling layer (a batch of 128
maps of 32x30x30, one thread) ``nn.MaxPool2d`` takes 27 ms forward and 36 ms forward +
backward; this layer 6.7 and 14.9 ms (benchmarks/maxpool.md).

This module takes the fast side of each: the forward pools a channels-last copy and
returns the result in NCHW; the backward scatters the gradient in NCHW with the indices
the forward found. The values, the chosen index among equal maxima and therefore the
gradients are those of ``nn.MaxPool2d``, bit for bit (tests/nn/test_pooling.py), so a
network that swaps one for the other trains to the same weights.

Anything else (a CUDA tensor, a channels-last input, ``return_indices=True``, a 3-D
input) goes to ``nn.MaxPool2d`` unchanged. The fast path has no double backward.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.autograd.function import once_differentiable

aten = torch.ops.aten


def _pair(v) -> list[int]:
    return list(v) if isinstance(v, tuple | list) else [v, v]


class _ChannelsLastForward(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, kernel, stride, padding, dilation, ceil_mode):
        y, idx = aten.max_pool2d_with_indices(
            x.contiguous(memory_format=torch.channels_last), kernel, stride, padding,
            dilation, ceil_mode)
        ctx.save_for_backward(x, idx)
        ctx.args = (kernel, stride, padding, dilation, ceil_mode)
        return y.contiguous()

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        x, idx = ctx.saved_tensors
        g = aten.max_pool2d_with_indices_backward(grad.contiguous(), x, *ctx.args,
                                                  idx.contiguous())
        return g, None, None, None, None, None


class MaxPool2d(nn.MaxPool2d):
    """Drop-in ``nn.MaxPool2d`` (same arguments, same results, no parameters)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if (x.device.type != "cpu" or x.dim() != 4 or self.return_indices
                or not x.is_contiguous()
                or x.is_contiguous(memory_format=torch.channels_last)):
            return super().forward(x)
        # nn.MaxPool2d has already set stride to kernel_size when it was not given
        return _ChannelsLastForward.apply(x, _pair(self.kernel_size), _pair(self.stride),
                                          _pair(self.padding), _pair(self.dilation),
                                          self.ceil_mode)
