"""Lecture 1: "Will I pass this class?" — an untrained net guesses, a trained one answers.

Data come from the rule stated in :mod:`introdl.foundations.will_i_pass`; the
network trains with the engine on the binary cross-entropy (on logits).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.utils.data import TensorDataset

from introdl.config import require
from introdl.engine import TrainConfig, accuracy, evaluate, fit
from introdl.experiment import Claim, experiment
from introdl.foundations.will_i_pass import PassNet, PassRule
from introdl.report.plots import figure
from introdl.run import Run


@dataclass
class WillIPassConfig:
    n_train: int = 500  # students to learn from
    n_test: int = 2000  # held-out students
    hidden: int = 3  # hidden units (the lecture's 3)
    epochs: int = 100  # passes over the training students
    batch_size: int = 32  # students per step
    lr: float = 0.05  # Adam learning rate
    lectures: float = 4.0  # the lecture's student: lectures attended
    hours: float = 5.0  # ... and hours on the final project

    def validate(self) -> None:
        require(self, "n_train", self.n_train >= 1, "must be at least 1")
        require(self, "n_test", self.n_test >= 1, "must be at least 1")
        require(self, "hidden", self.hidden >= 1, "must be at least 1")


@experiment(
    name="will-i-pass", lecture=1,
    title="Will I pass? A 2-3-1 network before and after training on a stated rule",
    claims=[
        Claim("an untrained network's answer is arbitrary (lecture: 0.1, and wrong)"),
        Claim("after training, the student (4 lectures, 5 hours) gets the rule's answer "
              "(pass: P = 0.86)", metric="trained_agrees_with_rule", compare="true"),
        Claim("the trained answer is closer to the rule's probability than the untrained one",
              metric="closer_after_training", compare="true"),
        Claim("trained net is within 3 points of the rule's own accuracy on new students",
              metric="gap_to_rule_acc", expected=0.03, compare="<="),
        Claim("test accuracy on new students", metric="test_acc", expected=0.85, compare=">="),
    ],
    quick={"epochs": 40},
)
def will_i_pass(cfg: WillIPassConfig, run: Run) -> dict[str, float]:
    rule = PassRule()
    Xtr, ytr = rule.sample(cfg.n_train, seed=run.seed)
    Xte, yte = rule.sample(cfg.n_test, seed=run.seed + 10_000)
    train, test = (TensorDataset(torch.from_numpy(X), torch.from_numpy(y))
                   for X, y in ((Xtr, ytr), (Xte, yte)))
    student = torch.tensor([[cfg.lectures, cfg.hours]])
    p_rule = float(rule.prob(student.numpy())[0])

    model = PassNet(cfg.hidden)
    untrained = float(model.predict_proba(student)[0])
    grid = _grid(rule)
    regions_before = model.predict_proba(grid[0]).reshape(grid[1].shape).numpy()

    loss_fn = nn.BCEWithLogitsLoss()
    hist = fit(model, loss_fn, train, TrainConfig(epochs=cfg.epochs, batch_size=cfg.batch_size,
                                                 optimizer="adam", lr=cfg.lr, seed=run.seed),
               val_set=test, device=run.device, metrics={"acc": accuracy}, log=run.log,
               progress=run.progress, desc="will-i-pass")
    model.cpu()
    trained = float(model.predict_proba(student)[0])
    test_acc = evaluate(model, loss_fn, test, metrics={"acc": accuracy})["acc"]
    rule_acc = float(np.mean((rule.prob(Xte) > 0.5) == (yte > 0.5)))  # the rule's own accuracy
    run.print(f"student ({cfg.lectures:g}, {cfg.hours:g}): untrained {untrained:.3f}, "
              f"trained {trained:.3f}, rule {p_rule:.3f}; test acc {test_acc:.3f} "
              f"(rule itself: {rule_acc:.3f})")

    regions_after = model.predict_proba(grid[0]).reshape(grid[1].shape).numpy()
    run.save_figure(_regions(rule, grid, Xtr, ytr, (cfg.lectures, cfg.hours),
                             [("untrained", regions_before, untrained),
                              ("trained", regions_after, trained)]), "decision_regions.png")
    return {
        "untrained_pred": untrained, "trained_pred": trained, "rule_prob": p_rule,
        "trained_agrees_with_rule": float((trained > 0.5) == (p_rule > 0.5)),
        "closer_after_training": float(abs(trained - p_rule) < abs(untrained - p_rule)),
        "test_acc": test_acc, "rule_acc": rule_acc, "gap_to_rule_acc": rule_acc - test_acc,
        "final_train_loss": hist.train_loss[-1], "first_train_loss": hist.train_loss[0],
    }


def _grid(rule: PassRule, n: int = 200):
    g1 = np.linspace(0, rule.max_lectures, n)
    g2 = np.linspace(0, rule.max_hours, n)
    G1, G2 = np.meshgrid(g1, g2)  # (n, n) each
    pts = torch.tensor(np.stack([G1.ravel(), G2.ravel()], axis=1), dtype=torch.float32)
    return pts, G1, G2


def _regions(rule, grid, X, y, student, panels):
    """Predicted P(pass) over the plane, the 0.5 line, the rule's 0.5 line and the data."""
    _, G1, G2 = grid
    fig, axes = figure(ncols=len(panels), size=(4.6, 4.2))
    for ax, (name, P, pred) in zip(axes, panels, strict=True):
        cs = ax.contourf(G1, G2, P, levels=np.linspace(0, 1, 11), cmap="RdBu", alpha=0.75)
        ax.contour(G1, G2, P, levels=[0.5], colors="k", linewidths=1.5)
        ax.contour(G1, G2, rule.prob(np.stack([G1, G2], -1)), levels=[0.5], colors="k",
                   linestyles="--", linewidths=1)
        jitter = np.random.default_rng(0).uniform(-0.15, 0.15, len(X))
        for label, color, marker in ((1, "#1a4f8b", "o"), (0, "#8b1a1a", "x")):
            m = y == label
            ax.scatter(X[m, 0] + jitter[m], X[m, 1], s=9, c=color, marker=marker, lw=0.8,
                       label="pass" if label else "fail")
        ax.plot(*student, "*", ms=16, mec="k", mfc="gold")
        ax.annotate(f"({student[0]:g}, {student[1]:g}): {pred:.2f}", student, xytext=(8, -14),
                    textcoords="offset points", fontsize=10, weight="bold")
        ax.set_xlabel("$x_1$: lectures attended")
        ax.set_ylabel("$x_2$: hours on final project")
        ax.set_title(f"{name} network: P(pass)")
    axes[0].legend(loc="upper right", fontsize=8)
    fig.colorbar(cs, ax=axes, shrink=0.8)
    fig.suptitle(f"solid: net's 0.5 line, dashed: rule's. Rule: {rule.text()}", fontsize=9)
    return fig
