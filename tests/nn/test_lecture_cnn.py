"""The shared lecture CNN: the optional normalisation keeps the lecture's model by default."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from introdl.nn.lecture_cnn import LectureCNN
from introdl.vision.classify import LectureCNN as VisionLectureCNN


def test_vision_reexports_the_same_class():
    assert VisionLectureCNN is LectureCNN


@pytest.mark.parametrize(("norm", "layer"), [("batch", nn.BatchNorm2d),
                                             ("instance", nn.InstanceNorm2d)])
def test_norm_adds_one_layer_after_each_convolution(norm, layer):
    plain, normed = LectureCNN(3, 32), LectureCNN(3, 32, norm=norm)
    assert not any(isinstance(m, (nn.BatchNorm2d, nn.InstanceNorm2d)) for m in plain.modules())
    kinds = [type(m) for m in normed.features]
    assert kinds.count(layer) == 2 and kinds.index(layer) == 1  # Conv -> Norm -> ReLU
    assert normed(torch.rand(2, 3, 32, 32)).shape == (2, 10)


def test_unknown_norm_is_refused():
    with pytest.raises(ValueError, match="norm"):
        LectureCNN(norm="layer")
