"""GANverse3D, small: a view/content-split generator as a multi-view data engine for 3D.

1. A conditional generator ``G(view, content)`` (:mod:`introdl.content3d.view_gan`) is trained
   on renders of procedurally generated training cars (:mod:`introdl.content3d.cars`) at
   ``views`` known azimuths; each training car owns a content code, new contents are drawn
   as interpolations between pairs of training codes. Its discriminator is off by default
   (``adv_weight=0``): on training cars it cost colour accuracy.
2. Disentanglement, measured with probes trained on *true* renders only (training cars at
   random azimuths): a pose regressor (of the car's axis, modulo 180 degrees, as the cars are
   nearly front/back symmetric) and an identity classifier (over the first
   ``identity_classes`` training cars). Fixing content and sweeping the view code over 16
   azimuths (half of them never seen in training), the regressor should follow the view code
   and the identity should stay put; fixing the view and sweeping content, the pose should
   stay put and the identity should change.
3. G renders ``generated_objects`` new contents at the known azimuths; the single-image 3D
   encoder of :mod:`introdl.content3d.experiments.single_image_3d` is trained on these
   generated multi-view images (G's alpha thresholded at 0.5 as the silhouette, its colour
   composited on black inside it), and, separately, on
   the renderer's true multi-view images of the training cars. Both are measured on held-out
   true cars (3D IoU against the exact solid, Chamfer), beside the mean-shape baseline
   fitted to the true training views. Reported: the share of the true-data gain over the
   baseline that generated data reaches. Both encoders see colour-jittered inputs in
   training (``colour_augment``: random channel order, saturation and brightness per image;
   the re-rendering targets stay as they are), so that an encoder trained on G's washed-out
   colours can still read the saturated colours of true renders.

Every image here is rendered or generated from procedurally generated cars: none is real.
Caveat (unlike GANverse3D's StyleGAN, which never saw multi-view data): G is trained on
multi-view renders of its training cars, so what transfers is its ability to make consistent
views of *new* contents.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from introdl.config import require
from introdl.content3d.cars import make_cars
from introdl.content3d.experiments.single_image_3d import (
    asset_figure,
    baselines,
    evaluate,
    input_images,
    render_cars,
    test_sets,
    train_and_evaluate,
    training_azimuths,
)
from introdl.content3d.reconstruct import Reconstructor, ViewSet, conv_features, predict
from introdl.content3d.view_gan import (
    ViewGANConfig,
    angular_error_deg,
    circular_spread_deg,
    generate_views,
    image_quality,
    modal_share,
    sample_content,
    train_view_gan,
    view_code,
)
from introdl.experiment import Claim, Fact, experiment
from introdl.report.plots import figure
from introdl.run import Run

SWEEP = 16  # view codes in a sweep (every 22.5 degrees: half of them are new angles)


@dataclass
class GANverse3DConfig:
    train_objects: int = 320  # procedurally generated training cars (G and the true encoder)
    test_objects: int = 40  # held-out true cars for 3D accuracy
    generated_objects: int = 320  # new contents G renders for the generated-data encoder
    views: int = 8
    size: int = 32
    elevation: float = 25.0
    distance: float = 3.5
    gan_steps: int = 2500
    adv_weight: float = 0.0  # 0: pure GLO (the discriminator cost colour on training cars)
    content_dim: int = 16
    hard_alpha: bool = True  # G's alpha thresholded at 0.5 as the silhouette (False: soft)
    fit_steps: int = 1000  # each encoder
    baseline_steps: int = 300
    batch_size: int = 16
    views_per_step: int = 3
    subdivisions: int = 2
    voxel_resolution: int = 32
    chamfer_points: int = 1500
    probe_views: int = 8  # random-azimuth true renders per training car for the probes
    probe_epochs: int = 20
    identity_classes: int = 24  # training cars the identity classifier tells apart
    sweep_contents: int = 16  # new contents in the disentanglement sweeps
    colour_augment: bool = True  # jitter both encoders' input colours in training
    saturation_range: float = 3.0  # saturation factor drawn log-uniformly in [1/r, r]
    brightness_jitter: float = 0.3  # brightness factor drawn uniformly in [1 - b, 1 + b]

    def validate(self) -> None:
        require(self, "train_objects", self.train_objects >= 4, "use at least 4 training cars")
        require(self, "test_objects", self.test_objects >= 2, "use at least 2 held-out cars")
        require(self, "generated_objects", self.generated_objects >= 4, "use at least 4")
        require(self, "views", self.views >= 2, "re-rendering needs at least 2 views per car")
        require(self, "size", self.size in (16, 32, 64), "use 16, 32 or 64 (4 * 2^k)")
        require(self, "views_per_step", 1 <= self.views_per_step <= self.views,
                "must be between 1 and views")
        require(self, "identity_classes", 2 <= self.identity_classes <= self.train_objects,
                "must be between 2 and train_objects")
        require(self, "content_dim", self.content_dim >= 1, "must be at least 1")
        require(self, "adv_weight", self.adv_weight >= 0, "must be >= 0 (0 turns D off)")
        require(self, "distance", self.distance > 1.5, "the camera must stay outside the car")
        require(self, "subdivisions", 0 <= self.subdivisions <= 4, "use 0..4 (2 = 162 vertices)")
        require(self, "voxel_resolution", self.voxel_resolution >= 8, "use at least 8")
        require(self, "chamfer_points", self.chamfer_points >= 100, "use at least 100")
        require(self, "probe_views", self.probe_views >= 1, "must be at least 1")
        require(self, "probe_epochs", self.probe_epochs >= 1, "must be at least 1")
        require(self, "sweep_contents", self.sweep_contents >= 2, "use at least 2")
        require(self, "saturation_range", self.saturation_range >= 1, "must be >= 1 (1: off)")
        require(self, "brightness_jitter", 0 <= self.brightness_jitter < 1,
                "must be in [0, 1) (0: off)")


def gap_closed(gen_gain: float, true_gain: float, min_true_gain: float = 0.01) -> float:
    """Share of the true-data IoU gain over the mean shape that generated data reaches.

    NaN (which fails the claim) when the true-data encoder beats the mean shape by no more
    than ``min_true_gain``: a ratio over a near-zero gain says nothing.
    """
    return gen_gain / true_gain if true_gain > min_true_gain else float("nan")


_PERMUTATIONS = torch.tensor(list(itertools.permutations(range(3))))


def colour_jitter(images: torch.Tensor, gen: torch.Generator, saturation_range: float,
                  brightness_jitter: float) -> torch.Tensor:
    """Per image: a random order of the colour channels, a saturation factor (log-uniform in
    [1/r, r], about the pixel's grey level) and a brightness factor; black stays black.

    G draws every car in washed-out colours; an encoder trained on its images alone reads
    the saturated true renders badly. Jittering colour makes the input's colour uninformative
    for shape in both encoders alike.
    """
    b = images.shape[0]
    perm = _PERMUTATIONS[torch.randint(len(_PERMUTATIONS), (b,), generator=gen)]
    x = torch.gather(images, 1, perm[:, :, None, None].expand_as(images))
    grey = x.mean(1, keepdim=True)
    log_r = math.log(saturation_range)
    sat = (torch.rand(b, 1, 1, 1, generator=gen) * 2 - 1) * log_r
    x = grey + sat.exp() * (x - grey)
    bright = 1 + (torch.rand(b, 1, 1, 1, generator=gen) * 2 - 1) * brightness_jitter
    return (x * bright).clamp(0, 1)


class ColourAugmented(nn.Module):
    """A :class:`Reconstructor` whose input colours are jittered in training mode only."""

    def __init__(self, model: Reconstructor, seed: int, saturation_range: float,
                 brightness_jitter: float) -> None:
        super().__init__()
        self.model = model
        self.gen = torch.Generator().manual_seed(seed)
        self.saturation_range = saturation_range
        self.brightness_jitter = brightness_jitter

    @property
    def faces(self) -> torch.Tensor:
        return self.model.faces

    def forward(self, images: torch.Tensor):
        if self.training:
            images = colour_jitter(images, self.gen, self.saturation_range,
                                   self.brightness_jitter)
        return self.model(images)


def axial_error_deg(pred2: torch.Tensor, true_deg: torch.Tensor) -> torch.Tensor:
    """Pose error modulo 180 degrees (0..90) from (sin 2a, cos 2a) predictions.

    The cars are nearly front/back symmetric (only the cabin's shift and the colours tell
    front from back), so the pose probe reads the car's axis, not its heading.
    """
    return angular_error_deg(pred2, 2 * true_deg) / 2


def _probe_net(size: int, outputs: int) -> nn.Module:
    return nn.Sequential(conv_features(size, 16, 128), nn.Linear(128, outputs))


def train_probe(images: torch.Tensor, targets: torch.Tensor, outputs: int, epochs: int,
                seed: int, classify: bool) -> nn.Module:
    """A small CNN on true renders: a pose regressor ((sin, cos), MSE) or an identity classifier."""
    torch.manual_seed(seed)
    net = _probe_net(images.shape[-1], outputs)
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        order = torch.randperm(images.shape[0], generator=gen)
        for i in range(0, len(order), 64):
            j = order[i:i + 64]
            out = net(images[j])
            loss = F.cross_entropy(out, targets[j]) if classify else F.mse_loss(out, targets[j])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return net.eval()


@torch.no_grad()
def _apply(net: nn.Module, images: torch.Tensor) -> torch.Tensor:
    return torch.cat([net(images[i:i + 256]) for i in range(0, images.shape[0], 256)])


def probe_data(cars, cfg, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """True renders of cars at random azimuths: images (N*P, 3, H, W), azimuths, car index."""
    rng = np.random.default_rng([seed, 23])
    images, az, who = [], [], []
    for i, car in enumerate(cars):
        a = torch.tensor(rng.uniform(0, 360, cfg.probe_views), dtype=torch.float32)
        v = render_cars([car], a, cfg.size, cfg.elevation, cfg.distance, seed + 1000 + i)
        images.append(v.rgb[0])
        az.append(a)
        who.append(torch.full((cfg.probe_views,), i))
    return torch.cat(images), torch.cat(az), torch.cat(who)


def disentanglement(g, codes, cfg, seed: int, pose_net, id_net) -> dict[str, float]:
    """The view sweep and the content sweep, read by the probes (see the module docstring)."""
    sweep = torch.arange(SWEEP, dtype=torch.float32) * (360.0 / SWEEP)
    c = cfg.identity_classes
    known = codes[:c]
    new = sample_content(codes, cfg.sweep_contents, seed + 77)
    out: dict[str, float] = {}
    rgb_known, _ = generate_views(g, known, sweep)  # (C, S, 3, H, W)
    rgb_new, _ = generate_views(g, new, sweep)
    for name, rgb in (("known", rgb_known), ("new", rgb_new)):
        pose = _apply(pose_net, rgb.flatten(0, 1)).view(rgb.shape[0], SWEEP, 2)
        err = axial_error_deg(pose, sweep.expand(rgb.shape[0], SWEEP))
        out[f"pose_error_{name}"] = float(err.mean())
        out[f"pose_error_{name}_unseen_angles"] = float(err[:, 1::2].mean())
        ident = _apply(id_net, rgb.flatten(0, 1)).argmax(1).view(rgb.shape[0], SWEEP)
        out[f"identity_kept_view_sweep_{name}"] = float(np.mean(
            [modal_share(row) for row in ident]))  # fixed content, views vary
        out[f"identity_kept_content_sweep_{name}"] = float(np.mean(
            [modal_share(col) for col in ident.T]))  # fixed view, contents vary
        out[f"pose_spread_content_sweep_{name}"] = float(np.mean(
            [circular_spread_deg(pose[:, s]) / 2 for s in range(SWEEP)]))
        if name == "known":
            out["identity_accuracy_known"] = float(
                (ident == torch.arange(c).unsqueeze(1)).float().mean())
    return out


@experiment(
    name="ganverse3d", lecture=11,
    title="GANverse3D: a view/content-split generator makes multi-view data for single-image 3D "
          "(procedurally generated cars)",
    claims=[
        Claim("Fixing content and sweeping the view code, a pose regressor trained on true "
              "renders follows the view code (mean error in degrees of the car's axis, modulo "
              "180, over 16 view codes, half of them unseen; chance is 45), for new contents",
              metric="pose_error_new", expected=10.0, compare="<=", quick_expected=20.0),
        Claim("... while the identity stays put: share of the sweep's views an identity "
              "classifier gives the content's modal class, minus that share when the content "
              "varies at a fixed view (the reverse sweep)",
              metric="identity_disentanglement", expected=0.2, compare=">=",
              full_only=True),
        Claim("Fixing the view and sweeping content, the pose stays put: spread (degrees, "
              "modulo 180) of the probe's pose across new contents; about 45 if it moved at "
              "random", metric="pose_spread_content_sweep_new", expected=12.0, compare="<=",
              quick_expected=15.0),
        Claim("An encoder trained only on generated multi-view images of new contents beats "
              "the mean-shape baseline on held-out true cars (3D IoU gain)",
              metric="gen_iou_gain", expected=0.03, compare=">=", full_only=True),
        Claim("Generator-made multi-view data gets most of the way to true multi-view data: "
              "share of the true-data 3D IoU gain over the mean shape it reaches",
              metric="gap_closed", expected=0.5, compare=">=", full_only=True),
        Claim("a viewpoint x content grid and one photo in, textured 3D asset out (figures)"),
    ],
    facts=[
        Fact("3D IoU, encoder trained on true multi-view renders (held-out cars)",
             metric="iou_true"),
        Fact("3D IoU, encoder trained on generated multi-view images", metric="iou_gen"),
        Fact("3D IoU, mean shape fitted to the true renders", metric="iou_mean_shape"),
        Fact("Chamfer, encoder on true data", metric="chamfer_true"),
        Fact("Chamfer, encoder on generated data", metric="chamfer_gen"),
        Fact("Chamfer, mean shape", metric="chamfer_mean_shape"),
        Fact("G's images of its training cars at their views: IoU of alpha > 0.5 with the "
             "true mask", metric="gan_alpha_iou_train"),
        Fact("... and mean |colour error| inside the true mask", metric="gan_colour_error_train"),
        Fact("pose regressor's error on held-out true renders at random angles (its floor)",
             metric="pose_error_true_renders"),
        Fact("pose error on G's images of training contents", metric="pose_error_known"),
        Fact("identity classifier's accuracy on G's images of training contents, all 16 "
             "views (chance 1/identity_classes)", metric="identity_accuracy_known"),
        Fact("identity classifier's accuracy on held-out-angle true renders",
             metric="identity_accuracy_true_renders"),
    ],
    quick={"train_objects": 48, "test_objects": 12, "generated_objects": 48,
           "gan_steps": 250, "fit_steps": 85, "baseline_steps": 20, "batch_size": 10,
           "views_per_step": 3, "voxel_resolution": 24, "chamfer_points": 500,
           "probe_views": 5, "probe_epochs": 12, "identity_classes": 12, "sweep_contents": 10},
)
def ganverse3d(cfg: GANverse3DConfig, run: Run) -> dict[str, float]:
    t0 = time.process_time()
    seed = run.seed
    train_cars = make_cars(cfg.train_objects, seed)
    train = render_cars(train_cars, training_azimuths(cfg.views), cfg.size, cfg.elevation,
                        cfg.distance, seed)
    test = test_sets(cfg, seed)
    run.print(f"procedurally generated cars: {cfg.train_objects} training x {cfg.views} views, "
              f"{cfg.test_objects} held out")
    gan = train_view_gan(train.rgb, train.mask, train.azimuth,
                         ViewGANConfig(steps=cfg.gan_steps, content_dim=cfg.content_dim,
                                       adv_weight=cfg.adv_weight), seed, run.progress)
    metrics: dict[str, float] = {"gan_final_loss": float(np.mean(gan.losses[-50:]))}
    quality = image_quality(gan.generator, gan.codes, train.rgb, train.mask, train.azimuth)
    metrics["gan_alpha_iou_train"] = quality["alpha_iou"]
    metrics["gan_colour_error_train"] = quality["colour_error"]
    run.print(f"G on its training cars (procedurally generated): alpha IoU "
              f"{quality['alpha_iou']:.3f}, colour error {quality['colour_error']:.3f}")

    # probes, trained on true renders of the training cars at random (mostly new) azimuths
    images, az, who = probe_data(train_cars, cfg, seed)
    pose_net = train_probe(images, view_code(2 * az), 2, cfg.probe_epochs, seed, classify=False)
    keep = who < cfg.identity_classes
    id_net = train_probe(images[keep], who[keep], cfg.identity_classes, cfg.probe_epochs,
                         seed + 1, classify=True)
    check_cars = train_cars[:cfg.identity_classes]
    c_img, c_az, c_who = probe_data(check_cars, cfg, seed + 5)  # other random angles
    metrics["identity_accuracy_true_renders"] = float(
        (_apply(id_net, c_img).argmax(1) == c_who).float().mean())
    t_img, t_az, _ = probe_data(test[0], cfg, seed + 9)
    metrics["pose_error_true_renders"] = float(axial_error_deg(_apply(pose_net, t_img),
                                                               t_az).mean())
    metrics |= disentanglement(gan.generator, gan.codes, cfg, seed, pose_net, id_net)
    metrics["identity_disentanglement"] = (metrics["identity_kept_view_sweep_new"]
                                           - metrics["identity_kept_content_sweep_new"])
    run.print(f"disentanglement (generated from procedurally generated cars): pose error "
              f"{metrics['pose_error_new']:.1f} deg (true renders "
              f"{metrics['pose_error_true_renders']:.1f}),"
              f" identity kept over views {metrics['identity_kept_view_sweep_new']:.2f} vs over "
              f"contents {metrics['identity_kept_content_sweep_new']:.2f}")

    # 3D from generated multi-view data vs from true multi-view data
    new = sample_content(gan.codes, cfg.generated_objects, seed + 99)
    azs = training_azimuths(cfg.views)
    g_rgb, g_alpha = generate_views(gan.generator, new, azs)
    if cfg.hard_alpha:
        g_alpha = (g_alpha > 0.5).float()
        g_rgb = g_rgb * g_alpha
    generated = ViewSet(g_rgb, g_alpha, azs.expand(cfg.generated_objects, -1).clone(),
                        cfg.elevation, cfg.distance)
    base = baselines(cfg, train, test, seed, run.progress)

    def jitter(model: Reconstructor) -> nn.Module:  # both encoders see the same jitter stream
        return ColourAugmented(model, seed + 31, cfg.saturation_range, cfg.brightness_jitter)

    wrap = jitter if cfg.colour_augment else None
    true_model, true_res = train_and_evaluate(cfg, train, test, seed, run.progress,
                                              "encoder (true views)", wrap)
    gen_model, gen_res = train_and_evaluate(cfg, generated, test, seed, run.progress,
                                            "encoder (generated views)", wrap)
    # the domain gap, on training cars (G knows their codes; the generated-data encoder never
    # saw them): its 3D IoU from their true renders vs from G's images of them
    n = min(cfg.test_objects, cfg.train_objects)
    sub = ViewSet(train.rgb[:n], train.mask[:n], train.azimuth[:n], cfg.elevation, cfg.distance)
    k_rgb, k_alpha = generate_views(gan.generator, gan.codes[:n], azs)
    if cfg.hard_alpha:
        k_rgb = k_rgb * (k_alpha > 0.5).float()
    for name, images in (("true_renders", input_images(sub, seed)),
                         ("g_images", input_images(ViewSet(k_rgb, k_alpha, sub.azimuth,
                                                           cfg.elevation, cfg.distance), seed))):
        metrics[f"train_cars_gen_encoder_iou_{name}"] = evaluate(
            predict(gen_model, images), gen_model.faces, train_cars[:n], sub,
            cfg.voxel_resolution, cfg.chamfer_points)["iou"]
    run.print(f"training-car check (procedurally generated; generated-data encoder): 3D IoU "
              f"{metrics['train_cars_gen_encoder_iou_true_renders']:.3f} from true renders, "
              f"{metrics['train_cars_gen_encoder_iou_g_images']:.3f} from G's images")
    rows = {"true": true_res, "gen": gen_res, "mean_shape": base["mean_shape"],
            "sphere": base["sphere"]}
    for name, r in rows.items():
        metrics[f"iou_{name}"] = r["iou"]
        metrics[f"chamfer_{name}"] = r["chamfer"]
        metrics[f"novel_view_iou_{name}"] = r["novel_view_iou"]
    metrics["gen_iou_gain"] = metrics["iou_gen"] - metrics["iou_mean_shape"]
    metrics["true_iou_gain"] = metrics["iou_true"] - metrics["iou_mean_shape"]
    metrics["gap_closed"] = gap_closed(metrics["gen_iou_gain"], metrics["true_iou_gain"])
    labels = {"true": "encoder, true multi-view renders", "gen": "encoder, G's multi-view images",
              "mean_shape": "mean shape (true renders)", "sphere": "template sphere"}
    table = ["| trained on (held-out procedurally generated cars) | 3D IoU | Chamfer | "
             "new-angle silhouette IoU |", "|---|---|---|---|"]
    for name, r in rows.items():
        table.append(f"| {labels[name]} | {r['iou']:.3f} | {r['chamfer']:.4f} | "
                     f"{r['novel_view_iou']:.3f} |")
    dis = ["| sweep (G's images; probes trained on true renders) | known contents | "
           "new contents |", "|---|---|---|"]
    for key, text in (("pose_error", "view sweep: pose error (deg)"),
                      ("pose_error_{}_unseen_angles", "... at unseen angles only"),
                      ("identity_kept_view_sweep", "view sweep: identity kept"),
                      ("identity_kept_content_sweep", "content sweep: identity kept"),
                      ("pose_spread_content_sweep", "content sweep: pose spread (deg)")):
        k1 = key.format("known") if "{}" in key else f"{key}_known"
        k2 = key.format("new") if "{}" in key else f"{key}_new"
        dis.append(f"| {text} | {metrics[k1]:.2f} | {metrics[k2]:.2f} |")
    text = "\n".join(table) + "\n\n" + "\n".join(dis)
    run.print(text)
    run.print(f"share of the true-data gain reached with generated data: "
              f"{metrics['gap_closed']:.2f}")
    run.save_text("results.md", f"Procedurally generated toy cars and images generated from "
                  f"them (not real data): {cfg.train_objects} training cars x {cfg.views} views, "
                  f"{cfg.generated_objects} generated contents, {cfg.test_objects} held-out "
                  f"cars.\n\n{text}\n\nShare of the true-data IoU gain reached: "
                  f"{metrics['gap_closed']:.2f}\n\nCPU seconds: "
                  f"{time.process_time() - t0:.0f}\n")
    run.save_figure(grid_figure(gan, cfg, seed), "view_content_grid.png")
    run.save_figure(asset_figure(gen_model, test[0], test[1], cfg, seed,
                                 title="trained on generated views: one photo in, 3D out"),
                    "asset_from_generated.png")
    del true_model
    return metrics


def grid_figure(gan, cfg, seed: int, n_known: int = 3, n_new: int = 4):
    """Rows: contents (training codes, then new samples); columns: view codes."""
    az = torch.arange(8, dtype=torch.float32) * 45.0 + 22.5  # all new angles
    contents = torch.cat([gan.codes[:n_known], sample_content(gan.codes, n_new, seed + 5)])
    rgb, _ = generate_views(gan.generator, contents, az)
    fig, axes = figure(len(az), len(contents), size=(0.95, 0.95), squeeze=False)
    for i in range(len(contents)):
        for j in range(len(az)):
            ax = axes[i, j]
            ax.imshow(rgb[i, j].permute(1, 2, 0).clamp(0, 1).numpy())
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(f"{az[j]:.0f}°", fontsize=7)
        axes[i, 0].set_ylabel("train" if i < n_known else "new", fontsize=7)
    fig.suptitle("G(view, content): rows fix content, columns fix view (trained on procedurally "
                 "generated cars)", fontsize=7)
    fig.tight_layout()
    return fig
