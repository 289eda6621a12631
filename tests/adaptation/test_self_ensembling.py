"""Self-ensembling: the EMA teacher matches torch's, the mask and class balance do what they say,
a tiny run end to end, and bad settings are refused in one line."""

from __future__ import annotations

import json
import math

import pytest
import torch
import torch.nn.functional as F
from rich.console import Console
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from introdl.adaptation.networks import DigitNet
from introdl.adaptation.self_ensembling import (
    ClassBalanceLoss,
    ConsistencyLoss,
    HardConsistencyLoss,
    SelfEnsembling,
    SelfEnsemblingConfig,
    confidence_mask,
    ema_update,
    train_self_ensembling,
    weak_augment,
)
from introdl.errors import UsageError
from introdl.experiment import get
from introdl.runner import run_experiment


def _net(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))


def test_ema_teacher_matches_torch_averaged_model():
    student, decay = _net(), 0.9
    teacher = _net(1)  # our teacher starts as a copy of the student
    teacher.load_state_dict(student.state_dict())
    ref = AveragedModel(student, multi_avg_fn=get_ema_multi_avg_fn(decay))
    ref.update_parameters(student)  # torch's first call copies the student
    opt = torch.optim.SGD(student.parameters(), lr=0.5)
    for _ in range(5):
        loss = student(torch.randn(6, 4)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        ema_update(teacher, student, decay)
        ref.update_parameters(student)
    for p_t, p_r, p_s in zip(teacher.parameters(), ref.module.parameters(),
                             student.parameters(), strict=True):
        torch.testing.assert_close(p_t, p_r)
        assert not torch.allclose(p_t, p_s)  # it lags the student: an average, not a copy


def test_ema_decay_zero_copies_and_decay_one_keeps():
    student, teacher = _net(0), _net(1)
    before = [p.clone() for p in teacher.parameters()]
    ema_update(teacher, student, 1.0)
    assert all(torch.equal(a, b) for a, b in zip(teacher.parameters(), before, strict=True))
    ema_update(teacher, student, 0.0)
    assert all(torch.equal(a, b) for a, b in zip(teacher.parameters(), student.parameters(),
                                                 strict=True))


def test_confidence_mask_keeps_only_rows_above_the_threshold():
    p = torch.tensor([[0.98, 0.01, 0.01], [0.5, 0.4, 0.1], [0.968, 0.02, 0.012]])
    assert confidence_mask(p, 0.968).tolist() == [1.0, 0.0, 0.0]  # strictly above


def test_consistency_is_the_masked_squared_difference_and_spares_the_teacher():
    p_s = F.softmax(torch.randn(4, 3), 1).requires_grad_(True)
    p_t = torch.tensor([[0.99, 0.005, 0.005], [0.4, 0.3, 0.3],
                        [0.005, 0.99, 0.005], [0.3, 0.3, 0.4]], requires_grad=True)
    loss_fn = ConsistencyLoss(threshold=0.9)
    loss, mask = loss_fn(p_s, p_t)
    want = (((p_s - p_t) ** 2).mean(1) * torch.tensor([1.0, 0, 1, 0])).mean()
    torch.testing.assert_close(loss, want)
    assert mask.tolist() == [1.0, 0.0, 1.0, 0.0] and loss_fn.mask_rate == 0.5
    loss.backward()
    assert p_t.grad is None  # the teacher's side is detached
    assert p_s.grad[1].abs().sum() == 0 and p_s.grad[0].abs().sum() > 0  # unsure rows: no signal
    none, _ = ConsistencyLoss(threshold=0.999)(p_s, p_t)
    assert none.item() == 0.0


def test_hard_consistency_is_masked_cross_entropy_to_the_teachers_argmax():
    logits = torch.randn(3, 4, requires_grad=True)
    p_t = torch.tensor([[0.97, 0.01, 0.01, 0.01], [0.3, 0.3, 0.2, 0.2], [0.01, 0.01, 0.01, 0.97]])
    loss, mask = HardConsistencyLoss(threshold=0.95)(logits, p_t)
    logp = F.log_softmax(logits, 1)
    torch.testing.assert_close(loss, -(logp[0, 0] + logp[2, 3]) / 3)
    assert mask.tolist() == [1.0, 0.0, 1.0]


def test_class_balance_matches_torch_bce_and_punishes_a_collapsed_batch():
    balance = ClassBalanceLoss(eps=0.0)
    p = F.softmax(torch.randn(8, 5), 1)
    want = F.binary_cross_entropy(p.mean(0), torch.full((5,), 0.2)) * 5
    torch.testing.assert_close(balance(p), want)
    uniform = torch.full((8, 5), 0.2)
    collapsed = torch.tensor([[0.96, 0.01, 0.01, 0.01, 0.01]]).repeat(8, 1)
    assert balance(collapsed) > balance(uniform) + 0.5
    assert balance(collapsed, 0.0) == 0.0  # scaled by the confident share
    logits = torch.zeros(8, 5, requires_grad=True)  # uniform predictions: the minimum
    balance(F.softmax(logits, 1)).backward()
    assert logits.grad.abs().max() < 1e-6


def test_one_step_moves_the_student_and_the_teacher_a_tenth_of_the_way():
    torch.manual_seed(0)
    model = DigitNet(hidden=8)
    method = SelfEnsembling(model, SelfEnsemblingConfig(teacher_decay=0.9, threshold=0.0))
    t0 = [p.clone() for p in method.teacher.parameters()]
    x = torch.rand(4, 3, 32, 32)
    log = method.step(x, torch.tensor([0, 1, 2, 3]), x, x)
    assert log.mask_rate == 1.0 and log.consistency >= 0
    for p_t, p0, p_s in zip(method.teacher.parameters(), t0, method.student.parameters(),
                            strict=True):
        assert all(not q.requires_grad for q in method.teacher.parameters())
        torch.testing.assert_close(p_t, 0.9 * p0 + 0.1 * p_s)


def test_weak_view_only_shifts_and_training_is_deterministic():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(6, 3, 32, 32)
    y = weak_augment(x, g)
    assert y.shape == x.shape and 0 <= y.min() and y.max() <= 1
    assert torch.allclose(y.mean((1, 2, 3)), x.mean((1, 2, 3)), atol=0.05)  # no recolouring
    xs, ys, xt = torch.rand(16, 3, 32, 32), torch.randint(0, 10, (16,)), torch.rand(16, 3, 32, 32)
    cfg = SelfEnsemblingConfig(steps=2, batch_size=4)
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        teacher, logs = train_self_ensembling(DigitNet(hidden=8), xs, ys, xt, cfg, seed=3)
        runs.append((teacher.head.weight.clone(), [log.loss for log in logs]))
    assert len(runs[0][1]) == 2 and not teacher.training
    torch.testing.assert_close(runs[0][0], runs[1][0])
    assert runs[0][1] == runs[1][1]
    with pytest.raises(ValueError, match="teacher_view"):
        train_self_ensembling(DigitNet(hidden=8), xs, ys, xt,
                              SelfEnsemblingConfig(steps=1, teacher_view="medium"), seed=0)


def test_tiny_run_writes_table_figures_and_metrics(tmp_path):
    out = tmp_path / "r"
    run_experiment(get("self-ensembling"), out=out, quick=True, device="cpu",
                   sets=["source=uci-digits", "target=mnist5k", "steps=4", "adapt_steps=3",
                         "batch_size=8"], console=Console(quiet=True), progress=False)
    metrics = json.loads((out / "metrics.json").read_text())
    k = "uci_digits_to_mnist5k"
    for key in (f"source_only_acc_{k}", f"self_ensembling_acc_{k}", f"ceiling_acc_{k}",
                "final_mask_rate"):
        assert 0 <= metrics[key] <= 1, key
    got, want = metrics["min_gap_closed"], metrics[f"gap_closed_{k}"]  # one pair: its share
    assert got == want or (math.isnan(got) and math.isnan(want))
    assert "uci-digits->mnist5k" in (out / "results.md").read_text()
    assert (out / "self-ensembling-accuracy.png").stat().st_size > 0
    assert (out / "self-ensembling-confidence.png").stat().st_size > 0


@pytest.mark.parametrize("sets, match", [
    (["threshold=1.5"], "threshold"),
    (["teacher_decay=1"], "teacher_decay"),
    (["teacher_view=medium"], "teacher_view"),
    (["consistency=soft"], "consistency"),
    (["consistency_weight=-1"], "consistency_weight"),
    (["source=mnist5k", "target=mnist5k"], "both"),
])
def test_bad_settings_are_refused_in_one_line(tmp_path, sets, match):
    with pytest.raises(UsageError, match=match):
        run_experiment(get("self-ensembling"), out=tmp_path / "r", quick=True, device="cpu",
                       sets=sets, console=Console(quiet=True), progress=False)
