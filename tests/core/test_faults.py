"""Faults a fault-injection run found (issue section 5): each is one line, exit 2, nothing lost.

Range checks, unreadable checkpoints on --resume, a full disk, two processes on one
--out, --resume with a changed config or nothing to resume, a kill between the log and
the checkpoint, and a failure before training that must not block a plain rerun.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from rich.console import Console
from torch import nn
from torch.utils.data import TensorDataset

from introdl import experiment as registry
from introdl import io
from introdl.cli import main
from introdl.engine import TrainConfig, fit
from introdl.errors import FolderInUse, UsageError
from introdl.experiment import Claim, experiment, get
from introdl.run import Run
from introdl.runner import run_experiment

QUIET = Console(quiet=True)


def _err_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    return err


@dataclass
class FitToyConfig:
    epochs: int = 3  # passes over 32 examples
    batch_size: int = 8
    lr: float = 0.1


@pytest.fixture
def fittoy():
    """An experiment that trains with ``fit``, checkpointing into the run folder."""
    registry.load_all()
    before = dict(registry._REGISTRY)

    @experiment(name="fittoy", lecture=0, title="fit on a toy problem",
                claims=[Claim("the loss is finite", metric="final_loss", expected=1e9,
                              compare="<")],
                quick={"epochs": 2})
    def fittoy_exp(cfg: FitToyConfig, run: Run) -> dict[str, float]:
        g = torch.Generator().manual_seed(0)
        x = torch.randn(32, 4, generator=g)
        ds = TensorDataset(x, (x[:, 0] > 0).long())
        torch.manual_seed(0)
        model = nn.Linear(4, 2)
        hist = fit(model, nn.CrossEntropyLoss(), ds,
                   TrainConfig(epochs=cfg.epochs, batch_size=cfg.batch_size, lr=cfg.lr,
                               optimizer="sgd", seed=run.seed),
                   checkpoint_dir=run.checkpoint_dir, resume=run.resume, log=run.log,
                   progress=False)
        return {"final_loss": hist.train_loss[-1]}

    yield registry._REGISTRY["fittoy"]
    registry._REGISTRY.clear()
    registry._REGISTRY.update(before)


def _epochs_logged(out: Path) -> list[int]:
    lines = (out / "metrics.jsonl").read_text().splitlines()
    return [json.loads(line)["epoch"] for line in lines]


# -- range checks ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["run", "mlp", "--set", "n_val=-10"], "n_val=-10 is out of range: must be 0 or more"),
        (["run", "mlp", "--set", "epochs=0"], "epochs=0 is out of range: must be at least 1"),
        (["run", "mlp", "--set", "epochs=100000000"], "must be at most 1,000,000"),
        (["run", "mlp", "--set", "batch_size=0"], "batch_size=0 is out of range"),
        (["run", "mlp", "--set", "lr=0"], "lr=0.0 is out of range: must be above 0"),
        (["run", "mlp", "--set", "lr=inf"], "lr=inf is out of range: must be a finite number"),
        (["run", "minibatch", "--set", "dataset=cifar"], "must be one of fashion-mnist, digits"),
        (["run", "mlp", "--seed", "-1"], "--seed -1 is out of range"),
        (["run", "mlp", "--seed", str(2**32)], "from 0 to 4294967295"),
        (["run", "cnn-classifier", "--set", "schedule=linear"],
         "schedule=linear is out of range: use one of none, cosine, step, exponential, onecycle"),
        (["run", "cnn-classifier", "--set", "label_smoothing=1"], "must be at least 0 and below 1"),
        (["run", "cnn-classifier", "--set", "precision=fp16"], "must be one of fp32, bf16, auto"),
        (["run", "cnn-classifier", "--set", "augment_shift=-1"], "augment_shift=-1 is out of"),
    ],
)
def test_range_errors_are_one_line_before_the_run_folder_or_data(tmp_path, capsys, monkeypatch,
                                                                  argv, fragment):
    import introdl.foundations.image_splits as splits

    def no_data(*a, **k):
        raise AssertionError("data loaded before the config was checked")

    monkeypatch.setattr(splits, "load_arrays", no_data)
    out = tmp_path / "r"
    assert main([*argv, "--out", str(out)]) == 2
    assert fragment in _err_line(capsys)
    assert not out.exists()  # refused before the folder was made, let alone the data read


def test_seed_range_is_checked_by_the_python_api(toy, tmp_path):
    for seed in (-1, 2**32):
        with pytest.raises(UsageError, match="out of range"):
            run_experiment(toy, out=tmp_path / "r", seed=seed, device="cpu", console=QUIET)
    r = run_experiment(toy, out=tmp_path / "r", seed=2**32 - 1, device="cpu", console=QUIET)
    assert r.passed
    with pytest.raises(UsageError, match="value=nan is out of range"):
        run_experiment(toy, out=tmp_path / "s", sets={"value": float("nan")}, console=QUIET)


def test_requested_sizes_must_fit_the_data():
    from introdl.foundations.image_splits import image_splits
    from introdl.vision.experiments.cnn_classifier import CNNClassifierConfig, _data

    with pytest.raises(UsageError, match=r"n_test=5000 is out of range: digits has 450 test"):
        image_splits("digits", n_test=5000)
    with pytest.raises(UsageError, match="no training images left"):
        image_splits("digits", n_train=0)
    with pytest.raises(UsageError, match="no training images left"):
        image_splits("digits", n_val=1347)  # everything went to validation
    with pytest.raises(UsageError, match="n_val=-10 is out of range"):
        image_splits("digits", n_val=-10)
    with pytest.raises(UsageError, match="train_size=5000 is out of range: digits has 1347"):
        _data("digits", CNNClassifierConfig(train_size=5000), seed=0)
    with pytest.raises(UsageError, match="test_size=451 is out of range: digits has 450 test"):
        _data("digits", CNNClassifierConfig(test_size=451), seed=0)
    assert len(_data("digits", CNNClassifierConfig(test_size=450), seed=0)["y_test"]) == 450


# -- unreadable checkpoints on --resume -------------------------------------------------------

class NotAllowed:
    """A class the weights-only unpickler refuses."""


def _truncated(p: Path) -> None:
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])


def _empty(p: Path) -> None:
    p.write_bytes(b"")


def _foreign_pickle(p: Path) -> None:
    torch.save({"model": NotAllowed()}, p)


def _not_ours(p: Path) -> None:
    torch.save({"weights": torch.zeros(3)}, p)  # loads fine, but holds no training state


@pytest.mark.parametrize("damage, reason", [
    (_truncated, "truncated or not a torch checkpoint"),
    (_empty, "the file is empty"),
    (_foreign_pickle, "refuses to unpickle"),
    (_not_ours, "does not fit this training run"),
])
def test_unreadable_checkpoint_on_resume_is_one_line_naming_it(fittoy, tmp_path, capsys,
                                                               damage, reason):
    out = tmp_path / "r"
    assert main(["run", "fittoy", "--out", str(out), "--device", "cpu"]) == 0
    config = (out / "config.json").read_bytes()
    last = out / "checkpoints" / "last.pt"
    damage(last)
    capsys.readouterr()
    assert main(["run", "fittoy", "--out", str(out), "--device", "cpu", "--resume"]) == 2
    err = _err_line(capsys)
    assert str(last) in err and reason in err and "--force" in err
    assert "weights_only" not in err
    assert (out / "config.json").read_bytes() == config  # nothing rewritten


# -- a full disk --------------------------------------------------------------------------------

needs_dev_full = pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")


def _full_for(monkeypatch, name: str) -> None:
    """Every atomic write of ``name`` from now on hits ENOSPC (its temp file is /dev/full)."""
    real_mkstemp = tempfile.mkstemp

    def mkstemp(*a, prefix="", **k):
        fd, path = real_mkstemp(*a, prefix=prefix, **k)
        if prefix.startswith(f".{name}."):
            os.close(fd)
            fd = os.open("/dev/full", os.O_WRONLY)
        return fd, path

    monkeypatch.setattr(io.tempfile, "mkstemp", mkstemp)


@needs_dev_full
def test_full_disk_while_saving_a_checkpoint_keeps_the_old_one(tmp_path, monkeypatch):
    from introdl.engine import checkpoint
    from introdl.errors import DiskFull

    path = tmp_path / "last.pt"
    checkpoint.save(path, {"w": torch.ones(3)})
    before = path.read_bytes()
    _full_for(monkeypatch, "last.pt")
    with pytest.raises(DiskFull, match=f"no space left on the device while writing {path}"):
        checkpoint.save(path, {"w": torch.zeros(100_000)})
    assert path.read_bytes() == before  # the previous checkpoint is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.pt"]  # no temp file left


@needs_dev_full
def test_full_disk_during_a_run_is_one_line(fittoy, tmp_path, capsys, monkeypatch):
    out = tmp_path / "r"
    _full_for(monkeypatch, "last.pt")
    assert main(["run", "fittoy", "--out", str(out), "--device", "cpu"]) == 2
    err = _err_line(capsys)
    assert "no space left" in err and str(out / "checkpoints" / "last.pt") in err
    assert "free some space" in err


@needs_dev_full
def test_full_disk_while_logging_is_one_line():
    from introdl.errors import DiskFull

    with pytest.raises(DiskFull, match="no space left on the device while writing /dev/full"):
        io.append_line("/dev/full", "x" * 10_000)


# -- two processes, one --out -----------------------------------------------------------------

HOLD = ("import sys; from introdl import io; lock = io.lock_folder(sys.argv[1]); "
        "print('locked', flush=True); sys.stdin.read()")


def test_a_second_process_on_the_same_out_is_refused(toy, tmp_path, capsys):
    out = tmp_path / "r"
    out.mkdir()
    child = subprocess.Popen([sys.executable, "-c", HOLD, str(out)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "locked"
        assert main(["run", "toy", "--out", str(out), "--device", "cpu"]) == 2
        err = _err_line(capsys)
        assert f"in use by another introdl process (pid {child.pid})" in err
        assert "--out DIR" in err
        assert not (out / "config.json").exists()  # the refused process wrote nothing
        assert main(["run", "toy", "--out", str(out), "--force"]) == 2  # --force is no way in
    finally:
        child.stdin.close()
        child.wait(timeout=60)
    assert main(["run", "toy", "--out", str(out), "--device", "cpu"]) == 0  # released on exit


def test_the_lock_is_held_for_the_whole_run_and_released_after(toy, tmp_path, monkeypatch):
    seen = []

    def tries_to_lock(cfg, run):  # a second opener, inside the run, must be refused
        with pytest.raises(FolderInUse, match=f"pid {os.getpid()}"):
            io.lock_folder(run.dir)
        seen.append(True)
        return {"value": 2.0}

    monkeypatch.setattr(toy, "fn", tries_to_lock)
    run_experiment(toy, out=tmp_path / "r", device="cpu", console=QUIET)
    assert seen == [True]
    with io.lock_folder(tmp_path / "r"):  # free again once the run returned
        pass


# -- --resume: a changed config, nothing to resume -------------------------------------------

def test_resume_with_a_different_set_is_refused_and_config_kept(fittoy, tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["run", "fittoy", "--out", str(out), "--set", "epochs=2"]) == 0
    config = (out / "config.json").read_bytes()
    for extra, fragment in [(["--set", "epochs=3"], "epochs (stored 2, now 3)"),
                            (["--set", "epochs=2", "--seed", "1"], "seed (stored 0, now 1)"),
                            (["--set", "epochs=2", "--quick"], "stored: without --quick")]:
        capsys.readouterr()
        assert main(["run", "fittoy", "--out", str(out), "--resume", *extra]) == 2
        err = _err_line(capsys)
        assert fragment in err and "--resume uses the stored config" in err
        assert "--out DIR" in err
        assert (out / "config.json").read_bytes() == config  # never rewritten
    # The same command resumes (here: nothing left to train) and keeps config.json as is.
    assert main(["run", "fittoy", "--out", str(out), "--set", "epochs=2", "--resume"]) == 0
    assert (out / "config.json").read_bytes() == config
    assert _epochs_logged(out) == [1, 2]


def test_resume_with_nothing_to_resume_is_exit_2(toy, fittoy, tmp_path, capsys):
    assert main(["run", "fittoy", "--out", str(tmp_path / "none"), "--resume"]) == 2
    assert "nothing to resume" in _err_line(capsys)
    assert not (tmp_path / "none").exists()  # no folder made for a refused command
    (tmp_path / "empty").mkdir()
    assert main(["run", "fittoy", "--out", str(tmp_path / "empty"), "--resume"]) == 2
    assert "nothing to resume" in _err_line(capsys)
    assert main(["run", "toy", "--out", str(tmp_path / "t")]) == 0  # writes no checkpoints
    capsys.readouterr()
    assert main(["run", "toy", "--out", str(tmp_path / "t"), "--resume"]) == 2
    assert "left no checkpoints" in _err_line(capsys)
    assert main(["run", "fittoy", "--out", str(tmp_path / "t"), "--resume"]) == 2
    assert "holds a run of 'toy', not 'fittoy'" in _err_line(capsys)


# -- a kill between the log line and the checkpoint -------------------------------------------

class Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs."""


def test_a_kill_at_the_epoch_end_never_logs_an_epoch_twice(fittoy, tmp_path, monkeypatch):
    from introdl.engine import checkpoint

    out = tmp_path / "r"
    real_save, calls = checkpoint.save, []

    def killed_on_second_save(path, state):
        calls.append(state["epoch"])
        if len(calls) == 2:  # end of epoch 2: after the step, before the checkpoint
            raise Killed
        return real_save(path, state)

    monkeypatch.setattr(checkpoint, "save", killed_on_second_save)
    with pytest.raises(Killed):
        run_experiment(get("fittoy"), out=out, device="cpu", console=QUIET, progress=False)
    assert _epochs_logged(out) == [1]  # epoch 2 was not logged: it was never checkpointed
    monkeypatch.setattr(checkpoint, "save", real_save)
    run_experiment(get("fittoy"), out=out, device="cpu", resume=True, console=QUIET,
                   progress=False)
    assert _epochs_logged(out) == [1, 2, 3]  # each epoch exactly once


# -- a failure before training --------------------------------------------------------------

@pytest.mark.parametrize("error", [RuntimeError("disk exploded"), KeyboardInterrupt()])
def test_a_failure_before_training_does_not_block_a_plain_rerun(toy, tmp_path, monkeypatch,
                                                                 error):
    real = toy.fn

    def fails(cfg, run):
        raise error

    monkeypatch.setattr(toy, "fn", fails)
    with pytest.raises(type(error)):
        run_experiment(toy, out=tmp_path / "r", device="cpu", console=QUIET)
    assert not (tmp_path / "r" / "config.json").exists()
    monkeypatch.setattr(toy, "fn", real)
    assert run_experiment(toy, out=tmp_path / "r", device="cpu", console=QUIET).passed


def test_a_lone_config_json_from_a_killed_start_does_not_block_a_plain_rerun(toy, tmp_path):
    out = tmp_path / "r"
    out.mkdir()
    (out / "config.json").write_text('{"experiment": "toy"}')  # killed while loading data
    r = run_experiment(toy, out=out, device="cpu", console=QUIET)
    assert r.passed and json.loads((out / "config.json").read_text())["config"]["value"] == 2.0


def test_a_second_course_into_the_same_folder_is_refused(tmp_path, toy):
    from introdl.runner import run_course

    held = io.lock_folder(tmp_path)  # as another `introdl course --out tmp_path` would
    try:
        with pytest.raises(FolderInUse, match="in use by another introdl process"):
            run_course(out=tmp_path, only=["toy"], console=Console(quiet=True))
        assert not (tmp_path / "toy").exists()  # nothing written into the held folder
    finally:
        held.release()
    results = run_course(out=tmp_path, only=["toy"], console=Console(quiet=True))
    assert [r.status for r in results] == ["pass"]
