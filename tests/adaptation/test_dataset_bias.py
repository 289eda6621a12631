"""End to end: the dataset-bias experiment writes its matrix, figures and the numbers it claims."""

from __future__ import annotations

import json

import pytest
from rich.console import Console

from introdl.adaptation.experiments.dataset_bias import DatasetBiasConfig
from introdl.errors import UsageError
from introdl.experiment import get
from introdl.runner import run_experiment


def test_tiny_run_writes_the_accuracy_matrix_and_figures(tmp_path):
    out = tmp_path / "r"
    run_experiment(get("dataset-bias"), out=out, quick=True, device="cpu",
                   sets=["domains=mnist5k,uci-digits", "steps=30", "seeds=2"],
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
    # max_in_domain_std is the sample std over seeds, the one the table shows (to 3 decimals)
    rows = [line.split("|")[2:-1] for line in table.splitlines() if line.startswith("| **")]
    diag_std = [float(row[i].split("±")[1]) for i, row in enumerate(rows)]
    assert len(diag_std) == 2
    assert m["max_in_domain_std"] == pytest.approx(max(diag_std), abs=5e-4 + 1e-9)
    for name in ("accuracy_matrix.png", "domains.png", "tsne.png"):
        assert (out / name).stat().st_size > 5_000


def test_half_a_pair_is_refused_in_one_line(tmp_path):
    with pytest.raises(UsageError, match="set both"):
        run_experiment(get("dataset-bias"), out=tmp_path / "r", quick=True, device="cpu",
                       sets=["source=svhn"], console=Console(quiet=True), progress=False)


@pytest.mark.parametrize("sets, match", [
    (["source=mnist5k", "target=mnist5k"], r"--set target=mnist5k .*both 'mnist5k'"),
    (["domains=mnist5k,uci-digits,mnist5k"], r"--set domains=.*none twice"),
    (["tsne_source=syndigits", "tsne_target=uci-digits"],  # quick: mnist5k,uci-digits,mnist-m
     r"--set tsne_source=syndigits .*one of the domains this run trains: mnist5k, uci-digits"),
    (["tsne_source=mnist5k", "tsne_target=uci-digit"], r"--set tsne_target=uci-digit "),
    (["tsne_source=mnist5k"], "set both --set tsne_source=NAME and --set tsne_target=NAME"),
    (["tsne_source=mnist5k", "tsne_target=mnist5k"], "must differ from tsne_source"),
])
def test_bad_settings_are_refused_in_one_line(tmp_path, sets, match):
    with pytest.raises(UsageError, match=match):
        run_experiment(get("dataset-bias"), out=tmp_path / "r", quick=True, device="cpu",
                       sets=sets, console=Console(quiet=True), progress=False)
    assert not (tmp_path / "r" / "metrics.json").exists()  # refused before any training


def test_tsne_pair_defaults_to_mnist5k_on_uci_digits_else_the_first_two():
    assert DatasetBiasConfig().tsne_pair() == ("mnist5k", "uci-digits")
    assert DatasetBiasConfig(domains="uci-digits,mnist5k").tsne_pair() == ("mnist5k",
                                                                            "uci-digits")
    assert DatasetBiasConfig(domains="syndigits,mnist-m").tsne_pair() == ("syndigits", "mnist-m")
    assert DatasetBiasConfig(source="svhn", target="mnist").tsne_pair() == ("svhn", "mnist")
    cfg = DatasetBiasConfig(tsne_source="mnist-m", tsne_target="syndigits")
    cfg.validate()
    assert cfg.tsne_pair() == ("mnist-m", "syndigits")
