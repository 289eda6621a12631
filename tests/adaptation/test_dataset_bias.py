"""End to end: the dataset-bias experiment writes its matrix, figures and the numbers it claims."""

from __future__ import annotations

import json

import pytest
from rich.console import Console

from introdl.errors import UsageError
from introdl.experiment import get
from introdl.runner import run_experiment


def test_tiny_run_writes_the_accuracy_matrix_and_figures(tmp_path):
    out = tmp_path / "r"
    run_experiment(get("dataset-bias"), out=out, quick=True, device="cpu",
                   sets=["domains=mnist5k,uci-digits", "steps=30", "seeds=1"],
                   console=Console(quiet=True), progress=False)
    m = json.loads((out / "metrics.json").read_text())
    for key in ("acc_mnist5k_to_uci_digits", "acc_uci_digits_to_mnist5k", "in_domain_mnist5k",
                "silhouette_gap", "in_domain_over_linear", "min_drop_uci_mnist"):
        assert key in m
    assert m["mean_cross_domain_drop"] == pytest.approx(
        (m["in_domain_mnist5k"] - m["acc_mnist5k_to_uci_digits"]
         + m["in_domain_uci_digits"] - m["acc_uci_digits_to_mnist5k"]) / 2)
    table = (out / "accuracy_matrix.md").read_text()
    assert "**mnist5k**" in table and "uci-digits" in table
    for name in ("accuracy_matrix.png", "domains.png", "tsne.png"):
        assert (out / name).stat().st_size > 5_000


def test_half_a_pair_is_refused_in_one_line(tmp_path):
    with pytest.raises(UsageError, match="set both"):
        run_experiment(get("dataset-bias"), out=tmp_path / "r", quick=True, device="cpu",
                       sets=["source=svhn"], console=Console(quiet=True), progress=False)
