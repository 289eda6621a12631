"""Train/validation/test tensors for Lecture 1's experiments."""

import pytest
import torch

from introdl.errors import UsageError
from introdl.foundations.image_splits import image_splits


def test_sizes_range_and_dtypes():
    d = image_splits("digits", n_train=500, n_val=200, n_test=100)
    assert (len(d.train), len(d.val), len(d.test)) == (500, 200, 100)
    x, y = d.train.tensors
    assert x.dtype == torch.float32 and y.dtype == torch.int64
    assert d.image_shape == (8, 8) and d.in_features == 64
    assert 0.0 <= float(x.min()) and float(x.max()) == 1.0  # digits' 0..16 scaled to [0, 1]


def test_validation_comes_from_train_split_and_is_seeded():
    a = image_splits("digits", n_val=300, seed=1)
    b = image_splits("digits", n_val=300, seed=1)
    c = image_splits("digits", n_val=300, seed=2)
    assert len(a.train) + len(a.val) == 1347  # the whole training split, nothing lost
    assert len(a.test) == 450  # the test split untouched
    torch.testing.assert_close(a.val.tensors[0], b.val.tensors[0])
    assert not torch.equal(a.val.tensors[0], c.val.tensors[0])
    assert image_splits("digits").val is None


def test_asking_for_too_many_images_is_a_usage_error():
    with pytest.raises(UsageError, match="ask for fewer"):
        image_splits("digits", n_train=1300, n_val=100)
