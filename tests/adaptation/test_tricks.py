"""AdaBN, pseudo-labelling and source augmentation: the da-tricks building blocks."""

from types import SimpleNamespace

import pytest
import torch
from torch import nn

from introdl.adaptation.adabn import adapt_batch_norm, batch_norm_layers
from introdl.adaptation.augment import AugmentConfig, augment, luminance, random_affine
from introdl.adaptation.experiments.da_tricks import DaTricksConfig, adapted_nets
from introdl.adaptation.networks import DigitNet
from introdl.adaptation.pseudo_label import PseudoLabelConfig, select_confident, train_pseudo_label
from introdl.adaptation.train import Budget
from introdl.errors import UsageError

OFF = AugmentConfig(shift=0, scale=0, rotate=0, p_thick=0, p_thin=0, p_lowres=0,
                    p_gray=0, p_paint=0, p_shuffle=0,
                    p_invert=0, jitter=0, p_blur=0, noise=0)


def _bn_inputs(model: nn.Module, x: torch.Tensor) -> list[torch.Tensor]:
    """What each BN layer sees in a train-mode pass over ``x`` (as AdaBN's pass does)."""
    seen = []
    hooks = [bn.register_forward_hook(lambda m, i, o: seen.append(i[0].detach()))
             for bn in batch_norm_layers(model)]
    model.train()
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return seen


# ---- AdaBN ---------------------------------------------------------------------------------

def test_adabn_sets_running_stats_to_the_target_batch_statistics():
    torch.manual_seed(0)
    model = DigitNet(norm="batch").eval()
    x_t = 0.3 + 0.5 * torch.rand(40, 3, 32, 32)  # a "target" with its own brightness
    before = [bn.running_mean.clone() for bn in batch_norm_layers(model)]
    inputs = _bn_inputs(model, x_t)
    model.eval()
    adapt_batch_norm(model, x_t)
    for bn, h, old in zip(batch_norm_layers(model), inputs, before, strict=True):
        assert torch.allclose(bn.running_mean, h.mean((0, 2, 3)), atol=1e-5)
        assert torch.allclose(bn.running_var, h.var((0, 2, 3), unbiased=True), rtol=1e-4)
        assert not torch.allclose(bn.running_mean, old)  # it did change
        assert bn.momentum == 0.1  # restored
    assert not model.training  # mode restored


def test_adabn_averages_over_batches_and_leaves_weights_untouched():
    torch.manual_seed(1)
    model = DigitNet(norm="batch")
    weights = {k: v.clone() for k, v in model.named_parameters()}
    x_t = torch.rand(64, 3, 32, 32)
    first_bn_input = _bn_inputs(model, x_t)[0]  # independent of BN statistics upstream
    adapt_batch_norm(model, x_t, batch_size=16)  # four equal batches, cumulative average
    bn = batch_norm_layers(model)[0]
    assert torch.allclose(bn.running_mean, first_bn_input.mean((0, 2, 3)), atol=1e-5)
    for k, v in model.named_parameters():
        assert torch.equal(v, weights[k]), k


def test_adabn_weighs_every_image_alike_when_the_size_does_not_divide():
    torch.manual_seed(2)
    model = DigitNet(norm="batch")
    x_t = torch.rand(70, 3, 32, 32)  # batch 32: chunks 24 + 23 + 23, not 32 + 32 + 6
    x_t[64:] *= 0.3  # the last 6 are darker: as a batch of their own they would weigh 1/3
    first_bn_input = _bn_inputs(model, x_t)[0]
    adapt_batch_norm(model, x_t, batch_size=32)
    bn = batch_norm_layers(model)[0]
    # equal chunks: within 5e-3 of the mean over all 70 (32 + 32 + 6 batches: off by 0.25)
    assert torch.allclose(bn.running_mean, first_bn_input.mean((0, 2, 3)), atol=5e-3)


def test_adabn_refuses_a_network_without_batch_norm():
    with pytest.raises(ValueError, match="batch norm"):
        adapt_batch_norm(DigitNet(), torch.rand(4, 3, 32, 32))


# ---- pseudo-labels -------------------------------------------------------------------------

def test_select_confident_keeps_exactly_the_predictions_above_the_threshold():
    logits = torch.tensor([[5.0, 0, 0], [1.0, 1.1, 0], [0, 0, 9.0], [0, 2.0, 0]])
    idx, labels, conf = select_confident(nn.Identity(), logits, threshold=0.9)
    p = logits.softmax(1)
    assert torch.allclose(conf, p.max(1).values)
    assert idx.tolist() == [i for i in range(4) if p[i].max() >= 0.9] == [0, 2]
    assert labels.tolist() == [0, 2]  # the model's own argmax, the only "label" it has


def test_pseudo_label_training_never_reads_target_labels():
    class UnlabelledTarget(SimpleNamespace):  # a Domain whose labelled parts explode
        def __getattr__(self, name):
            raise AssertionError(f"pseudo-labelling read target.{name}")

    torch.manual_seed(0)
    src = SimpleNamespace(x_train=torch.rand(32, 3, 32, 32), y_train=torch.arange(32) % 10)
    tgt = UnlabelledTarget(x_adapt=torch.rand(24, 3, 32, 32))
    nets = {"source_only": DigitNet(), "batch_norm": DigitNet(norm="batch")}
    cfg = DaTricksConfig(tricks="adabn,pseudo", threshold=0.0, rounds=2, round_steps=2)
    out, selected = adapted_nets(nets, src, tgt, Budget(steps=2, batch_size=8), 0, cfg)
    assert set(out) == {"adabn", "pseudo_label"}
    assert selected == 24  # threshold 0: every target image gets a pseudo-label


def test_pseudo_label_rounds_report_selection_and_train_the_model():
    torch.manual_seed(0)
    model = DigitNet()
    before = model.head.weight.clone()
    xs, ys = torch.rand(32, 3, 32, 32), torch.arange(32) % 10
    counts = train_pseudo_label(model, xs, ys, torch.rand(16, 3, 32, 32),
                                Budget(batch_size=8), 0,
                                PseudoLabelConfig(rounds=3, threshold=1.01, steps=2))
    assert counts == [0, 0, 0]  # nothing reaches probability > 1: source batches only
    assert not torch.equal(model.head.weight, before)


# ---- augmentation --------------------------------------------------------------------------

def test_augment_keeps_shape_and_range_and_is_seeded():
    x = torch.rand(16, 3, 32, 32)
    a = augment(x, torch.Generator().manual_seed(3))
    b = augment(x, torch.Generator().manual_seed(3))
    c = augment(x, torch.Generator().manual_seed(4))
    assert a.shape == x.shape and a.min() >= 0 and a.max() <= 1
    assert torch.equal(a, b)
    assert not torch.allclose(a, c)
    assert not torch.allclose(a, x)


def test_augment_with_everything_off_is_the_identity_and_inversion_is_one_minus_x():
    x = torch.rand(6, 3, 32, 32)
    g = torch.Generator().manual_seed(0)
    assert torch.allclose(augment(x, g, OFF), x, atol=1e-6)
    inv = AugmentConfig(**{**OFF.__dict__, "p_invert": 1.0})
    assert torch.allclose(augment(x, g, inv), 1 - x, atol=1e-6)
    gray = AugmentConfig(**{**OFF.__dict__, "p_gray": 1.0})
    y = augment(x, g, gray)
    assert torch.allclose(y, luminance(x).expand_as(x), atol=1e-6)


def test_affine_shift_moves_a_dot():
    x = torch.zeros(1, 3, 32, 32)
    x[..., 16, 16] = 1.0
    cfg = AugmentConfig(shift=0.2, scale=0, rotate=0)
    y = random_affine(x, torch.Generator().manual_seed(0), cfg)
    assert y.sum() > 0 and y[..., 16, 16].max() < 1.0  # the dot moved away from the centre


def test_da_tricks_config_refuses_unknown_trick():
    with pytest.raises(UsageError, match="tricks"):
        DaTricksConfig(tricks="adabn,magic").validate()


@pytest.mark.parametrize("fields, match", [
    ({"source": "mnist5k", "target": "mnist-m,mnist-m"}, "twice"),
    ({"source": "mnist5k", "target": "mnist-m,uci-digitz"}, "unknown domain 'uci-digitz'"),
    ({"source": "mnist5k", "target": "mnist5k"}, "both 'mnist5k'"),
    ({"source": "", "target": "mnist-m"}, "set both"),
])
def test_da_tricks_config_refuses_bad_pairs_before_training(fields, match):
    with pytest.raises(UsageError, match=match):
        DaTricksConfig(**fields).validate()
