"""``fit``: early stopping, clipping, NaN handling, determinism, progress, DDP arithmetic."""

from __future__ import annotations

import dataclasses
import time

import pytest
import torch
from engine_tiny import CFG, data, model, same_weights, train
from torch import nn
from torch.utils.data import TensorDataset

from introdl.engine import TrainConfig, accuracy, evaluate, fit
from introdl.engine.checkpoint import load
from introdl.engine.progress import ProgressBar
from introdl.errors import TrainingDiverged, UsageError


class Boom(Exception):
    """Raised by a loss to cut a run short at a chosen step."""


class LossAt(nn.Module):
    """Cross-entropy that misbehaves on call ``at`` (1-based): NaN, or an exception."""

    def __init__(self, at: int, what: str = "nan") -> None:
        super().__init__()
        self.at, self.what, self.calls = at, what, 0

    def forward(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        loss = nn.functional.cross_entropy(out, y)
        if self.calls == self.at:
            if self.what == "raise":
                raise Boom
            return loss * float("nan")
        return loss


def test_same_seed_same_weights_other_shuffle_seed_other_weights():
    a, b = train(), train()
    assert same_weights(a, b)
    c = train(cfg=dataclasses.replace(CFG, seed=2))
    assert not same_weights(a, c, atol=1e-6)


def test_early_stopping_restores_the_best_epochs_weights():
    # Random labels: the net memorises the 32 training points, so the loss on other
    # random-label points rises after a few epochs and early stopping must fire.
    g = torch.Generator().manual_seed(0)
    train_set = TensorDataset(torch.randn(32, 8, generator=g),
                              torch.randint(0, 3, (32,), generator=g))
    val_set = TensorDataset(torch.randn(64, 8, generator=g),
                            torch.randint(0, 3, (64,), generator=g))
    cfg = TrainConfig(epochs=40, batch_size=8, optimizer="adam", lr=0.02, patience=3, seed=1)
    m = model(dropout=0.0, hidden=64)
    h = fit(m, nn.CrossEntropyLoss(), train_set, cfg, val_set=val_set, progress=False)
    assert h.stopped_early and h.best_epoch is not None
    assert len(h.train_loss) == h.best_epoch + cfg.patience < cfg.epochs
    assert h.best_val_loss == min(h.val_loss)
    # Snapshot: the same run stopped by hand after best_epoch epochs.
    snap = model(dropout=0.0, hidden=64)
    fit(snap, nn.CrossEntropyLoss(), train_set,
        dataclasses.replace(cfg, epochs=h.best_epoch, patience=None), progress=False)
    assert same_weights(m, snap)
    assert evaluate(m, nn.CrossEntropyLoss(), val_set)["loss"] == pytest.approx(h.best_val_loss)


def test_early_stopping_without_validation_set_is_a_usage_error():
    with pytest.raises(UsageError, match="val_set"):
        fit(model(), nn.CrossEntropyLoss(), data(), TrainConfig(patience=2), progress=False)


class NormRecordingSGD(torch.optim.SGD):
    """SGD that records the global gradient norm it is about to apply."""

    norms: list[float]

    def step(self, closure=None):
        grads = [p.grad for g in self.param_groups for p in g["params"] if p.grad is not None]
        self.norms.append(float(torch.linalg.vector_norm(torch.stack(
            [torch.linalg.vector_norm(t) for t in grads]))))
        return super().step(closure)


@pytest.mark.parametrize("clip", [None, 0.05])
def test_clipping_bounds_the_gradient_norm(clip):
    m = model()
    opt = NormRecordingSGD(m.parameters(), lr=0.1)
    opt.norms = []
    fit(m, nn.CrossEntropyLoss(), data(), TrainConfig(epochs=1, batch_size=8, clip_grad_norm=clip),
        optimizer=opt, progress=False)
    if clip is None:
        assert max(opt.norms) > 0.05  # so the clipped run below has something to clip
    else:
        assert max(opt.norms) <= clip * (1 + 1e-5)


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path):
    cfg = dataclasses.replace(CFG, checkpoint_every=3)
    with pytest.raises(TrainingDiverged, match=r"loss became nan at epoch 1, step 7"):
        train(tmp_path, loss_fn=LossAt(7, "nan"), cfg=cfg)
    s = torch.load(tmp_path / "last.pt", weights_only=True)
    assert (s["epoch"], s["batch"], s["history"]["steps"]) == (0, 6, 6)
    # The weights on disk are those after 6 good steps.
    six = model()
    with pytest.raises(Boom):
        fit(six, LossAt(7, "raise"), data(), cfg, progress=False)
    six_state = six.state_dict()
    assert all(torch.equal(s["model"][k], six_state[k]) for k in six_state)
    assert all(torch.isfinite(t).all() for t in s["model"].values())


@pytest.mark.parametrize("wrap", ["tensor", "dataset"])
def test_mid_epoch_resume_equals_uninterrupted_run(tmp_path, wrap):
    from engine_tiny import ListDataset

    ds = data() if wrap == "tensor" else ListDataset(data())
    cfg = dataclasses.replace(CFG, checkpoint_every=5)
    full = train(dataset=ds, cfg=cfg)
    with pytest.raises(Boom):  # dies at step 8 of 12 in epoch 1; last checkpoint at step 5
        train(tmp_path, loss_fn=LossAt(8, "raise"), dataset=ds, cfg=cfg)
    assert load(tmp_path / "last.pt")["batch"] == 5
    torch.manual_seed(1234)  # scramble the global RNG: resume must restore it
    resumed = train(tmp_path, resume=True, dataset=ds, cfg=cfg, model_seed=7)
    assert same_weights(resumed, full)


def test_resume_continues_the_history_and_log(tmp_path):
    cfg = dataclasses.replace(CFG, checkpoint_every=4)
    val = data(n=32, seed=3)
    ref = model()
    h_ref = fit(ref, nn.CrossEntropyLoss(), data(), cfg, val_set=val, progress=False)
    with pytest.raises(Boom):  # epoch 2, step 3
        fit(model(), LossAt(15, "raise"), data(), cfg, val_set=val, checkpoint_dir=tmp_path,
            progress=False)
    logged: list[dict] = []
    m = model(seed=9)
    h = fit(m, nn.CrossEntropyLoss(), data(), cfg, val_set=val, checkpoint_dir=tmp_path,
            resume=True, progress=False, log=lambda **r: logged.append(r))
    assert [r["epoch"] for r in logged] == [2, 3]
    assert h.train_loss == pytest.approx(h_ref.train_loss, rel=1e-6)
    assert h.val_loss == pytest.approx(h_ref.val_loss, rel=1e-6)
    assert h.steps == h_ref.steps == 36


def test_share_weighted_shards_give_the_full_batch_gradient():
    """What DDP computes: the mean over processes of (share x shard-mean loss) gradients."""
    m = model(dropout=0.0)
    x, y = data(n=5).tensors  # 5 examples over 2 processes: shards of 3 and 2
    loss_fn = nn.CrossEntropyLoss()
    full = torch.autograd.grad(loss_fn(m(x), y), list(m.parameters()))
    world = 2
    avg = [torch.zeros_like(p) for p in m.parameters()]
    for rank in range(world):
        xs, ys = x[rank::world], y[rank::world]
        share = len(ys) * world / len(y)
        g = torch.autograd.grad(loss_fn(m(xs), ys) * share, list(m.parameters()))
        avg = [a + gi / world for a, gi in zip(avg, g, strict=True)]
    assert all(torch.allclose(a, f, atol=1e-7) for a, f in zip(avg, full, strict=True))


def test_progress_bar_shows_loss_throughput_and_eta():
    bar = ProgressBar(total=10, enabled=True)
    with bar:
        bar.update(4, loss=0.3, samples=80)
        time.sleep(0.01)
        bar.update(5, loss=0.25, samples=100, val=0.5)
        task = bar._p.tasks[0]
        assert "loss 0.2500" in task.fields["info"] and "val 0.5000" in task.fields["info"]
        assert "samples/s" in task.fields["info"] and task.completed == 5
    fit(model(), nn.CrossEntropyLoss(), data(n=32), TrainConfig(epochs=1, batch_size=8),
        val_set=data(n=16), metrics={"acc": accuracy}, progress=True)


class NoiseDataset(torch.utils.data.Dataset):
    """Random 'augmentation' only: each item is a fresh draw from the torch RNG."""

    def __len__(self) -> int:
        return 8

    def __getitem__(self, i: int):
        return torch.randn(()), torch.tensor(i)


def test_worker_augmentation_is_reproducible_but_new_each_epoch():
    from introdl.engine.loop import _epoch_batches, _load

    batches = _epoch_batches(8, 4, epoch=0, seed=0)
    draws = [torch.cat([x for x, _ in _load(NoiseDataset(), batches, num_workers=1, seed=s)])
             for s in (1, 1, 2)]  # the seed fit derives from (seed, epoch, rank)
    assert torch.equal(draws[0], draws[1])
    assert not torch.equal(draws[0], draws[2])
