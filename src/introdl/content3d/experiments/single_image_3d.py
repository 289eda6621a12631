"""Single-image 3D without 3D labels: an encoder trained only by re-rendering (as DIB-R learns).

Data: procedurally generated toy cars (:mod:`introdl.content3d.cars`: a body box, a cabin
box and four wheel cylinders, every size drawn from a stated uniform prior), each rendered by
the differentiable renderer of :mod:`introdl.content3d.renderer` from ``views`` azimuths
(evenly spaced, fixed elevation, known cameras) under a random light. The encoder
(:class:`~introdl.content3d.reconstruct.Reconstructor`) sees one view and predicts a deformed
icosphere, vertex colours and a light; it is trained only by rendering that prediction at
other views of the same car and comparing silhouettes and colours. No 3D shape is ever used
in training.

Evaluation on held-out cars (never seen in training; nothing is tuned on them): 3D IoU of the
voxelised prediction against the car's exact solid, Chamfer distance between surface samples,
and silhouette IoU of renders from *new* angles (between the training azimuths, higher
elevation). Baselines measured in the same run: the untrained template sphere, and the mean
shape (:class:`~introdl.content3d.reconstruct.MeanShape`: one mesh fitted to all training
cars by the same loss), which is what an encoder that ignores its input would give.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from introdl.config import require
from introdl.content3d.cars import Car, car_voxels, make_cars, surface_points
from introdl.content3d.metrics import chamfer_distance, voxel_iou
from introdl.content3d.reconstruct import (
    FitConfig,
    MeanShape,
    Prediction,
    Reconstructor,
    ViewSet,
    cameras,
    fit,
    predict,
    render_prediction,
)
from introdl.content3d.renderer import render
from introdl.content3d.sampling import sample_surface
from introdl.content3d.voxels import voxelize
from introdl.experiment import Claim, Fact, experiment
from introdl.report.plots import figure
from introdl.run import Run

NOVEL_ELEVATION_SHIFT = 15.0  # new-angle views: between the training azimuths, higher up


@dataclass
class SingleImage3DConfig:
    train_objects: int = 320  # procedurally generated training cars
    test_objects: int = 40  # held-out cars (other seeds)
    views: int = 8  # known cameras per car, evenly spaced in azimuth
    size: int = 32  # image side (multiple of 8)
    elevation: float = 25.0
    distance: float = 3.5
    fit_steps: int = 2000  # encoder training steps
    baseline_steps: int = 300  # mean-shape training steps
    batch_size: int = 16  # cars per step
    views_per_step: int = 3  # views of each car re-rendered per step
    subdivisions: int = 2  # icosphere template (2: 162 vertices)
    voxel_resolution: int = 32
    chamfer_points: int = 1500

    def validate(self) -> None:
        require(self, "train_objects", self.train_objects >= 4, "use at least 4 training cars")
        require(self, "test_objects", self.test_objects >= 2, "use at least 2 held-out cars")
        require(self, "views", self.views >= 2, "re-rendering needs at least 2 views per car")
        require(self, "size", self.size >= 16 and self.size % 8 == 0,
                "use a multiple of 8, at least 16 (e.g. 32)")
        require(self, "subdivisions", 0 <= self.subdivisions <= 4, "use 0..4 (2 = 162 vertices)")
        require(self, "views_per_step", 1 <= self.views_per_step <= self.views,
                "must be between 1 and views")
        require(self, "distance", self.distance > 1.5, "the camera must stay outside the car")
        require(self, "voxel_resolution", self.voxel_resolution >= 8, "use at least 8")
        require(self, "chamfer_points", self.chamfer_points >= 100, "use at least 100")


def light_dirs(n: int, seed: int) -> torch.Tensor:
    """Random light directions (n, 3) from above: x, z ~ U(-1, 1), y ~ U(0.5, 1.5), normalised."""
    rng = np.random.default_rng([seed, 7])
    d = np.stack([rng.uniform(-1, 1, n), rng.uniform(0.5, 1.5, n), rng.uniform(-1, 1, n)], 1)
    return torch.tensor(d / np.linalg.norm(d, axis=1, keepdims=True), dtype=torch.float32)


def render_cars(cars: list[Car], azimuths: torch.Tensor, size: int, elevation: float,
                distance: float, seed: int) -> ViewSet:
    """Render every car at the same azimuths (degrees) under its own random light."""
    light = light_dirs(len(cars), seed)
    k = azimuths.shape[0]
    cam = cameras(azimuths, elevation, distance, 30.0)
    rgb, mask = [], []
    with torch.no_grad():
        for car, ld in zip(cars, light, strict=True):
            out = render(car.verts.unsqueeze(0).expand(k, -1, -1), car.faces, cam, size,
                         colors=car.colors.unsqueeze(0).expand(k, -1, -1),
                         light_dir=ld.unsqueeze(0).expand(k, 3))
            rgb.append(out.rgb)
            mask.append(out.mask)
    return ViewSet(torch.stack(rgb), torch.stack(mask), azimuths.expand(len(cars), k).clone(),
                   elevation, distance)


def training_azimuths(views: int) -> torch.Tensor:
    return torch.arange(views, dtype=torch.float32) * (360.0 / views)


def novel_azimuths(views: int) -> torch.Tensor:
    """Azimuths halfway between the training ones (never rendered for training)."""
    return training_azimuths(views) + 180.0 / views


@torch.no_grad()
def evaluate(pred: Prediction, faces: torch.Tensor, cars: list[Car], novel: ViewSet,
             resolution: int, points: int) -> dict[str, float]:
    """3D IoU, Chamfer and new-angle silhouette IoU of predicted meshes against the true cars."""
    ious, chamfers, sil = [], [], []
    k = novel.azimuth.shape[1]
    cam = cameras(novel.azimuth[0], novel.elevation, novel.distance, novel.fov_deg)
    for i, car in enumerate(cars):
        verts = pred.verts[i]
        ious.append(voxel_iou(voxelize(verts, faces, resolution), car_voxels(car, resolution)))
        p, _ = sample_surface(verts, faces, points, seed=i)
        chamfers.append(float(chamfer_distance(p, surface_points(car, points, seed=i))))
        one = Prediction(verts.expand(k, -1, -1), pred.colors[i].expand(k, -1, -1),
                         pred.light_dir[i].expand(k, 3))
        m = render_prediction(one, faces, cam, novel.rgb.shape[-1]).mask
        t = novel.mask[i]
        sil.append(float((m * t).sum() / (m + t - m * t).sum().clamp_min(1e-6)))
    return {"iou": float(np.mean(ious)), "chamfer": float(np.mean(chamfers)),
            "novel_view_iou": float(np.mean(sil))}


def input_images(data: ViewSet, seed: int) -> torch.Tensor:
    """One view per held-out car, its index drawn from the seed: the encoder's single photo."""
    rng = np.random.default_rng([seed, 11])
    pick = torch.as_tensor(rng.integers(0, data.rgb.shape[1], data.rgb.shape[0]))
    return data.rgb[torch.arange(data.rgb.shape[0]), pick]


def test_sets(cfg, seed: int) -> tuple[list[Car], ViewSet, ViewSet]:
    """Held-out cars (seeds disjoint from training), their input views and new-angle views."""
    cars = make_cars(cfg.test_objects, seed + 50_000)
    views = render_cars(cars, training_azimuths(cfg.views), cfg.size, cfg.elevation,
                        cfg.distance, seed + 50_000)
    novel = render_cars(cars, novel_azimuths(cfg.views), cfg.size,
                        cfg.elevation + NOVEL_ELEVATION_SHIFT, cfg.distance, seed + 50_000)
    return cars, views, novel


def fit_config(cfg, steps: int) -> FitConfig:
    return FitConfig(steps=steps, batch=cfg.batch_size, views_per_step=cfg.views_per_step)


def train_and_evaluate(cfg, train: ViewSet, test: tuple[list[Car], ViewSet, ViewSet],
                       seed: int, progress: bool, label: str,
                       wrap: Callable[[Reconstructor], nn.Module] | None = None,
                       ) -> tuple[nn.Module, dict]:
    """Fit a :class:`Reconstructor` on ``train`` and measure it on the held-out cars.

    ``wrap`` puts the new model inside another module before training (``ganverse3d``
    jitters its input colours that way); it must keep ``faces`` and the call signature.
    """
    torch.manual_seed(seed)
    model = Reconstructor(size=cfg.size, subdivisions=cfg.subdivisions)
    if wrap is not None:
        model = wrap(model)
    losses = fit(model, train, fit_config(cfg, cfg.fit_steps), seed, progress, label)
    cars, views, novel = test
    res = evaluate(predict(model, input_images(views, seed)), model.faces, cars, novel,
                   cfg.voxel_resolution, cfg.chamfer_points)
    res["final_loss"] = float(np.mean(losses[-20:]))
    return model, res


def baselines(cfg, train: ViewSet, test, seed: int, progress: bool) -> dict[str, dict]:
    """The untrained template sphere and the fitted mean shape, on the held-out cars."""
    cars, views, novel = test
    images = input_images(views, seed)
    out = {}
    torch.manual_seed(seed)
    sphere = MeanShape(subdivisions=cfg.subdivisions)
    out["sphere"] = evaluate(predict(sphere, images), sphere.faces, cars, novel,
                             cfg.voxel_resolution, cfg.chamfer_points)
    mean = MeanShape(subdivisions=cfg.subdivisions)
    fit(mean, train, fit_config(cfg, cfg.baseline_steps), seed, progress, "mean shape")
    out["mean_shape"] = evaluate(predict(mean, images), mean.faces, cars, novel,
                                 cfg.voxel_resolution, cfg.chamfer_points)
    out["_mean_model"] = mean
    return out


@experiment(
    name="single-image-3d", lecture=11,
    title="Single-image 3D from re-rendering alone (DIB-R style, procedurally generated cars)",
    claims=[
        Claim("An encoder trained only by re-rendering several known views (no 3D labels) "
              "recovers held-out cars' 3D shape better than the best single mean shape: 3D "
              "IoU gain over the mean shape (procedurally generated cars)",
              metric="iou_gain", expected=0.05, compare=">=", quick_expected=0.015),
        Claim("... and a lower Chamfer distance: encoder / mean shape",
              metric="chamfer_ratio", expected=0.7, compare="<=", quick_expected=0.9),
        Claim("Its meshes render correctly from new angles: silhouette IoU at unseen azimuths "
              "and elevation, gain over the mean shape",
              metric="novel_view_gain", expected=0.05, compare=">=", full_only=True),
        Claim("one photo in, textured 3D asset out; renders from new angles (figure)"),
    ],
    facts=[
        Fact("3D IoU of the encoder on held-out procedurally generated cars", metric="iou_encoder"),
        Fact("3D IoU of the mean shape", metric="iou_mean_shape"),
        Fact("3D IoU of the untrained template sphere", metric="iou_sphere"),
        Fact("Chamfer distance, encoder", metric="chamfer_encoder"),
        Fact("Chamfer distance, mean shape", metric="chamfer_mean_shape"),
        Fact("Chamfer distance, template sphere", metric="chamfer_sphere"),
        Fact("new-angle silhouette IoU, encoder", metric="novel_view_iou_encoder"),
        Fact("new-angle silhouette IoU, mean shape", metric="novel_view_iou_mean_shape"),
    ],
    quick={"train_objects": 64, "test_objects": 16, "fit_steps": 150, "baseline_steps": 40,
           "batch_size": 12, "views_per_step": 3, "voxel_resolution": 24,
           "chamfer_points": 600},
)
def single_image_3d(cfg: SingleImage3DConfig, run: Run) -> dict[str, float]:
    t0 = time.process_time()
    train_cars = make_cars(cfg.train_objects, run.seed)
    train = render_cars(train_cars, training_azimuths(cfg.views), cfg.size, cfg.elevation,
                        cfg.distance, run.seed)
    test = test_sets(cfg, run.seed)
    run.print(f"procedurally generated cars: {cfg.train_objects} training, "
              f"{cfg.test_objects} held out; {cfg.views} views each at {cfg.size}px")
    base = baselines(cfg, train, test, run.seed, run.progress)
    model, enc = train_and_evaluate(cfg, train, test, run.seed, run.progress, "encoder")
    rows = {"encoder": enc, "mean_shape": base["mean_shape"], "sphere": base["sphere"]}
    metrics: dict[str, float] = {}
    for name, r in rows.items():
        for k in ("iou", "chamfer", "novel_view_iou"):
            metrics[f"{k}_{name}"] = r[k]
    metrics["iou_gain"] = metrics["iou_encoder"] - metrics["iou_mean_shape"]
    metrics["chamfer_ratio"] = metrics["chamfer_encoder"] / max(metrics["chamfer_mean_shape"],
                                                                1e-12)
    metrics["novel_view_gain"] = (metrics["novel_view_iou_encoder"]
                                  - metrics["novel_view_iou_mean_shape"])
    table = ["| model (held-out procedurally generated cars) | 3D IoU | Chamfer | "
             "new-angle silhouette IoU |", "|---|---|---|---|"]
    for name, r in rows.items():
        table.append(f"| {name.replace('_', ' ')} | {r['iou']:.3f} | {r['chamfer']:.4f} | "
                     f"{r['novel_view_iou']:.3f} |")
    text = "\n".join(table)
    run.print(text)
    run.save_text("results.md", f"Procedurally generated toy cars (not real data): "
                  f"{cfg.train_objects} training cars x {cfg.views} known views, "
                  f"{cfg.test_objects} held-out cars, {cfg.size}px renders; 3D IoU at "
                  f"{cfg.voxel_resolution}^3.\n\n{text}\n\nCPU seconds: "
                  f"{time.process_time() - t0:.0f}\n")
    cars, views, _ = test
    run.save_figure(asset_figure(model, cars, views, cfg, run.seed), "asset.png")
    return metrics


@torch.no_grad()
def asset_figure(model: Reconstructor, cars: list[Car], views: ViewSet, cfg, seed: int,
                 n: int = 4, title: str = "one photo in, textured 3D asset out"):
    """Per held-out car: the input photo, then prediction and truth rendered from new angles."""
    images = input_images(views, seed)[:n]
    pred = predict(model, images)
    angles = [(30.0, 10.0), (120.0, 45.0), (210.0, 20.0), (300.0, 60.0)]
    az = torch.tensor([a for a, _ in angles])
    cols = 1 + 2 * len(angles)
    fig, axes = figure(cols, n, size=(1.1, 1.15), squeeze=False)
    light = torch.tensor([[0.4, 1.0, 0.6]]) / torch.tensor([[0.4, 1.0, 0.6]]).norm()
    size = 64
    for i in range(min(n, len(cars))):
        axes[i, 0].imshow(images[i].permute(1, 2, 0).clamp(0, 1).numpy())
        for j, (a, e) in enumerate(angles):
            cam = cameras(az[j:j + 1], e, cfg.distance, 30.0)
            p = render(pred.verts[i:i + 1], model.faces, cam, size,
                       colors=pred.colors[i:i + 1], light_dir=light).rgb[0]
            t = render(cars[i].verts[None], cars[i].faces, cam, size,
                       colors=cars[i].colors[None], light_dir=light).rgb[0]
            axes[i, 1 + 2 * j].imshow(p.permute(1, 2, 0).clamp(0, 1).numpy())
            axes[i, 2 + 2 * j].imshow(t.permute(1, 2, 0).clamp(0, 1).numpy())
            if i == 0:
                axes[0, 1 + 2 * j].set_title(f"ours {a:.0f}°/{e:.0f}°", fontsize=7)
                axes[0, 2 + 2 * j].set_title("true", fontsize=7)
    axes[0, 0].set_title("input photo", fontsize=7)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"{title} (held-out procedurally generated cars; new angles)", fontsize=8)
    fig.tight_layout()
    return fig
