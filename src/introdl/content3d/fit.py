"""Inverse graphics: deform an icosphere until its renders match multi-view images of an object.

The model (:class:`DeformedSphere`) is a fixed icosphere template plus two learned per-vertex
fields: an offset (3 numbers, the shape) and a colour (3 logits, the albedo). Lighting and
cameras are known. One optimisation step (:func:`fit_step`) renders a few of the target views
through :func:`~introdl.content3d.renderer.render` and minimises

    w_silhouette * (1 - IoU(silhouette, target mask))
  + w_rgb * |rgb - target rgb|_1
  + w_laplacian * laplacian_loss + w_edge * edge_length_loss

with Adam. The edge loss pulls edge lengths towards the initial sphere's mean edge length
(``"sphere"``), or towards zero (``"zero"``, PyTorch3D's default), which also shrinks the mesh.

Two ways to take the silhouette (``mode``), from the same initial sphere:

- ``"soft"``: DIB-R's soft silhouette ``alpha`` - pixels just outside the current outline get
  0 < alpha < 1 with a gradient, so the outline can grow towards the target;
- ``"hard"``: the hard coverage ``mask`` - a step function of the vertex positions, so its
  gradient is zero and the only signal left is the hard-composited rgb *inside* the current
  outline (colours, and shading through the normals). No background pixel pulls on the mesh.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor, nn

from introdl.content3d.camera import Camera
from introdl.content3d.mesh import edge_length_loss, edges, icosphere, laplacian_loss
from introdl.content3d.renderer import RenderOut, render
from introdl.engine.progress import ProgressBar
from introdl.engine.steps import check_finite

Mode = Literal["soft", "hard"]


class DeformedSphere(nn.Module):
    """An icosphere of ``radius`` with learned per-vertex offsets and colours.

    Offsets start at zero (the sphere) and colours at sigmoid(0) = 0.5 grey.
    """

    def __init__(self, subdivisions: int, radius: float = 0.6) -> None:
        super().__init__()
        verts, faces = icosphere(subdivisions)
        self.register_buffer("template", verts * radius)
        self.register_buffer("faces", faces)
        e = edges(faces)
        self.edge_target = float((self.template[e[:, 0]] - self.template[e[:, 1]]).norm(dim=1)
                                 .mean())  # the sphere's mean edge length
        self.offsets = nn.Parameter(torch.zeros_like(verts))
        self.color_logits = nn.Parameter(torch.zeros_like(verts))

    def forward(self) -> tuple[Tensor, Tensor]:
        """(verts (V, 3), colours (V, 3) in [0, 1])."""
        return self.template + self.offsets, torch.sigmoid(self.color_logits)


@dataclass
class Views:
    """Target images of one object: rgb (K, 3, H, W), mask (K, 1, H, W), their cameras."""

    rgb: Tensor
    mask: Tensor
    camera: Camera
    light_dir: Tensor  # (3,) world direction towards the light, shared by every view

    def __len__(self) -> int:
        return self.rgb.shape[0]

    def subset(self, idx: Tensor) -> Views:
        return Views(self.rgb[idx], self.mask[idx],
                     Camera(self.camera.view[idx], self.camera.fov_deg), self.light_dir)


@dataclass
class FitSettings:
    """Optimisation settings shared by both modes."""

    steps: int = 500
    views_per_step: int = 4  # views rendered per step (a random subset of the targets)
    lr: float = 0.01  # Adam, vertex offsets
    color_lr: float = 0.05  # Adam, colour logits
    w_silhouette: float = 1.0
    w_rgb: float = 1.0
    w_laplacian: float = 8.0
    w_edge: float = 2.0
    ambient: float = 0.4
    delta: float = 3e-4  # soft-silhouette sharpness (NDC units squared)
    edge_target: Literal["sphere", "zero"] = "sphere"  # edge length the edge loss pulls to


def soft_iou(pred: Tensor, target: Tensor) -> Tensor:
    """Per-image IoU (K,) of soft masks (K, 1, H, W): sum(p t) / sum(p + t - p t)."""
    inter = (pred * target).flatten(1).sum(1)
    union = (pred + target - pred * target).flatten(1).sum(1)
    return inter / union.clamp_min(1e-8)


def render_model(model: DeformedSphere, camera: Camera, size: int, light_dir: Tensor,
                 ambient: float, delta: float = 3e-4) -> RenderOut:
    """Render the model's current mesh from every view of ``camera``."""
    verts, colors = model()
    k = camera.view.shape[0]
    return render(verts.unsqueeze(0), model.faces, camera, size, colors=colors.unsqueeze(0),
                  light_dir=light_dir.view(1, 3).expand(k, 3), ambient=ambient, delta=delta)


def fit_losses(model: DeformedSphere, views: Views, settings: FitSettings,
               mode: Mode) -> dict[str, Tensor]:
    """The loss terms on ``views`` (all of them: pass a subset for a step), and their total."""
    out = render_model(model, views.camera, views.rgb.shape[-1], views.light_dir,
                       settings.ambient, settings.delta)
    silhouette = out.alpha if mode == "soft" else out.mask  # the mask has no gradient
    verts, _ = model()
    terms = {
        "silhouette": 1 - soft_iou(silhouette, views.mask).mean(),
        "rgb": (out.rgb - views.rgb).abs().mean(),
        "laplacian": laplacian_loss(verts, model.faces),
        "edge": edge_length_loss(verts, model.faces,
                                 model.edge_target if settings.edge_target == "sphere" else 0.0),
        "mask_iou_loss": 1 - soft_iou(out.mask, views.mask).mean().detach(),  # logged only
    }
    terms["total"] = (settings.w_silhouette * terms["silhouette"] + settings.w_rgb * terms["rgb"]
                      + settings.w_laplacian * terms["laplacian"]
                      + settings.w_edge * terms["edge"])
    return terms


def fit_step(model: DeformedSphere, optimizer: torch.optim.Optimizer, views: Views,
             settings: FitSettings, mode: Mode) -> dict[str, float]:
    """One Adam step on ``views``; returns the loss terms before the step."""
    terms = fit_losses(model, views, settings, mode)
    optimizer.zero_grad(set_to_none=True)
    terms["total"].backward()
    optimizer.step()
    return {k: float(v.detach()) for k, v in terms.items()}


def make_optimizer(model: DeformedSphere, settings: FitSettings) -> torch.optim.Adam:
    return torch.optim.Adam([{"params": [model.offsets], "lr": settings.lr},
                             {"params": [model.color_logits], "lr": settings.color_lr}])


def fit_mesh(model: DeformedSphere, views: Views, settings: FitSettings, mode: Mode,
             seed: int, progress: bool = False, desc: str = "fit") -> dict[str, list[float]]:
    """Optimise ``model`` on ``views`` for ``settings.steps``; returns the per-step loss terms.

    Each step renders ``views_per_step`` views drawn with a generator seeded by ``seed``.
    """
    gen = torch.Generator().manual_seed(seed)
    optimizer = make_optimizer(model, settings)
    history: dict[str, list[float]] = {}
    k = min(settings.views_per_step, len(views))
    with ProgressBar(settings.steps, desc=desc, enabled=progress) as bar:
        for step in range(settings.steps):
            idx = torch.randperm(len(views), generator=gen)[:k]
            terms = fit_step(model, optimizer, views.subset(idx), settings, mode)
            check_finite(torch.tensor(terms["total"]), step, f"{mode} mesh fit")
            for name, value in terms.items():
                history.setdefault(name, []).append(value)
            if bar.due():
                bar.update(step + 1, loss=terms["total"], samples=(step + 1) * k)
    return history


@torch.no_grad()
def silhouette_iou(verts: Tensor, faces: Tensor, views: Views) -> Tensor:
    """Hard-mask IoU (K,) of a mesh against each view's target mask."""
    out = render(verts.unsqueeze(0), faces, views.camera, views.mask.shape[-1], delta=1e-6)
    return soft_iou(out.mask, views.mask)

