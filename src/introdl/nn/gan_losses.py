"""Losses of unpaired image-to-image translation (CycleGAN, CyCADA), each a plain function.

- Least-squares GAN (Mao et al., 2017), with real label 1 and fake label 0:
  ``L_D = 1/2 E[(D(x_real) - 1)^2] + 1/2 E[D(G(z))^2]`` and ``L_G = E[(D(G(z)) - 1)^2]``.
  Its gradients do not vanish for confidently rejected fakes, which made CycleGAN's
  training steadier than the log-loss GAN.
- Cycle consistency: ``E|F(G(x)) - x|_1`` -- translating there and back returns the image.
- Identity: ``E|G(y) - y|_1`` for ``y`` already in G's output domain -- G leaves it alone
  (keeps colours, CycleGAN's appendix).
- Semantic consistency (CyCADA, Hoffman et al. 2018): a fixed classifier ``f`` trained on
  the source must give the translated image the label it gave the original,
  ``CE(f(G(x)), argmax f(x))``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def lsgan_discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor
                             ) -> torch.Tensor:
    """``0.5 * mean((D(real) - 1)^2) + 0.5 * mean(D(fake)^2)``; pass ``D(fake.detach())``."""
    return 0.5 * ((real_logits - 1).pow(2).mean() + fake_logits.pow(2).mean())


def lsgan_generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """``mean((D(G(z)) - 1)^2)``: the generator wants its fakes scored as real."""
    return (fake_logits - 1).pow(2).mean()


def cycle_loss(x: torch.Tensor, reconstructed: torch.Tensor) -> torch.Tensor:
    """``mean |F(G(x)) - x|`` (L1), zero when the round trip returns ``x``."""
    return (reconstructed - x).abs().mean()


def identity_loss(y: torch.Tensor, mapped: torch.Tensor) -> torch.Tensor:
    """``mean |G(y) - y|`` (L1) for ``y`` from G's own output domain."""
    return (mapped - y).abs().mean()


def semantic_consistency_loss(translated_logits: torch.Tensor, original_logits: torch.Tensor
                              ) -> torch.Tensor:
    """``CE(f(G(x)), argmax f(x))``: the label must survive the translation.

    ``original_logits`` only supply the hard labels (no gradient flows through them);
    the loss is zero when ``f(G(x))`` puts all its mass on the label ``f(x)`` chose.
    """
    labels = original_logits.detach().argmax(1)
    return F.cross_entropy(translated_logits, labels)


def mode_seeking_loss(fake_a: torch.Tensor, fake_b: torch.Tensor, z_a: torch.Tensor,
                      z_b: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """MSGAN's mode-seeking term (Mao et al., CVPR 2019): ``1 / (d_img / d_z + eps)``.

    ``d_img = mean|G(x, z_a) - G(x, z_b)|`` and ``d_z = mean|z_a - z_b|``: the loss is
    large when two noise draws give the same image (the generator ignores its noise) and
    falls as their outputs move apart, so minimising it makes the noise matter.
    """
    ratio = (fake_a - fake_b).abs().mean() / (z_a - z_b).abs().mean()
    return 1.0 / (ratio + eps)
