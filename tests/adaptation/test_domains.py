"""The digit domains: shapes, ranges, fixed disjoint splits, labels that match the pictures."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from introdl.adaptation.domains import (
    PAIRS,
    load_domain,
    split_indices,
    to_tensor,
)
from introdl.adaptation.domains.handwritten import mnist5k_arrays, pad_to, resize, uci_arrays
from introdl.adaptation.domains.photos import blend_into_photos
from introdl.data import load_arrays
from introdl.errors import DataUnavailable, UsageError


def test_split_is_a_fixed_partition_in_the_stated_shares():
    a = split_indices(1000)
    b = split_indices(1000)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    tr, ad, te = a
    assert (len(tr), len(ad), len(te)) == (600, 200, 200)
    assert np.array_equal(np.sort(np.concatenate(a)), np.arange(1000))


def test_to_tensor_gives_three_channels_in_unit_range():
    gray = np.full((2, 32, 32), 255, np.uint8)
    rgb = np.zeros((2, 32, 32, 3), np.uint8)
    rgb[..., 2] = 51
    g, c = to_tensor(gray), to_tensor(rgb)
    assert g.shape == c.shape == (2, 3, 32, 32)
    assert torch.all(g == 1.0)
    assert torch.allclose(c[:, 2], torch.full((2, 32, 32), 0.2)) and torch.all(c[:, :2] == 0)


@pytest.mark.parametrize("name", ["mnist5k", "uci-digits", "mnist-m"])
def test_offline_domain_parts_have_the_common_format(name):
    d = load_domain(name)
    for x in (d.x_train, d.x_adapt, d.x_test):
        assert x.shape[1:] == (3, 32, 32) and x.dtype == torch.float32
        assert 0.0 <= x.min() and x.max() <= 1.0
    assert len(d.y_train) == len(d.x_train) and len(d.y_test) == len(d.x_test)
    assert set(d.y_train.tolist()) == set(range(10)) == set(d.y_test.tolist())
    assert not hasattr(d, "y_adapt")  # the adaptation part carries no labels


def test_mnist5k_is_mlxtends_digits_padded_and_uci_is_sklearns_digits_enlarged():
    X, y = mnist5k_arrays()
    assert X.shape == (5000, 32, 32) and np.bincount(y).tolist() == [500] * 10
    assert X[:, :2].max() == 0 and X[:, :, :2].max() == 0  # the 2-pixel frame is empty
    U, uy = uci_arrays()
    assert U.shape == (1797, 32, 32) and U[:, :4].max() == 0
    from sklearn.datasets import load_digits

    small = resize(U[:, 4:28, 4:28].astype(np.float32), 8).reshape(1797, -1)  # back to 8x8
    orig = load_digits().images.reshape(1797, -1)
    r = [np.corrcoef(a, b)[0, 1] for a, b in zip(small, orig, strict=True)]
    assert np.mean(r) > 0.95  # the same ink pattern, blurred by the round trip
    assert np.array_equal(uy, load_digits().target)


def test_mnist5k_is_read_once_and_cannot_be_changed_by_a_caller():
    X, y = mnist5k_arrays()
    assert mnist5k_arrays()[0] is X  # one parse per process
    with pytest.raises(ValueError, match="read-only"):
        X[0, 0, 0] = 255
    with pytest.raises(ValueError, match="read-only"):
        y[0] = 3


def test_pad_to_centres_the_image():
    out = pad_to(np.full((1, 28, 28), 7, np.uint8))
    assert out.shape == (1, 32, 32) and out[0, 2:30, 2:30].min() == 7 and out.sum() == 7 * 784


def test_mnist_m_is_the_absolute_difference_of_photo_patch_and_digit():
    digits = np.zeros((3, 32, 32), np.uint8)
    digits[:, 10:20, 10:20] = 255
    out = blend_into_photos(digits, seed=0)
    again = blend_into_photos(digits, seed=0)
    assert out.shape == (3, 32, 32, 3) and np.array_equal(out, again)
    # the photo shows through the background; the stroke inverts it: |p - 255| = 255 - p
    patch_bg = out[:, 0:5, 0:5].astype(int)
    assert patch_bg.std() > 0
    # mnist-m and mnist5k share their split, so the labels line up image for image
    m, d = load_domain("mnist-m"), load_domain("mnist5k")
    assert torch.equal(m.y_test, d.y_test) and torch.equal(m.y_train, d.y_train)


def test_registered_as_datasets_for_data_list():
    X, y = load_arrays("uci-digits", "test")
    assert X.shape == (360, 32, 32, 3) and X.dtype == np.uint8 and y.shape == (360,)


def test_unknown_domain_is_a_usage_error_naming_the_choices():
    with pytest.raises(UsageError, match="unknown domain 'mnist-n'.*mnist-m"):
        load_domain("mnist-n")


def test_a_downloaded_domain_that_is_not_here_says_what_to_do(monkeypatch, tmp_path):
    monkeypatch.setenv("INTRODL_DATA", str(tmp_path / "mirror"))
    monkeypatch.setenv("INTRODL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("INTRODL_OFFLINE", "1")
    with pytest.raises(DataUnavailable, match="svhn"):
        load_domain("svhn")


def test_every_offline_pair_names_two_known_domains():
    from introdl.adaptation.domains import OFFLINE

    assert all(s in OFFLINE and t in OFFLINE and s != t for s, t in PAIRS)


@pytest.mark.parametrize("experiment", ["dann", "cycada"])
def test_the_lectures_pair_without_its_files_is_one_line_and_exit_2(experiment, monkeypatch,
                                                                    tmp_path, capsys):
    from introdl.cli import main

    monkeypatch.setenv("INTRODL_DATA", str(tmp_path / "mirror"))
    monkeypatch.setenv("INTRODL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("INTRODL_OFFLINE", "1")
    argv = ["run", experiment, "--quick", "--set", "source=svhn", "--set", "target=mnist",
            "--out", str(tmp_path / "run")]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "svhn" in err[0] and "INTRODL_DATA" in err[0]
    assert "Traceback" not in err[0]
