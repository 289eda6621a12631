"""The hand-written-loop helpers: seeded endless batches, the finite-loss stop, predict."""

import pytest
import torch

from introdl.engine.steps import batches, check_finite, predict
from introdl.errors import TrainingDiverged


def test_batches_cover_every_row_once_per_pass_and_repeat_by_seed():
    x, y = torch.arange(10.0), torch.arange(10)
    stream = batches(x, y, batch_size=5, generator=torch.Generator().manual_seed(0))
    first = [next(stream) for _ in range(2)]
    assert sorted(torch.cat([b[0] for b in first]).tolist()) == list(range(10))
    assert all(torch.equal(xb.long(), yb) for xb, yb in first)  # rows stay aligned
    again = batches(x, y, batch_size=5, generator=torch.Generator().manual_seed(0))
    assert torch.equal(next(again)[0], first[0][0])
    with pytest.raises(ValueError, match="empty"):
        next(batches(torch.empty(0), batch_size=2, generator=torch.Generator()))


def test_check_finite_stops_with_one_line_on_nan():
    check_finite(torch.tensor(1.5), 3, "toy")
    with pytest.raises(TrainingDiverged, match="toy: the loss became nan at step 7") as e:
        check_finite(torch.tensor(float("nan")), 7, "toy")
    assert "\n" not in str(e.value)


def test_predict_batches_in_eval_mode_and_restores_train_mode():
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Dropout(0.9))
    model.train()
    x = torch.randn(7, 3)
    out = predict(model, x, batch_size=2)
    torch.testing.assert_close(out, model[0](x).detach())  # dropout off in eval
    assert model.training


def test_early_stopping_keeps_the_best_weights_and_counts_patience():
    from introdl.engine.steps import EarlyStopping

    model = torch.nn.Linear(1, 1)
    stop = EarlyStopping(patience=2)
    stop.restore(model)  # nothing recorded yet: a no-op
    with torch.no_grad():
        model.weight.fill_(1.0)
    assert not stop.step(0.5, model)
    with torch.no_grad():
        model.weight.fill_(2.0)
    assert not stop.step(0.4, model)  # worse: one epoch without progress
    assert stop.step(0.3, model)  # two: stop
    stop.restore(model)
    assert model.weight.item() == 1.0 and stop.best == 0.5
