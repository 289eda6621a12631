"""Single-image 3D: a CNN that turns one photo into a mesh, vertex colours and a light.

As in DIB-R (Chen et al., 2019) the network never sees a 3D label. It predicts, from one
image, a deformation of a fixed template (an icosphere from
:func:`introdl.content3d.mesh.icosphere`): a global anisotropic scale and per-vertex offsets,
``verts = template * exp(scale) + max_offset * tanh(offsets)``; a colour per vertex (a global
colour plus per-vertex detail); and a light direction. The prediction is rendered with the
differentiable renderer (:func:`introdl.content3d.renderer.render`) from the *known* cameras
of several views of the same object, and compared with those views: soft-silhouette IoU
loss, L1 on the colours, plus the Laplacian and edge-length regularisers of
:mod:`introdl.content3d.mesh` that keep the template a smooth surface.

:class:`MeanShape` is the same decoder fed a learned constant instead of image features: the
best single mesh for the whole training set under the same loss, the baseline an encoder has
to beat to show it reads the shape from the image.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from introdl.content3d.camera import Camera, look_at, orbit
from introdl.content3d.mesh import edge_length_loss, icosphere, laplacian_loss
from introdl.content3d.renderer import render
from introdl.engine.progress import ProgressBar


@dataclass
class Prediction:
    """A batch of predicted meshes (template topology), vertex colours and light directions."""

    verts: Tensor  # (B, V, 3)
    colors: Tensor  # (B, V, 3) in [0, 1]
    light_dir: Tensor  # (B, 3) unit


class MeshDecoder(nn.Module):
    """Features (B, hidden) -> template deformation, vertex colours and light (see module doc).

    The output layers start at zero, so an untrained decoder gives the template (radius
    ``template_radius``), grey, lit from above.
    """

    def __init__(self, subdivisions: int = 2, hidden: int = 256, template_radius: float = 0.5,
                 max_offset: float = 0.5) -> None:
        super().__init__()
        verts, faces = icosphere(subdivisions)
        self.register_buffer("template", verts * template_radius)
        self.register_buffer("faces", faces)
        self.max_offset = max_offset
        n = verts.shape[0]
        self.scale = nn.Linear(hidden, 3)
        self.offsets = nn.Linear(hidden, 3 * n)
        self.colors = nn.Linear(hidden, 3 * n)
        self.base_color = nn.Linear(hidden, 3)  # one colour for the whole mesh, plus detail
        self.light = nn.Linear(hidden, 3)
        for layer in (self.scale, self.offsets, self.colors, self.base_color, self.light):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)
        with torch.no_grad():
            self.light.bias.copy_(torch.tensor([0.0, 1.0, 0.0]))

    def forward(self, h: Tensor) -> Prediction:
        b, n = h.shape[0], self.template.shape[0]
        scale = torch.exp(self.scale(h)).unsqueeze(1)
        offsets = self.max_offset * torch.tanh(self.offsets(h).view(b, n, 3))
        verts = self.template.unsqueeze(0) * scale + offsets
        colors = torch.sigmoid(self.colors(h).view(b, n, 3) + self.base_color(h).unsqueeze(1))
        light = self.light(h)
        light = light / light.norm(dim=-1, keepdim=True).clamp_min(1e-6)
        return Prediction(verts, colors, light)


def conv_features(size: int, width: int, hidden: int, in_channels: int = 3) -> nn.Sequential:
    """A small strided CNN: (B, C, size, size) -> (B, hidden); three halvings."""
    s = size // 8
    return nn.Sequential(
        nn.Conv2d(in_channels, width, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(width, 2 * width, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(2 * width, 4 * width, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Flatten(), nn.Linear(4 * width * s * s, hidden), nn.LeakyReLU(0.2),
    )


class Reconstructor(nn.Module):
    """Image (B, 3, size, size) -> :class:`Prediction`: a CNN encoder and a mesh decoder."""

    def __init__(self, size: int = 32, width: int = 32, hidden: int = 256,
                 subdivisions: int = 2, template_radius: float = 0.5,
                 max_offset: float = 0.5) -> None:
        super().__init__()
        if size % 8:
            raise ValueError(f"image size must be a multiple of 8, got {size}")
        self.encoder = conv_features(size, width, hidden)
        self.decoder = MeshDecoder(subdivisions, hidden, template_radius, max_offset)

    @property
    def faces(self) -> Tensor:
        return self.decoder.faces

    def forward(self, images: Tensor) -> Prediction:
        return self.decoder(self.encoder(images))


class MeanShape(nn.Module):
    """The baseline: one learned mesh for every image (the decoder fed a learned constant)."""

    def __init__(self, hidden: int = 256, subdivisions: int = 2, template_radius: float = 0.5,
                 max_offset: float = 0.5, **_: object) -> None:
        super().__init__()
        self.code = nn.Parameter(torch.zeros(1, hidden))
        self.decoder = MeshDecoder(subdivisions, hidden, template_radius, max_offset)
        nn.init.normal_(self.decoder.offsets.weight, std=1e-3)  # else the code gets no gradient

    @property
    def faces(self) -> Tensor:
        return self.decoder.faces

    def forward(self, images: Tensor) -> Prediction:
        return self.decoder(self.code.expand(images.shape[0], -1))


def cameras(azimuths: Tensor, elevation: float, distance: float, fov_deg: float) -> Camera:
    """Cameras on an orbit around the origin at the given azimuths (degrees), one per row."""
    el = torch.full_like(azimuths, elevation)
    return Camera(look_at(orbit(azimuths, el, distance)), fov_deg)


@dataclass
class ViewSet:
    """Multi-view training data: N objects x K views with known cameras."""

    rgb: Tensor  # (N, K, 3, H, W)
    mask: Tensor  # (N, K, 1, H, W) in [0, 1]
    azimuth: Tensor  # (N, K) degrees
    elevation: float
    distance: float
    fov_deg: float = 30.0


@dataclass
class FitConfig:
    """Training of a :class:`Reconstructor` (or :class:`MeanShape`) by re-rendering loss."""

    steps: int = 300
    batch: int = 16  # objects per step
    views_per_step: int = 4  # of each object's K views, how many are re-rendered
    lr: float = 2e-3
    rgb_weight: float = 4.0  # the colour term is averaged over mostly-background pixels
    laplacian_weight: float = 3.0
    edge_weight: float = 0.3
    delta: float = 1e-3  # soft-silhouette sharpness for training (NDC units squared)


def silhouette_iou_loss(alpha: Tensor, target: Tensor) -> Tensor:
    """1 - soft IoU of two (B, 1, H, W) silhouettes, averaged over the batch."""
    inter = (alpha * target).flatten(1).sum(1)
    union = (alpha + target - alpha * target).flatten(1).sum(1).clamp_min(1e-6)
    return (1.0 - inter / union).mean()


def render_prediction(pred: Prediction, faces: Tensor, camera: Camera, size: int,
                      delta: float = 3e-4):
    """Render each predicted mesh (B) from the matching camera (B)."""
    return render(pred.verts, faces, camera, size, colors=pred.colors,
                  light_dir=pred.light_dir, delta=delta)


def reconstruction_loss(model: nn.Module, data: ViewSet, idx: Tensor, cfg: FitConfig,
                        gen: torch.Generator) -> Tensor:
    """Encode one random view of each object in ``idx``; re-render at random views of it."""
    n_views = data.rgb.shape[1]
    b = idx.shape[0]
    src = torch.randint(n_views, (b,), generator=gen)
    pred = model(data.rgb[idx, src])
    k = min(cfg.views_per_step, n_views)
    tgt = torch.stack([torch.randperm(n_views, generator=gen)[:k] for _ in range(b)])
    rep = lambda t: t.unsqueeze(1).expand(b, k, *t.shape[1:]).reshape(b * k, *t.shape[1:])  # noqa: E731
    pred_k = Prediction(rep(pred.verts), rep(pred.colors), rep(pred.light_dir))
    az = data.azimuth[idx.unsqueeze(1), tgt].reshape(-1)
    out = render_prediction(pred_k, model.faces, cameras(az, data.elevation, data.distance,
                                                          data.fov_deg),
                            data.rgb.shape[-1], cfg.delta)
    rgb_t = data.rgb[idx.unsqueeze(1), tgt].flatten(0, 1)
    mask_t = data.mask[idx.unsqueeze(1), tgt].flatten(0, 1)
    loss = silhouette_iou_loss(out.alpha, mask_t)
    loss = loss + cfg.rgb_weight * (out.rgb - rgb_t).abs().mean()
    loss = loss + cfg.laplacian_weight * laplacian_loss(pred.verts, model.faces)
    return loss + cfg.edge_weight * edge_length_loss(pred.verts, model.faces)


def fit(model: nn.Module, data: ViewSet, cfg: FitConfig, seed: int,
        progress: bool = False, desc: str = "fit") -> list[float]:
    """Train ``model`` on multi-view ``data`` by re-rendering loss; returns the loss curve."""
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    n = data.rgb.shape[0]
    losses: list[float] = []
    model.train()
    with ProgressBar(cfg.steps, desc=desc, enabled=progress) as bar:
        for step in range(cfg.steps):
            idx = torch.randperm(n, generator=gen)[: min(cfg.batch, n)]
            loss = reconstruction_loss(model, data, idx, cfg, gen)
            if not math.isfinite(loss.item()):
                raise FloatingPointError(f"{desc}: loss is not finite at step {step}")
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
            if bar.due():
                bar.update(step + 1, loss=losses[-1], samples=(step + 1) * idx.shape[0])
    model.eval()
    return losses


@torch.no_grad()
def predict(model: nn.Module, images: Tensor, batch: int = 64) -> Prediction:
    """Predictions for (N, 3, H, W) images, in batches."""
    model.eval()
    parts = [model(images[i:i + batch]) for i in range(0, images.shape[0], batch)]
    return Prediction(*(torch.cat([getattr(p, k) for p in parts])
                        for k in ("verts", "colors", "light_dir")))
