"""The Fashion-MNIST dense-network experiment, tiny: it learns, and writes its figures."""

import json

from rich.console import Console

from introdl.experiment import get
from introdl.runner import run_experiment


def test_mlp_quick_run_beats_chance_and_writes_figures(tmp_path):
    sets = {"n_train": 2000, "n_val": 500, "n_test": 1000, "epochs": 1}
    r = run_experiment(get("mlp"), out=tmp_path / "r", quick=True, device="cpu", sets=sets,
                       console=Console(quiet=True), progress=False)
    assert r.metrics["test_acc"] > 0.5  # 10 classes: chance is 0.1
    assert r.metrics["epochs_run"] == 1
    for name in ("training_curves.png", "test_predictions.png", "confusion_matrix.png"):
        assert (tmp_path / "r" / name).stat().st_size > 0
    result = json.loads((tmp_path / "r" / "result.json").read_text())
    assert result["claims"][0]["measured"] == r.metrics["test_acc"]
    assert (tmp_path / "r" / "checkpoints" / "last.pt").exists()
