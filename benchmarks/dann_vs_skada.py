"""Our DANN beside skada's (``skada.deep.DANN``, scikit-adaptation 0.6) on the same data.

Run:  .venv/bin/pip install -e ".[bench]"     (skada and skorch)
      INTRODL_THREADS=1 .venv/bin/python benchmarks/dann_vs_skada.py   (about 5-6 minutes)

Same everything: the DigitNet encoder and head (``layer_name="encoder"`` for skada's
feature hook), the same source-only network to start from (600 Adam steps on mnist5k,
seed 0), the same labelled source train part and unlabelled target adapt part, batches
of 64 source + 64 target images, the ``dann`` experiment's defaults (Ganin et al. 2016's
values): Adam at lr 1e-3 with weight decay 5e-4 annealed as ``lr / (1 + 10 p) ** 0.75``
(for skada: skorch's ``LRScheduler`` stepping every batch), lambda 1, a 1024-1024-1
discriminator with dropout 0.5, about 400 adaptation steps (skada counts epochs: one
epoch is max(n_s, n_t) // 64 steps, so we run the nearest whole number of epochs and
print the steps). The target test
part is scored once at the end.

Rows:
- ``source-only``: the shared starting point.
- ``ours``: :func:`introdl.adaptation.dann.train_dann` (reversal ramp to lambda, the
  discriminator of ``introdl.nn.adversarial``) -- as the ``dann`` experiment runs it.
  skada has no ramp: its reversal factor is lambda from the first step.
- ``skada (default D)``: ``skada.deep.DANN(module, "encoder", reg=1.0, num_features=128)``.
  Its default ``DomainClassifier`` ends in ``nn.Softmax()`` over a single output, which is
  the constant 1.0: the discriminator's output and hence its gradient are constant, so
  the domain loss trains nothing and this row is source-only training in disguise (we
  print the discriminator's output range to show it).
- ``skada (sigmoid D)``: the same call with a working discriminator passed in
  (``domain_classifier=``: skada's own gradient reversal layer, our MLP, a sigmoid), so
  skada's loop, sampler and criterion are what is compared.

Measured once (seed 0, 1 thread, on a machine shared with other jobs, so compare
accuracies, not times): see benchmarks/domain_adaptation.md.
"""

from __future__ import annotations

import os
import time

import numpy as np
import torch
from torch import nn

from introdl.adaptation.dann import train_dann
from introdl.adaptation.domains import load_domain
from introdl.adaptation.networks import DigitNet, clone
from introdl.adaptation.protocol import source_only
from introdl.adaptation.train import Budget, accuracy
from introdl.nn.adversarial import DomainDiscriminator
from introdl.report.tables import markdown_table

SOURCE = "mnist5k"
TARGETS = ("uci-digits", "mnist-m")
SEED = 0
STEPS, ADAPT_STEPS, BATCH, LR = 600, 400, 64, 1e-3
# the dann experiment's defaults (Ganin et al. 2016's values; see its docstring)
ADAPT_LR, LAM, HIDDEN, DROPOUT = 1e-3, 1.0, 1024, 0.5


def annealing(steps: int):
    """The paper's ``lr_p = lr / (1 + 10 p) ** 0.75`` as a LambdaLR factor of the step."""
    return lambda s: (1 + 10 * s / steps) ** -0.75


class SkadaDigitNet(nn.Module):
    """DigitNet as skada calls it: ``forward(x, sample_weight=None)``, encoder named "encoder"."""

    def __init__(self, net: DigitNet) -> None:
        super().__init__()
        self.encoder, self.head = net.encoder, net.head

    def forward(self, x, sample_weight=None):
        return self.head(self.encoder(x))


class SigmoidDomainClassifier(nn.Module):
    """skada's gradient reversal, our discriminator MLP, a sigmoid (skada's BCELoss wants p)."""

    def __init__(self, in_features: int, alpha: float = 1.0) -> None:
        super().__init__()
        self.net = DomainDiscriminator(in_features, hidden=HIDDEN, dropout=DROPOUT)
        self.alpha = alpha

    def forward(self, x, sample_weight=None):
        from skada.deep.modules import GradientReversalLayer  # noqa: PLC0415 (optional dependency)

        return torch.sigmoid(self.net(GradientReversalLayer.apply(x, self.alpha)))


def skada_dann(start: DigitNet, xs, ys, xt, epochs: int, steps: int, domain_classifier=None):
    from skada.deep import DANN  # noqa: PLC0415
    from skorch.callbacks import LRScheduler  # noqa: PLC0415

    torch.manual_seed(SEED)
    anneal = LRScheduler(policy=torch.optim.lr_scheduler.LambdaLR, lr_lambda=annealing(steps),
                         step_every="batch")
    net = DANN(SkadaDigitNet(clone(start)), "encoder", reg=LAM, num_features=start.feature_dim,
               domain_classifier=domain_classifier, batch_size=BATCH, max_epochs=epochs,
               optimizer=torch.optim.Adam, lr=ADAPT_LR, optimizer__weight_decay=5e-4,
               callbacks=[("anneal", anneal)], train_split=None, device="cpu", verbose=0)
    X = np.concatenate([xs.numpy(), xt.numpy()]).astype(np.float32)
    y = np.concatenate([ys.numpy(), -np.ones(len(xt), dtype=np.int64)])
    dom = np.concatenate([np.ones(len(xs), dtype=np.int64), -2 * np.ones(len(xt), dtype=np.int64)])
    net.fit({"X": X, "sample_domain": dom}, y)
    module = net.module_
    model = clone(start)
    model.encoder, model.head = module.base_module_.encoder, module.base_module_.head
    with torch.no_grad():
        d = module.domain_classifier_.eval()(model.eval().encoder(torch.from_numpy(X[:512])))
    return model, (d.min().item(), d.max().item())


def main() -> None:
    torch.set_num_threads(int(os.environ.get("INTRODL_THREADS", "1")))
    src = load_domain(SOURCE)
    t0 = time.perf_counter()
    floor = source_only(src, Budget(steps=STEPS, batch_size=BATCH, lr=LR), SEED)
    t_floor = time.perf_counter() - t0
    rows = []
    for name in TARGETS:
        tgt = load_domain(name)
        epochs = max(1, round(ADAPT_STEPS / (max(len(src.x_train), len(tgt.x_adapt)) // BATCH)))
        steps_skada = epochs * (max(len(src.x_train), len(tgt.x_adapt)) // BATCH)
        rows.append([f"{SOURCE}->{name}", "source-only", "-",
                     f"{accuracy(floor, tgt.x_test, tgt.y_test):.3f}", f"{t_floor:.0f}", ""])

        t0 = time.perf_counter()
        ours = clone(floor)
        train_dann(ours, src.x_train, src.y_train, tgt.x_adapt,
                   Budget(steps=ADAPT_STEPS, batch_size=BATCH, lr=ADAPT_LR), SEED, lam=LAM,
                   hidden=HIDDEN, dropout=DROPOUT, anneal=True)
        rows.append(["", "ours (introdl)", str(ADAPT_STEPS),
                     f"{accuracy(ours, tgt.x_test, tgt.y_test):.3f}",
                     f"{time.perf_counter() - t0:.0f}", ""])

        for label, dc in (("skada (default D)", None),
                          ("skada (sigmoid D)", SigmoidDomainClassifier(floor.feature_dim))):
            t0 = time.perf_counter()
            try:
                model, (lo, hi) = skada_dann(floor, src.x_train, src.y_train, tgt.x_adapt,
                                             epochs, steps_skada, dc)
                acc, note = f"{accuracy(model, tgt.x_test, tgt.y_test):.3f}", \
                    f"D output in [{lo:.3f}, {hi:.3f}]"
            except Exception as e:  # noqa: BLE001 -- report, keep the other rows
                acc, note = "failed", f"{type(e).__name__}: {str(e)[:80]}"
            rows.append(["", label, str(steps_skada), acc,
                         f"{time.perf_counter() - t0:.0f}", note])
    print(markdown_table(["pair", "method", "adapt steps", "target test acc", "seconds",
                          "note"], rows))
    print(f"seed {SEED}; threads {torch.get_num_threads()}; source-only {STEPS} steps shared "
          "by every row (its seconds are counted once, in the source-only row).")


if __name__ == "__main__":
    main()
