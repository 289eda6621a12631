"""The stronger backbone is torchvision's ResNet-18 with only its stem adapted to 32x32."""

import pytest
import torch
from torch import nn
from torchvision.models import resnet18

from introdl.adaptation.networks import DigitNet
from introdl.adaptation.resnet import resnet18_encoder

STAGES = ("layer1", "layer2", "layer3", "layer4")


def _count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("stem", ["fast", "cifar", "imagenet"])
def test_encoder_maps_32x32_images_to_512_features(stem):
    body, dim = resnet18_encoder(stem)
    assert dim == 512
    assert body(torch.rand(2, 3, 32, 32)).shape == (2, 512)


def test_body_is_torchvisions_resnet18_block_for_block():
    body, _ = resnet18_encoder()
    ref = resnet18(weights=None)
    for name in STAGES:  # the four stages: two BasicBlocks each, same parameter count
        ours, theirs = getattr(body, name), getattr(ref, name)
        assert [type(b).__name__ for b in ours] == ["BasicBlock", "BasicBlock"]
        assert [type(b) for b in ours] == [type(b) for b in theirs]
        assert _count(ours) == _count(theirs)
    # only the stem's first conv differs (3x3 instead of 7x7) and the classifier is gone
    assert body.conv1.kernel_size == (3, 3) and ref.conv1.kernel_size == (7, 7)
    assert _count(body) == _count(ref) - _count(ref.fc) - 64 * 3 * (49 - 9)
    assert isinstance(body.fc, nn.Identity)


def test_fast_stem_reaches_layer1_at_8x8():
    body, _ = resnet18_encoder("fast")
    x = torch.rand(1, 3, 32, 32)
    h = body.maxpool(body.relu(body.bn1(body.conv1(x))))
    assert h.shape[-2:] == (8, 8)


def test_gradients_reach_the_first_convolution_through_digitnet():
    torch.manual_seed(0)
    net = DigitNet(backbone="resnet18")
    assert net.feature_dim == 512
    logits = net(torch.rand(4, 3, 32, 32))
    assert logits.shape == (4, 10)
    nn.functional.cross_entropy(logits, torch.tensor([0, 1, 2, 3])).backward()
    body = net.encoder[1]
    for p in (body.conv1.weight, body.layer1[0].conv1.weight, body.layer4[1].conv2.weight,
              net.head.weight):
        assert p.grad is not None and p.grad.abs().sum() > 0


def test_unknown_stem_is_refused():
    with pytest.raises(ValueError, match="stem"):
        resnet18_encoder("huge")
