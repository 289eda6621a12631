"""Lecture 1's worked perceptron: sigmoid(1 + 3*(-1) - 2*2) = sigmoid(-6) ~ 0.002."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from introdl.config import require
from introdl.experiment import Claim, experiment
from introdl.foundations.perceptron import Perceptron, perceptron_numpy
from introdl.report.plots import figure
from introdl.run import Run


@dataclass
class PerceptronConfig:
    w0: float = 1.0  # bias, as on the slide
    w1: float = 3.0  # weight of x1
    w2: float = -2.0  # weight of x2
    x1: float = -1.0  # the input point's first feature
    x2: float = 2.0  # the input point's second feature
    extent: float = 4.0  # the plot shows [-extent, extent]^2

    def validate(self) -> None:
        require(self, "extent", self.extent > 0, "must be above 0")


@experiment(
    name="perceptron", lecture=1,
    title="A perceptron's decision line: 1 + 3x1 - 2x2 = 0, and sigmoid(-6) at x = (-1, 2)",
    claims=[
        Claim("z = 1 + 3*(-1) - 2*2 = -6", metric="z", expected=-6.0, tol=1e-9),
        Claim("y = sigmoid(-6) ~ 0.002", metric="output", expected=0.0025, tol=5e-4),
        Claim("the NumPy formula and the nn.Module give the same output", metric="torch_agrees",
              compare="true"),
        Claim("the line z = 0 splits the plane into z < 0 and z > 0 half-planes"),
    ],
    quick={},
)
def perceptron(cfg: PerceptronConfig, run: Run) -> dict[str, float]:
    w, x = np.array([cfg.w1, cfg.w2]), np.array([cfg.x1, cfg.x2])
    z, y = perceptron_numpy(x, cfg.w0, w)
    module = Perceptron.from_weights(cfg.w0, (cfg.w1, cfg.w2))
    with torch.no_grad():
        y_torch = float(module(torch.tensor([[cfg.x1, cfg.x2]], dtype=torch.float32))[0])
    run.print(f"z = {cfg.w0:g} + ({cfg.w1:g})*({cfg.x1:g}) + ({cfg.w2:g})*({cfg.x2:g}) = {z:g}; "
              f"sigmoid(z) = {y:.4f} (torch: {y_torch:.4f})")
    run.save_figure(_feature_space(cfg, float(z), float(y)), "feature_space.png")
    return {"z": float(z), "output": float(y), "output_torch": y_torch,
            "torch_agrees": float(abs(y_torch - y) < 1e-6)}


def _feature_space(cfg: PerceptronConfig, z: float, y: float):
    """The plane coloured by z's sign, the line z = 0, and the lecture's point."""
    e = cfg.extent
    g = np.linspace(-e, e, 401)
    X1, X2 = np.meshgrid(g, g)  # (401, 401) each
    Z, _ = perceptron_numpy(np.stack([X1, X2], axis=-1), cfg.w0, np.array([cfg.w1, cfg.w2]))
    fig, ax = figure(size=(5.0, 4.6))
    ax.contourf(X1, X2, Z, levels=[-1e9, 0, 1e9], colors=["#f4b6b6", "#b6d7f4"], alpha=0.8)
    ax.contour(X1, X2, Z, levels=[0], colors="k", linewidths=1.5)
    ax.text(-0.9 * e, 0.8 * e, "z < 0\n(y < 0.5)", color="#8b1a1a", fontsize=11, va="top")
    ax.text(0.45 * e, -0.6 * e, "z > 0\n(y > 0.5)", color="#1a4f8b", fontsize=11)
    ax.plot([cfg.x1], [cfg.x2], "ko", ms=7)
    ax.annotate(f"x = ({cfg.x1:g}, {cfg.x2:g})\nz = {z:g}, y = {y:.4f}", (cfg.x1, cfg.x2),
                xytext=(8, 8), textcoords="offset points", fontsize=9)
    ax.set_xlim(-e, e)
    ax.set_ylim(-e, e)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title(f"${cfg.w0:g} + {cfg.w1:g}x_1 {cfg.w2:+g}x_2 = 0$")
    ax.set_aspect("equal")
    fig.tight_layout()
    return fig
