"""GAN losses: least-squares formulas, cycle and identity losses, semantic consistency,
mode seeking."""

import torch
import torch.nn.functional as F
from torch import nn

from introdl.nn.gan_losses import (
    cycle_loss,
    identity_loss,
    lsgan_discriminator_loss,
    lsgan_generator_loss,
    mode_seeking_loss,
    semantic_consistency_loss,
)


def test_lsgan_losses_match_the_formulas_and_their_optima():
    real, fake = torch.tensor([1.0, 0.5]), torch.tensor([0.0, 0.2])
    torch.testing.assert_close(lsgan_discriminator_loss(real, fake),
                               torch.tensor(0.5 * (0.25 / 2) + 0.5 * (0.04 / 2)))
    torch.testing.assert_close(lsgan_generator_loss(fake), torch.tensor((1 + 0.64) / 2))
    ones, zeros = torch.ones(4, 1, 2, 2), torch.zeros(4, 1, 2, 2)
    assert lsgan_discriminator_loss(ones, zeros) == 0  # D perfect
    assert lsgan_generator_loss(ones) == 0  # G fools D
    assert lsgan_discriminator_loss(zeros, ones) == 1  # D entirely wrong


def test_lsgan_matches_torch_mse():
    torch.manual_seed(0)
    r, f = torch.randn(3, 1, 4, 4), torch.randn(3, 1, 4, 4)
    want = 0.5 * (F.mse_loss(r, torch.ones_like(r)) + F.mse_loss(f, torch.zeros_like(f)))
    torch.testing.assert_close(lsgan_discriminator_loss(r, f), want)
    torch.testing.assert_close(lsgan_generator_loss(f), F.mse_loss(f, torch.ones_like(f)))


def test_cycle_loss_is_zero_for_identity_generators_and_positive_otherwise():
    x = torch.rand(3, 3, 8, 8)
    g_st, g_ts = nn.Identity(), nn.Identity()
    assert cycle_loss(x, g_ts(g_st(x))) == 0
    assert identity_loss(x, g_st(x)) == 0
    torch.testing.assert_close(cycle_loss(x, 1 - x), F.l1_loss(1 - x, x))
    assert cycle_loss(x, x + 0.1) > 0.099


def test_semantic_consistency_is_zero_when_labels_agree_and_grows_when_they_do_not():
    labels = torch.tensor([3, 1, 7])
    original = F.one_hot(labels, 10).float() * 5  # the classifier says 3, 1, 7
    same = F.one_hot(labels, 10).float() * 100  # translated: confidently the same labels
    other = F.one_hot(torch.tensor([2, 1, 7]), 10).float() * 100  # first label changed
    assert semantic_consistency_loss(same, original) < 1e-6
    assert semantic_consistency_loss(other, original) > 30
    soft = torch.randn(3, 10)
    torch.testing.assert_close(semantic_consistency_loss(soft, original),
                               F.cross_entropy(soft, labels))


def test_semantic_loss_sends_no_gradient_into_the_original_logits():
    original = torch.randn(4, 10, requires_grad=True)
    translated = torch.randn(4, 10, requires_grad=True)
    semantic_consistency_loss(translated, original).backward()
    assert original.grad is None and translated.grad is not None


def test_mode_seeking_loss_is_msgans_ratio_and_pushes_two_draws_apart():
    z_a, z_b = torch.zeros(2, 1, 4, 4), torch.full((2, 1, 4, 4), 0.5)
    a = torch.zeros(2, 3, 4, 4)
    b = torch.full((2, 3, 4, 4), 0.2, requires_grad=True)
    loss = mode_seeking_loss(a, b, z_a, z_b)
    torch.testing.assert_close(loss, torch.tensor(1 / (0.2 / 0.5 + 1e-5)))
    loss.backward()
    assert (b.grad < 0).all()  # gradient descent moves b further from a
    same = mode_seeking_loss(a, a.clone(), z_a, z_b)
    assert same > 1e4 > loss  # the same image for two noise draws: a large loss
