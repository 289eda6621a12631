"""The regularization experiment: three runs from one init; early stopping restores the best."""

import json

from rich.console import Console

from introdl.experiment import get
from introdl.runner import run_experiment


def test_regularization_runs_restore_best_and_dropout_slows_memorising(tmp_path):
    sets = {"n_train": 100, "n_val": 100, "n_test": 300, "hidden": (128, 128), "epochs": 10,
            "batch_size": 10, "lr": 3e-3, "patience": 3}
    r = run_experiment(get("regularization"), out=tmp_path / "r", quick=True, device="cpu",
                       sets=sets, console=Console(quiet=True), progress=False)
    m = r.metrics
    # The weights left after early stopping score exactly the best validation loss seen.
    assert m["restored_is_best"] == 1.0
    assert 1 <= m["early_stop_best_epoch"] <= m["epochs_early_stop"] <= 10
    assert m["epochs_plain"] == m["epochs_dropout"] == 10
    # Early stopping scores its best epoch; plain and dropout score their last.
    assert m["early_stop_test_gain"] == m["test_loss_plain"] - m["test_loss_early_stop"]
    assert all(0.1 < m[f"test_acc_{k}"] <= 1.0 for k in ("plain", "dropout", "early_stop"))

    log = [json.loads(line) for line in (tmp_path / "r" / "metrics.jsonl").read_text().splitlines()]
    train = {k: [rec["train_loss"] for rec in log if rec.get("run") == k]
             for k in ("plain", "dropout")}
    assert train["plain"][-1] < train["plain"][0] / 4  # the big net memorises its 100 images
    assert train["dropout"][-1] > train["plain"][-1]  # dropout makes memorising harder
    assert (tmp_path / "r" / "regularization_curves.png").stat().st_size > 0
