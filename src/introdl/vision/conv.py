"""Convolution and pooling written from their definitions (Lecture 3, "Convolution operation").

A filter ``W`` of size ``k_h x k_w`` slides over the (zero-padded) input with stride
``s``; at each position it takes the element-wise product with the patch beneath it
and sums, adding a bias. For a batch of ``C``-channel images and ``F`` filters:

    out[n, f, i, j] = b[f] + sum_{c, u, v} W[f, c, u, v] * x_pad[n, c, i*s + u, j*s + v]

    H_out = floor((H + 2p - k_h) / s) + 1,   W_out = floor((W + 2p - k_w) / s) + 1

(Deep-learning "convolution" does not flip the filter — strictly it is
cross-correlation — which is what ``torch.nn.functional.conv2d`` computes too.)

Pooling slides a window the same way but, instead of a weighted sum, keeps the
window's maximum (max pooling) or its mean (mean/average pooling), channel by channel:

    max:  out[n, c, i, j] = max_{u, v}  x_pad[n, c, i*s + u, j*s + v]
    mean: out[n, c, i, j] = mean_{u, v} x_pad[n, c, i*s + u, j*s + v]

The code below is the lecture's sliding window made literal: two loops over the
output positions, one patch at a time. It is slow and meant to be read; the tests
hold it equal to ``F.conv2d``, ``F.max_pool2d`` and ``F.avg_pool2d``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

# The hand-designed filters of the lecture's slide ("Producing feature maps").
SHARPEN = torch.tensor([[0.0, -1.0, 0.0], [-1.0, 5.0, -1.0], [0.0, -1.0, 0.0]])
EDGE_DETECT = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])
STRONG_EDGE_DETECT = torch.tensor([[-1.0, -1.0, -1.0], [-1.0, 8.0, -1.0], [-1.0, -1.0, -1.0]])
FILTERS = {"sharpen": SHARPEN, "edge detect": EDGE_DETECT, "strong edge detect": STRONG_EDGE_DETECT}


def output_size(size: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    """Positions a ``kernel``-wide window takes along one axis: floor((n + 2p - k) / s) + 1."""
    return (size + 2 * padding - kernel) // stride + 1


def conv2d(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: int = 1,
    padding: int = 0,
) -> torch.Tensor:
    """2-D convolution (cross-correlation) by sliding each filter over the input.

    Args:
        x: input images.
        weight: ``F`` filters, each spanning all ``C`` input channels.
        bias: one number per filter, or ``None``.
        stride: step of the window, in pixels, along both axes.
        padding: zeros added on every side before sliding.

    Shape:
        - x: ``(N, C, H, W)``
        - weight: ``(F, C, k_h, k_w)``; bias: ``(F,)``
        - Output: ``(N, F, H_out, W_out)`` (formula in the module docstring).
    """
    n, c, h, w = x.shape
    f, c_w, kh, kw = weight.shape
    if c != c_w:
        raise ValueError(f"input has {c} channels but the filters expect {c_w}")
    xp = F.pad(x, (padding, padding, padding, padding))  # (N, C, H + 2p, W + 2p), zeros
    h_out, w_out = output_size(h, kh, stride, padding), output_size(w, kw, stride, padding)
    out = x.new_zeros(n, f, h_out, w_out)
    for i in range(h_out):
        for j in range(w_out):
            patch = xp[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]  # (N,C,kh,kw)
            # element-wise product with every filter, summed over (c, u, v)
            out[:, :, i, j] = torch.einsum("ncuv,fcuv->nf", patch, weight)
    if bias is not None:
        out = out + bias.view(1, f, 1, 1)
    return out


def _pool(x: torch.Tensor, kernel: int, stride: int | None, padding: int, pad_value: float,
          reduce: str) -> torch.Tensor:
    stride = stride or kernel  # as in PyTorch: the default stride is the window size
    n, c, h, w = x.shape
    xp = F.pad(x, (padding, padding, padding, padding), value=pad_value)
    h_out, w_out = output_size(h, kernel, stride, padding), output_size(w, kernel, stride, padding)
    out = x.new_empty(n, c, h_out, w_out)
    for i in range(h_out):
        for j in range(w_out):
            window = xp[:, :, i * stride:i * stride + kernel, j * stride:j * stride + kernel]
            window = window.reshape(n, c, -1)  # (N, C, k*k)
            out[:, :, i, j] = window.amax(-1) if reduce == "max" else window.mean(-1)
    return out


def max_pool2d(x: torch.Tensor, kernel: int, stride: int | None = None,
               padding: int = 0) -> torch.Tensor:
    """Max pooling: the largest value in each ``kernel x kernel`` window, per channel.

    Padding counts as ``-inf`` (it never wins), as in ``F.max_pool2d``.

    Shape:
        - x: ``(N, C, H, W)`` -> ``(N, C, H_out, W_out)``; ``stride`` defaults to ``kernel``.
    """
    return _pool(x, kernel, stride, padding, float("-inf"), "max")


def avg_pool2d(x: torch.Tensor, kernel: int, stride: int | None = None,
               padding: int = 0) -> torch.Tensor:
    """Mean pooling: the average of each ``kernel x kernel`` window, per channel.

    Padding counts as zeros in the average (``count_include_pad=True``, PyTorch's default).

    Shape:
        - x: ``(N, C, H, W)`` -> ``(N, C, H_out, W_out)``; ``stride`` defaults to ``kernel``.
    """
    return _pool(x, kernel, stride, padding, 0.0, "mean")


def apply_filter(image: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Convolve one grayscale image ``(H, W)`` with one ``(k, k)`` filter, keeping its size.

    Uses :func:`conv2d` with ``padding = k // 2`` ("same" output for odd ``k``).
    """
    k = kernel.shape[-1]
    out = conv2d(image[None, None], kernel[None, None].to(image.dtype), padding=k // 2)
    return out[0, 0]  # (1, 1, H, W) -> (H, W)
