"""Gradient reversal and the domain discriminator (introdl.nn.adversarial)."""

import pytest
import torch

from introdl.nn.adversarial import DomainDiscriminator, GradientReversal, grad_reverse


def _grad(x: torch.Tensor, f) -> torch.Tensor:
    x = x.clone().requires_grad_(True)
    (f(x) * torch.arange(1.0, x.numel() + 1).view_as(x)).sum().backward()
    return x.grad


@pytest.mark.parametrize("lam", [1.0, 0.25, 3.0])
def test_reversal_is_identity_forward_and_flips_scaled_gradient_backward(lam):
    x = torch.randn(4, 3)
    assert torch.equal(grad_reverse(x, lam), x)
    plain = _grad(x, lambda v: v)
    reversed_ = _grad(x, lambda v: grad_reverse(v, lam))
    torch.testing.assert_close(reversed_, -lam * plain)
    assert (reversed_ * plain < 0).all()  # every component's sign flipped


def test_module_reads_its_current_lambda():
    layer = GradientReversal(0.5)
    x = torch.randn(5, 2)
    g1 = _grad(x, layer)
    layer.lam = 2.0  # training ramps lambda up; the next backward must use the new value
    g2 = _grad(x, layer)
    torch.testing.assert_close(g2, 4.0 * g1)


def test_reversal_composes_with_a_loss_chain():
    w = torch.randn(3, requires_grad=True)
    x = torch.randn(6, 3)
    (torch.sigmoid(x @ w)).sum().backward()
    g_plain = w.grad.clone()
    w.grad = None
    (torch.sigmoid(grad_reverse(x @ w, 0.7))).sum().backward()
    torch.testing.assert_close(w.grad, -0.7 * g_plain)


def test_discriminator_shapes_and_dropout():
    d = DomainDiscriminator(16, hidden=8, dropout=0.5)
    z = torch.randn(32, 16)
    assert d(z).shape == (32,)
    d.eval()
    torch.testing.assert_close(d(z), d(z))  # no dropout in eval
    d.train()
    torch.manual_seed(0)
    assert not torch.allclose(d(z), d(z))  # dropout active in training
