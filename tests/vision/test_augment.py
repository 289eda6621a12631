"""RandomShiftFlip: per-example shifts and flips in training, identity in eval."""

from __future__ import annotations

import pytest
import torch

from introdl.vision.augment import RandomShiftFlip


def dots(n: int = 64, size: int = 9) -> torch.Tensor:
    x = torch.zeros(n, 2, size, size)
    x[:, :, 4, 4] = 1.0  # one bright pixel in the middle, both channels
    return x


def test_eval_mode_is_the_identity():
    a = RandomShiftFlip(2).eval()
    x = torch.rand(8, 1, 28, 28)
    assert torch.equal(a(x), x)


def test_shift_moves_each_image_by_at_most_shift_pixels_independently():
    torch.manual_seed(0)
    y = RandomShiftFlip(shift=2, flip=False)(dots())
    assert y.shape == (64, 2, 9, 9)
    where = [tuple((img[0] == 1).nonzero()[0].tolist()) for img in y]
    assert all(abs(r - 4) <= 2 and abs(c - 4) <= 2 for r, c in where)
    assert len(set(where)) >= 15  # per example: most of the 25 offsets appear in 64 draws
    assert torch.equal(y[:, 0], y[:, 1])  # both channels move together
    assert y.sum() == 64 * 2  # nothing lost or duplicated (the dot stays inside)


def test_shifted_out_content_is_replaced_by_zeros_not_wrapped():
    x = torch.zeros(200, 1, 5, 5)
    x[:, :, :, 0] = 1.0  # the left column
    torch.manual_seed(1)
    y = RandomShiftFlip(shift=1, flip=False)(x)
    moved_right = y[:, 0, 2, 1] == 1
    assert moved_right.any()
    assert (y[moved_right, 0, :, 0] == 0).all()  # the vacated column is zero-filled
    assert (y[:, 0, :, 4] == 0).all()  # nothing wraps around to the right edge


def test_flip_mirrors_about_half_of_the_images_left_right():
    x = torch.arange(5.0).repeat(400, 1, 5, 1)  # each row 0 1 2 3 4
    torch.manual_seed(2)
    y = RandomShiftFlip(shift=0, flip=True)(x)
    flipped = (y[:, 0, 0] == torch.tensor([4.0, 3, 2, 1, 0])).all(1)
    kept = (y[:, 0, 0] == torch.arange(5.0)).all(1)
    assert (flipped | kept).all()
    assert 0.4 < flipped.float().mean() < 0.6


def test_negative_shift_is_refused():
    with pytest.raises(ValueError, match="shift"):
        RandomShiftFlip(-1)
