"""Figures for the driving experiment: steering densities at a fork, top-down traces."""

from __future__ import annotations

import torch

from introdl.report.plots import figure
from introdl.vision.drive import sim
from introdl.vision.drive.mdn import mixture_density
from introdl.vision.drive.model import DrivingNet, pack
from introdl.vision.drive.rollout import Outcome, fork_views


@torch.no_grad()
def plot_fork(models: dict[str, DrivingNet], seed: int, device: torch.device):
    camera, maps, expert = fork_views(seed)
    grid = torch.linspace(-1.2, 1.2, 481)
    xs = grid.numpy()
    fig, axes = figure(ncols=4, size=(3.4, 2.8))
    axes[0].imshow(camera, cmap="gray", vmin=0, vmax=1)
    axes[0].set_title("camera at the fork", fontsize=9)
    for ax, s, name in ((axes[1], 1, "left"), (axes[2], -1, "right")):
        ax.imshow(maps[s], cmap="gray", vmin=0, vmax=1)
        ax.set_title(f"route map: {name}", fontsize=9)
    for ax in axes[:3]:
        ax.axis("off")
    ax = axes[3]

    def inp(s: int) -> torch.Tensor:
        return pack(torch.from_numpy(camera)[None], torch.from_numpy(maps[s])[None]).to(device)

    g = grid.to(device)
    ax.plot(xs, mixture_density(models["mdn_camera"](inp(1)), g)[0].cpu().numpy(), "k",
            label="MDN, camera only")
    for s, c, name in ((1, "tab:blue", "left"), (-1, "tab:orange", "right")):
        ax.plot(xs, mixture_density(models["mdn"](inp(s)), g)[0].cpu().numpy(), c, ls="--",
                label=f"MDN + route {name}")
        ax.axvline(expert[s], color=c, lw=0.8, ls=":")
    ax.axvline(float(models["mse"](inp(1))[0]), color="red", label="MSE, camera only")
    ax.set_xlabel("steering (+ left, - right)")
    ax.set_ylabel("p(steering)")
    ax.legend(fontsize=6)
    fig.tight_layout()
    return fig


def plot_traces(roads: list[sim.Road], outcomes: dict[str, Outcome]):
    fig, axes = figure(ncols=len(roads), size=(3.2, 3.2), squeeze=False)
    colors = {"mdn": "tab:blue", "mse": "red", "mdn_camera": "tab:green", "mse_route": "tab:purple"}
    for j, (ax, road) in enumerate(zip(axes[0], roads, strict=True)):
        ax.imshow(road.texture, cmap="gray", origin="lower", vmin=0, vmax=1,
                  extent=(0, sim.WORLD, 0, sim.WORLD))
        ax.plot(*road.route.T, color="white", lw=0.6, ls=":")
        ax.plot(*road.route[-1], "y*", ms=10)
        for name in ("mdn", "mse"):
            tr = outcomes[name].traces[j]
            ax.plot(tr[:, 0], tr[:, 1], color=colors[name], lw=1.2,
                    label=f"{name}: {outcomes[name].status[j]}")
        lo, hi = road.route.min(0) - 12, road.route.max(0) + 12
        ax.set_xlim(lo[0], hi[0])
        ax.set_ylim(lo[1], hi[1])
        ax.legend(fontsize=6, loc="lower left")
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("closed loop: MDN + route (blue) vs MSE camera only (red); goal *", fontsize=9)
    fig.tight_layout()
    return fig
